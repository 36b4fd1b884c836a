"""Every way a command ends, and its exit code: the one table (used by the CLI and its --help).

A scheduled job (cron, systemd) reads only the exit code, so each code means one
thing for every command.  :func:`exit_for` maps any exception that reaches the
command line to its code; :func:`help_text` is the 退出码 section of ``--help``.
"""

from __future__ import annotations

import contextlib
import enum
import os
import signal
import sys
from collections.abc import Iterator
from typing import Any


class Exit(enum.IntEnum):
    OK = 0
    FINDINGS = 1
    USAGE = 2
    TOOL = 3
    LOCKED = 4
    INTERRUPTED = 130  # 128 + SIGINT: Ctrl+C
    TERMINATED = 143  # 128 + SIGTERM: stopped by the system (systemd, kill)


MEANING: dict[Exit, str] = {
    Exit.OK: "没有发现错误（run/status：所有单位均已报送并通过）",
    Exit.FINDINGS: "数据有误：有文件或单位未通过校验、未报送、无法读取或交回空表",
    Exit.USAGE: "命令用法错误（含不在工作区中运行）",
    Exit.TOOL: "无法运行：名单、配置、模板、输出目录（含磁盘已满）或报告生成出错",
    Exit.LOCKED: "另一个 nianbao 任务正在写同一个输出文件夹（锁文件 .nianbao.lock）",
    Exit.INTERRUPTED: "被 Ctrl+C 中断（已停止全部子进程、释放锁，未写完的文件已清理）",
    Exit.TERMINATED: "收到终止信号 SIGTERM 而停止（同上）",
}


class ExitWith(Exception):  # noqa: N818 - an instruction to the CLI, not an error kind
    """End the command with ``message`` (Chinese, one line) and exit ``code``."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class Interrupted(BaseException):  # noqa: N818 - like KeyboardInterrupt, not an error
    """SIGINT or SIGTERM arrived: unwind (locks released, temporary files removed) and stop."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def code(self) -> Exit:
        return Exit.TERMINATED if self.signum == signal.SIGTERM else Exit.INTERRUPTED

    @property
    def message(self) -> str:
        what = "收到终止信号（SIGTERM）" if self.code is Exit.TERMINATED else "已按 Ctrl+C"
        return f"已中断：{what}，子进程已停止，锁已释放，未写完的文件已清理。"


def exit_for(exc: BaseException) -> Exit:
    """The exit code of an exception that reached the command line."""
    from nianbao.aggregate import ScopeError
    from nianbao.runner import LockHeld

    table: tuple[tuple[type[BaseException], Exit], ...] = (
        (LockHeld, Exit.LOCKED),
        (ScopeError, Exit.USAGE),
        (Interrupted, Exit.INTERRUPTED),  # refined below by the signal
        (KeyboardInterrupt, Exit.INTERRUPTED),
        (Exception, Exit.TOOL),  # NianbaoError, OSError, MemoryError, anything unexpected
    )
    if isinstance(exc, Interrupted):
        return exc.code
    return next((code for kind, code in table if isinstance(exc, kind)), Exit.TOOL)


def help_text() -> str:
    """The 退出码 section of ``--help`` (click keeps ``\\b`` paragraphs as written)."""
    lines = ["\b", "退出码："] + [f"  {int(code):<3} {text}" for code, text in MEANING.items()]
    return "\n".join(lines)


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """SIGINT and SIGTERM raise :class:`Interrupted` in the main thread while inside.

    A plain KeyboardInterrupt would be swallowed by click and multiprocessing in
    unhelpful ways; one exception type for both signals unwinds every ``with``
    (the lock, temporary files, the worker pool) and ends in one line.
    """
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def raise_interrupted(signum: int, _frame: object) -> None:
        _arm_watchdog(Interrupted(signum))
        raise Interrupted(signum)

    original_hook = sys.unraisablehook

    def signal_again(unraisable: Any) -> None:
        # The handler runs wherever Python happens to be, a finalizer (``__del__``)
        # included, where an exception is printed as "Exception ignored" and dropped:
        # the signal would be lost.  It is sent again in a moment (from a thread: the
        # handler then runs in the main thread's ordinary code, not in this hook).
        if isinstance(unraisable.exc_value, Interrupted):
            again = threading.Timer(0.01, os.kill, (os.getpid(), unraisable.exc_value.signum))
            again.daemon = True
            again.start()
            return
        original_hook(unraisable)

    saved = {s: signal.signal(s, raise_interrupted) for s in _SIGNALS}
    sys.unraisablehook = signal_again
    try:
        yield
    finally:
        sys.unraisablehook = original_hook
        for s, handler in saved.items():
            signal.signal(s, handler)


_SIGNALS = (signal.SIGINT, signal.SIGTERM)

#: Seconds the unwinding after a signal may take before the process ends anyway.
CLEANUP_GRACE_SECONDS = 8.0
_watchdog_armed = False


def _arm_watchdog(stop: Interrupted) -> None:
    """Never a hang after a signal: if unwinding takes too long, stop the workers and exit.

    Unwinding normally takes well under a second.  Should it block (a worker pool
    caught mid-way, a child that ignores the signal), a daemon timer kills this
    process's worker children and ends the process with the signal's exit code.  A
    lock left behind names a dead process, so the next run takes it over.
    """
    global _watchdog_armed
    if _watchdog_armed:
        return
    _watchdog_armed = True
    import threading

    def fire() -> None:
        import multiprocessing

        for child in multiprocessing.active_children():
            with contextlib.suppress(Exception):
                child.kill()
        note = (f"{stop.message.split('，')[0]}，清理超过 {CLEANUP_GRACE_SECONDS:g} 秒，已强制结束；"
                "下次运行会自动接管遗留的锁。\n")
        with contextlib.suppress(OSError):
            os.write(2, note.encode("utf-8", "replace"))
        os._exit(int(stop.code))

    timer = threading.Timer(CLEANUP_GRACE_SECONDS, fire)
    timer.daemon = True
    timer.start()
