"""Untrusted workbooks are read in separate worker processes with a time and memory limit.

A zip bomb, a 10,000-sheet workbook or a reader bug can only take down a worker:
the web process notices (timeout, dead pipe), kills it, starts a fresh one and
turns the upload into a finding.  Workers are started with the ``spawn`` method
(what Windows uses), never ``fork``; each compiles the Word template once.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import queue
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from nianbao import kinds
from nianbao.model import FileReport
from nianbao.settings import Settings

DEFAULT_TIMEOUT = 30.0  # seconds for one workbook
DEFAULT_MEMORY_MB = 1024  # address space of one worker (Linux; ignored where unsupported)


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    timeout: float = DEFAULT_TIMEOUT
    memory_mb: int = DEFAULT_MEMORY_MB


@dataclass(frozen=True, slots=True, kw_only=True)
class Checked:
    """What a worker made of one workbook."""

    report: FileReport
    preview: str | None  # the draft report as an HTML fragment (None: unreadable)


def _limit_memory(memory_mb: int) -> None:
    try:
        import resource
    except ImportError:  # Windows: no rlimits; the time limit still applies
        return
    size = memory_mb * 1024 * 1024
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (size, size))


def _marked(report: FileReport) -> bytes | None:
    """The marked-up copy (:mod:`nianbao.annotate`) of a workbook with findings, as bytes."""
    import tempfile

    from nianbao.annotate import annotate

    if not report.findings:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        out = annotate(report, Path(tmp) / "marked.xlsx")
        return out.read_bytes() if out is not None else None


def _serve(conn: Connection, settings: Settings, template: Path | None, memory_mb: int) -> None:
    """The worker's loop: one request, one answer, until the pipe closes."""
    _limit_memory(memory_mb)
    from nianbao.build import Renderer, default_template
    from nianbao.check import check_file
    from nianbao.context import build_context
    from nianbao.html import render_html

    renderer: Renderer | None = None
    while True:
        try:
            kind, path = conn.recv()
        except (EOFError, OSError):
            return
        try:
            report = check_file(Path(path), settings)
            sub = report.submission
            answer: Any
            if kind == "check":
                preview = None
                if sub is not None:
                    context = build_context(sub, fee_decimals=settings.fee_decimals, draft=True)
                    preview = render_html(context, fragment=True)
                answer = Checked(report=report, preview=preview)
            elif kind == "marked":
                answer = _marked(report)
            else:  # "draft": the .docx bytes
                if sub is None:
                    answer = None
                else:
                    renderer = renderer or Renderer(template or default_template(), settings)
                    answer, _ = renderer.render(sub, draft=True, html=False)
            conn.send(("ok", answer))
        except MemoryError:
            conn.send(("memory", None))
        except Exception as exc:  # noqa: BLE001 - reported to the web process as a finding
            conn.send(("error", type(exc).__name__))


class _Worker:
    def __init__(self, ctx: Any, settings: Settings, template: Path | None, limits: Limits):
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_serve, args=(child, settings, template,
                                                        limits.memory_mb), daemon=True)
        self.process.start()
        child.close()

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            self.process.kill()
            self.process.join(5)
        with contextlib.suppress(Exception):
            self.conn.close()


class Failed(Exception):
    """The worker ran out of time or memory, or died; ``message`` is for the agency."""


class Sandbox:
    """A small pool of spawned worker processes; thread-safe, blocking calls."""

    def __init__(self, settings: Settings, template: Path | None = None, *, size: int = 2,
                 limits: Limits | None = None) -> None:
        self.settings, self.template, self.limits = settings, template, limits or Limits()
        self._ctx = multiprocessing.get_context("spawn")
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: list[_Worker] = []
        self._lock = threading.Lock()
        for _ in range(size):
            self._add()

    def _add(self) -> None:
        worker = _Worker(self._ctx, self.settings, self.template, self.limits)
        with self._lock:
            self._all.append(worker)
        self._idle.put(worker)

    def _replace(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            if worker in self._all:
                self._all.remove(worker)
        self._add()

    def _call(self, kind: str, path: Path) -> Any:
        worker = self._idle.get()
        try:
            worker.conn.send((kind, str(path)))
            if not worker.conn.poll(self.limits.timeout):
                raise Failed(f"处理超过 {self.limits.timeout:g} 秒仍未完成")
            status, answer = worker.conn.recv()
        except Failed:
            self._replace(worker)
            raise
        except (EOFError, OSError, BrokenPipeError) as exc:
            self._replace(worker)
            raise Failed("处理时占用内存过多或进程意外退出") from exc
        self._idle.put(worker)
        if status == "memory":
            self._replace(worker)  # a worker that hit its limit may be in a bad state
            raise Failed("处理时占用内存超过限制")
        if status != "ok":
            raise Failed(f"处理时发生意外错误（{answer}）")
        return answer

    def check(self, path: Path) -> Checked:
        """Check a workbook; a worker failure becomes a file-level finding."""
        try:
            result = self._call("check", path)
        except Failed as exc:
            finding = kinds.finding("file-too-complex", reason=str(exc))
            return Checked(report=FileReport(file=path, submission=None, findings=(finding,)),
                           preview=None)
        assert isinstance(result, Checked)
        return result

    def draft(self, path: Path) -> bytes | None:
        """The draft report (.docx) of a readable workbook; None when it cannot be made."""
        try:
            result = self._call("draft", path)
        except Failed:
            return None
        return result if isinstance(result, bytes) else None

    def marked(self, path: Path) -> bytes | None:
        """The marked-up copy (.xlsx) of a workbook with findings; None when there is none."""
        try:
            result = self._call("marked", path)
        except Failed:
            return None
        return result if isinstance(result, bytes) else None

    def close(self) -> None:
        with self._lock:
            workers, self._all = self._all, []
        for worker in workers:
            worker.kill()
