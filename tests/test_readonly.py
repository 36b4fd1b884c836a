"""No command writes to, moves, renames or locks a returned workbook.

Returned workbooks are evidence: nianbao only reads them.  Each command runs in its
own process over a workspace whose inputs/ holds valid forms and a sample of the
bad-input corpus; afterwards every file and folder under inputs/ must be exactly as
before: same names, same bytes, same size, mode and mtime, and no folder touched
(a folder's mtime changes when anything is created in it, even if later removed,
so temporary and lock files such as ``~$x.xlsx`` or ``.~lock.x#`` are caught too).
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nianbao.check import check_paths
from nianbao.intake import intake_from, write_intake
from nianbao.synth import random_submission

CORPUS = Path(__file__).resolve().parent / "fixtures" / "bad"
YEAR = 2025
BAD_SAMPLE = ("f01-truncated-zip.xlsx", "f03-real-xls.xls", "f06-encrypted.xlsx",
              "f09-external-links.xlsx", "f10-macros.xlsm", "s06-sheet-duplicated-different.xlsx",
              "s09-stray-far-cell.xlsx", "v24-claim-typed-total.xlsx", "m03-other-units-form.xlsx")
ROSTER = "单位编码,单位全称,层级\nSYN-00011,东平县公安局,县级部门\nSYN-00002,临河县教育局,县级部门\n"
Snapshot = dict[str, tuple[object, ...]]


def _nianbao(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONWARNINGS": "error::ResourceWarning"}
    return subprocess.run([sys.executable, "-m", "nianbao", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def _commands() -> set[str]:
    out = _nianbao("--help", cwd=Path.cwd()).stdout
    section = out.split("Commands:", 1)[-1]
    return {line.split()[0] for line in section.splitlines() if line.strip()}


COMMANDS = _commands()


def snapshot(root: Path) -> Snapshot:
    state: Snapshot = {}
    for path in sorted([root, *root.rglob("*")]):
        st = path.lstat()
        rel = str(path.relative_to(root))
        if path.is_dir():
            state[rel + "/"] = ("dir", st.st_mode, st.st_mtime_ns)
        else:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            state[rel] = (digest, st.st_size, st.st_mode, st.st_mtime_ns)
    return state


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    ws = tmp_path / "ws"
    made = _nianbao("init", str(ws), "--year", str(YEAR), "--roster", str(roster), cwd=tmp_path)
    if made.returncode != 0:  # the workspace commands belong to others: test check alone then
        ws.mkdir()
        (ws / "inputs").mkdir()
    inputs = ws / "inputs"
    for index in (11, 2):
        sub = random_submission(random.Random(index), index=index, year=YEAR)
        write_intake(inputs / f"{sub.agency}.xlsx", intake_from(sub))
    (inputs / "有问题的").mkdir()
    for name in BAD_SAMPLE:
        shutil.copy2(CORPUS / name, inputs / "有问题的" / name)
    # Old timestamps, so that a rewrite within the same clock tick would still show.
    for path in inputs.rglob("*"):
        os.utime(path, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    os.utime(inputs, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    return ws


def test_readonly_library_check_paths(workspace: Path) -> None:
    inputs = workspace / "inputs"
    before = snapshot(inputs)

    reports = check_paths([inputs])

    assert len(reports) == 2 + len(BAD_SAMPLE)
    assert snapshot(inputs) == before


CASES = {
    "check": lambda ws: ("check", str(ws / "inputs"), "--year", str(YEAR)),
    "check --json": lambda ws: ("check", "--json", str(ws / "inputs")),
    "build": lambda ws: ("build", str(ws / "inputs"), "-o", str(ws.parent / "out"), "--year",
                         str(YEAR), "--html", "-j", "2"),
    "status": lambda ws: ("status", "-w", str(ws)),
    "summary": lambda ws: ("summary", "-w", str(ws)),
    "run": lambda ws: ("run", "-w", str(ws), "--html", "-j", "2"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_readonly_command_leaves_inputs_untouched(name: str, workspace: Path) -> None:
    command = name.split()[0]
    if command not in COMMANDS:
        pytest.skip(f"`nianbao {command}` does not exist (yet)")
    if command in ("status", "summary", "run"):
        assert (workspace / "nianbao.toml").exists(), "`nianbao init` could not make a workspace"
    inputs = workspace / "inputs"
    before = snapshot(inputs)

    result = _nianbao(*CASES[name](workspace), cwd=workspace)

    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode in (0, 1), (result.returncode, result.stderr[-2000:])
    assert snapshot(inputs) == before
