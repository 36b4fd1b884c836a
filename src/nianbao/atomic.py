"""Write files so that a killed run leaves either the old file or the new one, never half."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

TMP_PREFIX = ".nianbao-tmp-"


@contextlib.contextmanager
def atomic_write(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``.

    The temporary file lives in the same folder (so the rename is atomic) and
    starts with :data:`TMP_PREFIX`, so leftovers of a killed run are easy to
    recognise and clean.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=TMP_PREFIX, suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def write_bytes(path: Path, data: bytes) -> None:
    """Atomically write ``data`` to ``path``."""
    with atomic_write(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def clean_leftovers(folder: Path) -> int:
    """Remove temporary files a killed run left in ``folder``; return how many."""
    removed = 0
    if folder.is_dir():
        for leftover in folder.rglob(TMP_PREFIX + "*"):
            with contextlib.suppress(OSError):
                leftover.unlink()
                removed += 1
    return removed
