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
