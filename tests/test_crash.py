"""A build killed with SIGKILL at random moments leaves only complete files; the next run finishes."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import docx

from nianbao.atomic import TMP_PREFIX
from nianbao.build import MANIFEST
from nianbao.intake import intake_from, write_intake
from nianbao.synth import random_submission

N = 100


def _complete(out: Path) -> None:
    for path in out.iterdir():
        if path.name.startswith(TMP_PREFIX):
            continue  # an unfinished temporary file; never a report, removed by the next run
        if path.suffix == ".docx":
            assert zipfile.ZipFile(path).testzip() is None, path
            docx.Document(str(path))
        elif path.suffix == ".json":
            json.loads(path.read_text("utf-8"))
        elif path.suffix == ".html":
            assert path.read_text("utf-8").rstrip().endswith("</html>"), path


def test_crash_sigkill_mid_build_then_resume(tmp_path: Path) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    rng = random.Random(5)
    for i in range(N):
        write_intake(src / f"u{i:03d}.xlsx", intake_from(random_submission(rng, index=i)))
    cmd = [sys.executable, "-m", "nianbao", "build", str(src), "-o", str(out), "--html",
           "--jobs", "2"]
    delays = random.Random(11)
    kills = 0
    for _ in range(5):
        # --force: every attempt does the whole job, so the kill lands mid-build
        proc = subprocess.Popen([*cmd, "--force", "--quiet"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(delays.uniform(0.2, 1.0))
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its worker processes
            kills += 1
        proc.wait()
        if out.exists():
            _complete(out)

    final = subprocess.run([*cmd, "--json"], capture_output=True, text=True, check=False)

    assert final.returncode == 0, final.stderr
    counts = json.loads(final.stdout)["counts"]
    assert counts["built"] + counts["unchanged"] == N
    assert kills >= 3
    assert not [p for p in out.iterdir() if p.name.startswith(TMP_PREFIX)]
    assert len(list(out.glob("*.docx"))) == N and len(list(out.glob("*.html"))) == N
    _complete(out)
    json.loads((out / MANIFEST).read_text("utf-8"))
    again = subprocess.run([*cmd, "--json"], capture_output=True, text=True, check=True)
    assert json.loads(again.stdout)["counts"]["unchanged"] == N
