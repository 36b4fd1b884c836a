"""The ``nianbao`` command's first lines: Ctrl+C or SIGTERM while Python is still loading.

Importing the command line takes a moment (click, openpyxl, jinja2, …).  A
signal in that moment used to print a KeyboardInterrupt traceback (SIGINT) or
kill the process without a word (SIGTERM).  These handlers, installed before
anything heavy is imported, end it with the same line and exit code (130/143)
as a signal later on; nothing has been written yet, so there is nothing to undo.
Once a command runs, :func:`nianbao.exitcodes.interruptible` takes over.
"""

from __future__ import annotations

import os
import signal
from types import FrameType

from nianbao.exitcodes import Interrupted  # light: no third-party import


def _early(signum: int, _frame: FrameType | None) -> None:
    stop = Interrupted(signum)
    os.write(2, (stop.message + "\n").encode("utf-8", "replace"))
    os._exit(int(stop.code))


def main() -> None:
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _early)
    from nianbao.cli import main as cli

    cli()
