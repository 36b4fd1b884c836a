"""Privacy: applicant names and content summaries never leave the register.

A workspace whose units return forms with registers (some with late replies and
register errors) goes through check --annotate, run (status pages, feedback, 批注
copies, reports, logs) and summary; no file written may contain a name or a summary.
"""

from __future__ import annotations

import html
import os
import random
import zipfile
from pathlib import Path

from click.testing import CliRunner
from cyclekit import county_rows, submission, write_roster_xlsx

from nianbao.cli import main
from nianbao.intake import intake_from
from nianbao.register_form import RegisterRows, write_register_form
from nianbao.register_synth import random_register

ROWS = county_rows()[:3]
TEXT_SUFFIXES = (".txt", ".html", ".htm", ".log", ".json", ".csv", ".md")


def _in(folder: Path, runner: CliRunner, args: list[str]) -> object:
    cwd = Path.cwd()
    os.chdir(folder)
    try:
        return runner.invoke(main, args)
    finally:
        os.chdir(cwd)


def file_text(path: Path) -> str:
    """Every character a file holds: the parts of a .docx/.xlsx or the file itself, with
    character references (&#23380;, which openpyxl writes) decoded."""
    if path.suffix in (".docx", ".xlsx"):
        with zipfile.ZipFile(path) as zf:
            raw = "".join(zf.read(n).decode("utf-8", "replace") for n in zf.namelist())
    else:
        raw = path.read_bytes().decode("utf-8", "replace")
    return html.unescape(raw)


def test_no_output_holds_an_applicant_name_or_a_content_summary(tmp_path: Path) -> None:
    runner = CliRunner()
    roster = write_roster_xlsx(tmp_path / "名单.xlsx", ROWS)
    ws = tmp_path / "2025"
    made = runner.invoke(main, ["init", str(ws), "--year", "2025", "--roster", str(roster)])
    assert made.exit_code == 0, made.output
    private: set[str] = set()
    for i, row in enumerate(ROWS):
        syn = random_register(random.Random(i), 2025, 80, late=0.2, cases=3)
        apps = [dict(r) for r in syn.rows.applications]
        if i == 0:  # register errors too: a duplicate 编号 and an unfinished application
            apps[1]["no"] = apps[0]["no"]
            apps[2].pop("result", None)
            apps[2].pop("replied", None)
        write_register_form(ws / "inputs" / f"{row.short}.xlsx", intake_from(
            submission(row, seed=i, year=2025)), RegisterRows(applications=apps,
                                                              cases=syn.rows.cases))
        private |= {str(r[k]) for r in apps for k in ("applicant", "summary")}
        private |= {n for n in syn.names if len(n) >= 3}

    checked = _in(ws, runner, ["check", "inputs", "--annotate", "批注"])
    ran = _in(ws, runner, ["run"])
    summed = _in(ws, runner, ["summary"])

    for result in (checked, ran, summed):
        out = result.output  # type: ignore[attr-defined]
        assert not [p for p in private if p in out], out[:2000]
    written = [p for folder in (ws / "outputs", ws / "批注") for p in folder.rglob("*")
               if p.is_file()]
    kinds = {p.suffix for p in written}
    assert {".docx", ".xlsx", ".html", ".txt", ".log"} <= kinds, kinds
    assert any(p.name.endswith("_批注.xlsx") for p in written)
    assert any("reg-" in file_text(p) for p in written if p.suffix in TEXT_SUFFIXES)
    leaks = {p.name: sorted(s for s in private if s in file_text(p))[:3] for p in written}
    assert {name: found for name, found in leaks.items() if found} == {}
    assert len(private) > 300
