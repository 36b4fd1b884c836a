"""After SIGINT/SIGTERM the process ends even if unwinding blocks (never a hang)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest

SCRIPT = textwrap.dedent("""
    import multiprocessing, os, signal, time
    from nianbao import exitcodes

    exitcodes.CLEANUP_GRACE_SECONDS = 1.0

    def sleeper():
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a child that ignores the signal
        time.sleep(600)

    if __name__ == "__main__":
        child = multiprocessing.Process(target=sleeper)
        child.start()
        print(child.pid, flush=True)
        with exitcodes.interruptible():
            try:
                os.kill(os.getpid(), signal.{signal})
                time.sleep(0.5)
            except exitcodes.Interrupted:
                time.sleep(600)  # unwinding that never finishes
""")


@pytest.mark.parametrize(("signal", "code"), [("SIGTERM", 143), ("SIGINT", 130)])
def test_blocked_unwinding_is_ended_by_the_watchdog(tmp_path, signal: str, code: int) -> None:  # type: ignore[no-untyped-def]
    script = tmp_path / "stuck.py"
    script.write_text(SCRIPT.replace("{signal}", signal), encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == code, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("已中断") and "强制结束" in lines[0], lines
    assert "Traceback" not in done.stderr
    child = int(done.stdout.split()[0])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the ignoring child was killed, not left behind
        try:
            with open(f"/proc/{child}/status", encoding="utf-8") as fh:
                if "State:\tZ" in fh.read():
                    break
        except FileNotFoundError:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"worker {child} still running")


IDLE_POOL = textwrap.dedent("""
    import multiprocessing, sys, time
    from nianbao import pool

    def double(x):
        return 2 * x

    if __name__ == "__main__":
        ctx = multiprocessing.get_context("{method}")
        p = ctx.Pool(2)
        assert p.map(double, [1, 2, 3]) == [2, 4, 6]
        time.sleep(0.5)  # both workers idle: one waits for a job holding the queue's lock
        started = time.monotonic()
        pool._kill(p)
        print(round(time.monotonic() - started, 2), flush=True)
""")


@pytest.mark.parametrize("method", ["forkserver", "spawn"])
def test_stopping_a_pool_with_idle_workers_does_not_hang(tmp_path, method: str) -> None:  # type: ignore[no-untyped-def]
    """Killing the workers first (the old way) left the queue lock held by a dead worker, and
    the pool's termination waited for it forever: a run that hangs after Ctrl+C."""
    script = tmp_path / "idle.py"
    script.write_text(IDLE_POOL.replace("{method}", method), encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert float(done.stdout.strip()) < 5.0  # within TERMINATE_SECONDS and a kill
    assert "Traceback" not in done.stderr


FINALIZER = textwrap.dedent("""
    import gc, signal, sys
    from nianbao import exitcodes

    exitcodes.CLEANUP_GRACE_SECONDS = 30.0

    class Holder:
        def __del__(self):  # a signal that arrives while a finalizer runs
            signal.raise_signal(signal.SIGTERM)
            sum(range(10))  # the handler raises here, inside __del__: Python drops it

    with exitcodes.interruptible():
        try:
            Holder()
            gc.collect()
            for _ in range(10_000_000):
                pass
            print("lost", flush=True)
        except exitcodes.Interrupted as stop:
            print("stopped", stop.signum, flush=True)
""")


def test_a_signal_raised_inside_a_finalizer_is_not_lost(tmp_path) -> None:  # type: ignore[no-untyped-def]
    script = tmp_path / "finalizer.py"
    script.write_text(FINALIZER, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=60)
    assert done.stdout.strip() == "stopped 15", (done.stdout, done.stderr)
    assert "Exception ignored" not in done.stderr and "Traceback" not in done.stderr


def test_work_alongside_gives_its_result_or_its_error() -> None:
    from nianbao.pool import alongside

    with alongside(lambda _stop: 41 + 1) as result:
        pass
    assert result() == 42
    with alongside(lambda _stop: int("x")) as failing:
        pass
    with pytest.raises(ValueError):
        failing()


def test_work_alongside_is_stopped_when_the_body_fails() -> None:
    import threading

    from nianbao.pool import alongside

    seen: list[str] = []

    def work(stop: threading.Event) -> str:
        while not stop.wait(0.01):  # steps until asked to stop
            pass
        seen.append(threading.current_thread().name)
        return "stopped"

    with pytest.raises(KeyboardInterrupt), alongside(work):
        raise KeyboardInterrupt  # e.g. SIGINT while the workers render
    assert seen == ["nianbao-alongside"]  # it saw the stop and ended before the error went on
    assert not any(t.name == "nianbao-alongside" for t in threading.enumerate())
