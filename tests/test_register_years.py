"""Across years: last year's 结转下年度 编号 must come back as this year's 上年结转 编号."""

from __future__ import annotations

import os
import random
from pathlib import Path

from click.testing import CliRunner
from cyclekit import county_rows, write_roster_xlsx

from nianbao.check import check_file
from nianbao.cli import main
from nianbao.intake import IntakeData
from nianbao.previous import load_previous, with_cross_year
from nianbao.register_form import RegisterRows, write_register_form
from nianbao.register_synth import random_register

ROW = county_rows()[0]


def _form(path: Path, year: int, carried_in: dict[str, str], seed: int
          ) -> tuple[Path, dict[str, str]]:
    syn = random_register(random.Random(seed), year, 60, carried_in=carried_in, prefix="QS")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_register_form(path, IntakeData(agency=ROW.name, code=ROW.code, year=year),
                        RegisterRows(applications=syn.rows.applications))
    return path, syn.carried_types


def _last_year_with_carryover(folder: Path) -> tuple[Path, dict[str, str]]:
    for seed in range(50):  # a register whose year ends with at least three open applications
        path, out = _form(folder / "教育局2024.xlsx", 2024, {}, seed)
        if len(out) >= 3:
            return path, out
    raise AssertionError("no random register carried three applications over")


def test_missing_and_unexpected_carried_applications_are_named(tmp_path: Path) -> None:
    _, out = _last_year_with_carryover(tmp_path / "2024")
    *kept, dropped = out
    this, _ = _form(tmp_path / "2025" / "教育局.xlsx", 2025,
                    {**{no: out[no] for no in kept}, "QS2024-99999": "自然人"}, seed=1)

    report = with_cross_year(check_file(this), load_previous(tmp_path / "2024"))

    missing = [f for f in report.findings if f.code == "reg-xyear-missing"]
    unexpected = [f for f in report.findings if f.code == "reg-xyear-unexpected"]
    assert len(missing) == 1 and dropped in missing[0].message
    assert not any(no in missing[0].message for no in kept)
    assert "教育局2024.xlsx" in missing[0].message
    assert len(unexpected) == 1 and "QS2024-99999" in unexpected[0].message
    assert unexpected[0].sheet == "依申请公开登记台账" and unexpected[0].cell is not None
    assert unexpected[0].cell.startswith("A")  # the 编号 cell of that row


def test_carried_applications_that_all_come_back_give_no_finding(tmp_path: Path) -> None:
    _, out = _last_year_with_carryover(tmp_path / "2024")
    this, _ = _form(tmp_path / "2025" / "教育局.xlsx", 2025, out, seed=2)

    report = with_cross_year(check_file(this), load_previous(tmp_path / "2024"))

    assert [f.code for f in report.findings if "xyear" in f.code] == []


def _in(folder: Path, runner: CliRunner, args: list[str]) -> object:
    cwd = Path.cwd()
    os.chdir(folder)
    try:
        return runner.invoke(main, args)
    finally:
        os.chdir(cwd)


def test_last_years_carried_numbers_come_from_the_archive(tmp_path: Path) -> None:
    runner = CliRunner()
    roster = write_roster_xlsx(tmp_path / "名单.xlsx", [ROW])
    for year in (2024, 2025):
        made = runner.invoke(main, ["init", str(tmp_path / str(year)), "--year", str(year),
                                    "--roster", str(roster)])
        assert made.exit_code == 0, made.output
    _, out = _last_year_with_carryover(tmp_path / "2024" / "inputs")
    built = _in(tmp_path / "2024", runner, ["build"])
    assert built.exit_code in (0, 1), built.output  # type: ignore[attr-defined]
    os.remove(next((tmp_path / "2024" / "inputs").glob("*.xlsx")))  # only the archive is left
    first, *rest = out
    _form(tmp_path / "2025" / "inputs" / "教育局.xlsx", 2025, {no: out[no] for no in rest}, seed=3)

    checked = _in(tmp_path / "2025", runner, ["check", "inputs"])

    text = checked.output  # type: ignore[attr-defined]
    assert "reg-xyear-missing" in text and first in text, text
    assert "reg-xyear-unexpected" not in text
