"""The build's worker processes: any start method, clean on signals, never hung.

* Nothing depends on ``fork``: each worker sets itself up once in an
  initializer (the build compiles the template there), so ``spawn`` (Windows,
  macOS) behaves like ``fork``.  ``NIANBAO_START_METHOD`` chooses one explicitly.
* Workers ignore SIGINT (a Ctrl+C reaches the whole process group; only the main
  process reacts) and die quietly on SIGTERM.  Both signals are blocked while
  the workers start, so a signal in that instant is delivered to the main
  process afterwards rather than printing a worker's traceback.
* When the main process stops (an exception, Ctrl+C, SIGTERM) the pool is
  terminated at once (its workers killed if that does not end within seconds);
  and when no result arrives for ``stall_seconds`` the pool is killed and the
  jobs not done are returned as stalled, so a run never hangs.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Generator, Iterator, Sequence
from typing import Any, TypeVar

J = TypeVar("J")
R = TypeVar("R")

STALL_SECONDS = 600.0  # no result from any worker for this long: they are stuck
_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def start_method() -> str:
    """``NIANBAO_START_METHOD`` if set (and available), else ``forkserver`` where there is one
    (Linux), else the platform's default (``spawn``).

    Not ``fork``: workers forked from a main process that already holds a season's
    records would each show (and, once written to, copy) all of its memory.  A
    fork server is started while the main process is still small, and its
    workers import what they need.
    """
    wanted = os.environ.get("NIANBAO_START_METHOD", "")
    available = multiprocessing.get_all_start_methods()
    if wanted in available:
        return wanted
    if "forkserver" in available:
        return "forkserver"
    return multiprocessing.get_start_method(allow_none=False)


def _start_quiet_forkserver() -> None:
    """Start the fork server (once) with its standard error on the null device.

    A worker the server forks while the main process is being stopped (Ctrl+C,
    a termination signal) finds the main's semaphores gone and would print
    Python's traceback on the user's terminal.  The workers report through
    their results, never on standard error, so nothing is lost.
    """
    from multiprocessing import forkserver

    saved = os.dup(2)
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, 2)
            forkserver.ensure_running()  # a no-op when it already runs
        finally:
            os.dup2(saved, 2)
            os.close(null)
    finally:
        os.close(saved)


@contextlib.contextmanager
def _signals_blocked() -> Iterator[None]:
    if not hasattr(signal, "pthread_sigmask"):  # Windows: no signal masks
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _worker_start(setup: Callable[..., None] | None, args: tuple[Any, ...]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)
    if setup is not None:
        setup(*args)


TERMINATE_SECONDS = 3.0


def _kill(pool: Any) -> None:
    """Stop the pool now; its workers are killed (SIGKILL) if it does not stop in time.

    Killing the workers first can hang the pool for good: an idle worker waits
    for its next job holding the job queue's lock, and a lock whose holder was
    killed is never released, so the pool's own termination would wait for it
    forever.  The pool is asked first (it ends its idle workers, then sends
    SIGTERM to the busy ones); only if that takes longer than
    :data:`TERMINATE_SECONDS` are the workers killed and the pool left behind.
    """
    import threading

    stopper = threading.Thread(target=pool.terminate, name="nianbao-pool-stop", daemon=True)
    stopper.start()
    stopper.join(TERMINATE_SECONDS)
    if stopper.is_alive():
        for child in multiprocessing.active_children():
            with contextlib.suppress(OSError, ValueError, AttributeError):
                child.kill()
        stopper.join(1.0)


def run_jobs(work: Callable[[J], R], jobs: Sequence[J], *, workers: int,
             setup: Callable[..., None] | None = None, setup_args: tuple[Any, ...] = (),
             method: str | None = None, chunk: int = 1,
             stall_seconds: float = STALL_SECONDS
             ) -> Generator[tuple[J, R] | tuple[J, None], None, None]:
    """``(job, work(job))`` for every job, in completion order, from ``workers`` processes.

    A job whose result never came (the workers stalled and were killed) is
    yielded as ``(job, None)``, after the others.  Closing the generator early
    stops the workers.
    """
    method = method or start_method()
    ctx = multiprocessing.get_context(method)
    if method == "forkserver":
        _start_quiet_forkserver()
    with _signals_blocked():
        pool = ctx.Pool(workers, initializer=_worker_start, initargs=(setup, setup_args))
    pending = dict(enumerate(jobs))
    items = list(pending.items())
    batches = [items[i:i + chunk] for i in range(0, len(items), max(1, chunk))]
    try:  # batches of one item each for the pool: its iterator then honours a timeout
        results = pool.imap_unordered(_Batch(work), batches, 1)
        while pending:
            try:
                batch = results.next(timeout=stall_seconds)
            except StopIteration:
                break
            except multiprocessing.TimeoutError:
                _kill(pool)
                for job in pending.values():
                    yield job, None
                return
            for index, result in batch:
                yield pending.pop(index), result
        pool.close()
        pool.join()
    except BaseException:
        _kill(pool)
        raise


class _Batch:
    """``work`` applied to each ``(index, job)`` of a batch, answering ``(index, result)``s."""

    def __init__(self, work: Callable[[Any], Any]) -> None:
        self.work = work

    def __call__(self, batch: list[tuple[int, Any]]) -> list[tuple[int, Any]]:
        return [(index, self.work(job)) for index, job in batch]


# ------------------------------------------------------------ work of this process

STOP_PATIENCE_SECONDS = 5.0  # how long a stopped background task is waited for


@contextlib.contextmanager
def alongside(work: Callable[[threading.Event], R]) -> Iterator[Callable[[], R]]:
    """Run ``work`` in a thread while the ``with`` body runs; yields a function that
    waits for it and returns its result (or raises its exception).

    For work of this process done while the body mostly waits on worker processes
    (the archive written while the workers render).  If the body (or the wait)
    raises, e.g. on SIGINT, the event ``work`` was given is set and the thread gets
    :data:`STOP_PATIENCE_SECONDS` before the exception goes on; ``work`` checks the
    event between steps and stops without leaving anything half-written.
    """
    stop = threading.Event()
    box: list[tuple[bool, object]] = []

    def target() -> None:
        try:
            box.append((True, work(stop)))
        except BaseException as exc:  # handed to the waiting thread
            box.append((False, exc))

    thread = threading.Thread(target=target, name="nianbao-alongside", daemon=True)
    thread.start()

    def result() -> R:
        thread.join()
        ok, value = box[0]
        if not ok:
            assert isinstance(value, BaseException)
            raise value
        return value  # type: ignore[return-value]

    try:
        yield result
    except BaseException:
        stop.set()
        thread.join(STOP_PATIENCE_SECONDS)
        raise
