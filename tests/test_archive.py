"""The archive: filled by build, run and import; read by the cross-year checks; exported long."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from cyclekit import county_rows, submission, write_form, write_roster_xlsx

from nianbao.archive import (
    Entry,
    long_rows,
    previous_data,
    read_long,
    store,
    submissions,
    write_long,
)
from nianbao.build import render_report
from nianbao.cli import main
from nianbao.db import make_engine, upgrade
from nianbao.schema import GB2021

ROWS = county_rows()[:3]


def _init(root: Path, year: int, runner: CliRunner) -> Path:
    roster = write_roster_xlsx(root.parent / f"名单{year}.xlsx", ROWS)
    result = runner.invoke(main, ["init", str(root), "--year", str(year), "--roster", str(roster)])
    assert result.exit_code == 0, result.output
    return root


def _in(folder: Path, runner: CliRunner, args: list[str]) -> object:
    cwd = Path.cwd()
    os.chdir(folder)
    try:
        return runner.invoke(main, args)
    finally:
        os.chdir(cwd)


def _carryover_mismatch(last_year_sub, this_year: int):  # type: ignore[no-untyped-def]
    """This year's submission of the same unit whose 上年结转 differs from last year's 结转."""
    sub = submission(ROWS[0], seed=7, year=this_year)
    return sub, {"t3.r2.natural": int(last_year_sub.values["t3.r4.natural"]) + 3}


def test_archive_build_then_next_years_workspace_finds_last_year(tmp_path: Path) -> None:
    runner = CliRunner()
    ws24 = _init(tmp_path / "2024", 2024, runner)
    ws25 = _init(tmp_path / "2025", 2025, runner)
    last = submission(ROWS[0], seed=3, year=2024)
    write_form(ws24 / "inputs" / "教育局.xlsx", last)

    built = _in(ws24, runner, ["build"])

    assert built.exit_code == 0, built.output  # type: ignore[attr-defined]
    sub, edits = _carryover_mismatch(last, 2025)
    write_form(ws25 / "inputs" / "教育局.xlsx", sub, edits=edits)
    checked = _in(ws25, runner, ["check", "inputs"])
    assert "xyear-carryover" in checked.output  # type: ignore[attr-defined]
    assert 'previous = ""' in (ws25 / "nianbao.toml").read_text("utf-8")  # none configured
    assert "2024" in checked.output  # type: ignore[attr-defined]


def test_archive_import_gives_a_first_year_workspace_its_last_year(tmp_path: Path) -> None:
    runner = CliRunner()
    ws = _init(tmp_path / "2025", 2025, runner)
    last = submission(ROWS[0], seed=5, year=2024)
    reports = tmp_path / "去年报告"
    reports.mkdir()
    render_report(last, reports / "教育局2024年报.docx")

    imported = _in(ws, runner, ["import", str(reports), "-o", "导入"])

    assert imported.exit_code == 0, imported.output  # type: ignore[attr-defined]
    assert "已存入归档：1 个单位" in imported.output  # type: ignore[attr-defined]
    sub, edits = _carryover_mismatch(last, 2025)
    write_form(ws / "inputs" / "教育局.xlsx", sub, edits=edits)
    ran = _in(ws, runner, ["run", "--quiet", "--skip-build"])
    assert ran.exit_code in (0, 1)  # type: ignore[attr-defined]
    status = (ws / "outputs" / "status.html").read_text("utf-8")
    assert "xyear-carryover" in status
    log = next((ws / "outputs" / "logs").glob("run-*.log")).read_text("utf-8")
    assert "归档数据（2024年）" in log


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_archive_export_round_trips(tmp_path: Path, db_url: str, suffix: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    subs = [submission(row, seed=i, year=2024) for i, row in enumerate(ROWS)]
    subs.append(submission(ROWS[0], seed=9, year=2023))
    store(engine, [Entry(submission=s, origin="import", valid=True) for s in subs])
    store(engine, [Entry(submission=subs[0], origin="build", valid=True)])  # replaces, not adds

    path = write_long(list(long_rows(engine)), tmp_path / f"归档{suffix}")

    back = read_long(path)
    assert back == list(long_rows(engine))
    assert len(back) == len(subs) * len(GB2021.cells)
    got = {(s.code, s.year): s for s in submissions(engine)}
    for sub in subs:
        values = got[(sub.code, sub.year)].values
        assert all(values[k] == sub.values[k] for k in GB2021.cells)
    last = previous_data(engine, 2024)
    assert last is not None and set(last.by_code) == {r.code for r in ROWS}
    assert previous_data(engine, 2022) is None
    engine.dispose()


def test_store_over_many_chunks_keeps_each_units_values(tmp_path: Path, db_url: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Written a few units at a time: every value lands on its own unit-year, and a later
    copy of a unit-year in the same call (or the same chunk) replaces the earlier one."""
    import nianbao.archive as archive

    monkeypatch.setattr(archive, "STORE_CHUNK", 2)
    engine = make_engine(db_url)
    upgrade(engine)
    rows = county_rows()[:5]
    first = [submission(row, seed=i, year=2024) for i, row in enumerate(rows)]
    again = submission(rows[1], seed=40, year=2024)  # the same unit-year, later in the call
    older = submission(rows[0], seed=41, year=2023)

    stored = store(engine, (Entry(submission=s, origin="run", valid=True)
                            for s in [first[0], first[1], again, *first[2:], older]))

    assert stored == 7
    got = {(s.code, s.year): s for s in submissions(engine)}
    assert len(got) == 6
    expected = {**{(s.code, 2024): s for s in first}, (again.code, 2024): again,
                (older.code, 2023): older}
    for key, sub in expected.items():
        assert all(got[key].values[k] == sub.values[k] for k in GB2021.cells), key
    assert len(list(long_rows(engine))) == 6 * len(GB2021.cells)
    engine.dispose()


def test_storing_the_same_data_again_leaves_the_rows_and_replaces_what_changed(
        db_url: str) -> None:
    """A nightly run stores every unit again: only the unit-years whose data changed are
    rewritten (new row, new time); the others keep their row; rows archived before the
    digest was recorded are rewritten once."""
    import dataclasses

    from sqlalchemy import select, update

    from nianbao.db.tables import archive_reports

    engine = make_engine(db_url)
    upgrade(engine)
    subs = [submission(row, seed=i, year=2024) for i, row in enumerate(ROWS)]
    store(engine, [Entry(submission=s, origin="run", valid=True) for s in subs])

    def rows() -> dict[str, tuple[int, object, str | None]]:
        with engine.connect() as conn:
            return {r.code: (r.id, r.updated_at, r.digest) for r in conn.execute(
                select(archive_reports.c.code, archive_reports.c.id,
                       archive_reports.c.updated_at, archive_reports.c.digest))}

    before = rows()
    assert all(digest for _, _, digest in before.values())
    changed = dataclasses.replace(subs[1], values={**subs[1].values, "t3.r1.natural": 777,
                                                   "t3.r1.total": 777})
    with engine.begin() as conn:  # as a row archived by an older version
        conn.execute(update(archive_reports).where(archive_reports.c.code == subs[2].code)
                     .values(digest=None))

    stored = store(engine, [Entry(submission=s, origin="run", valid=True)
                            for s in (subs[0], changed, subs[2])])

    after = rows()
    assert stored == 3
    assert after[subs[0].code] == before[subs[0].code]  # the same data: untouched
    assert after[subs[1].code][1] != before[subs[1].code][1]  # changed: written again
    assert after[subs[2].code][1] != before[subs[2].code][1] and after[subs[2].code][2]
    got = {s.code: s for s in submissions(engine)}
    assert got[subs[1].code].values["t3.r1.natural"] == 777
    assert all(got[subs[0].code].values[k] == subs[0].values[k] for k in GB2021.cells)
    store(engine, [Entry(submission=subs[0], origin="import", valid=True)])  # other origin
    assert rows()[subs[0].code][1] != before[subs[0].code][1]
    engine.dispose()


def test_a_stopped_store_writes_nothing(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    import nianbao.archive as archive

    monkeypatch.setattr(archive, "STORE_CHUNK", 1)
    engine = make_engine(db_url)
    upgrade(engine)
    stop = threading.Event()

    def entries():  # type: ignore[no-untyped-def]
        for i, row in enumerate(county_rows()[:4]):
            if i == 2:
                stop.set()  # asked to stop after two units were written
            yield Entry(submission=submission(row, seed=i, year=2024), origin="run", valid=True)

    with pytest.raises(archive.StoreStopped):
        store(engine, entries(), stop=stop)

    assert submissions(engine) == []  # rolled back as a whole
    engine.dispose()


def test_archive_export_command(tmp_path: Path) -> None:
    runner = CliRunner()
    ws = _init(tmp_path / "2024", 2024, runner)
    write_form(ws / "inputs" / "a.xlsx", submission(ROWS[1], seed=2, year=2024))
    assert _in(ws, runner, ["build"]).exit_code == 0  # type: ignore[attr-defined]

    result = _in(ws, runner, ["archive", "export", "-o", "归档.xlsx"])

    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    rows = read_long(ws / "归档.xlsx")
    assert {(r[1], r[3]) for r in rows} == {(ROWS[1].code, 2024)}
    outside = runner.invoke(main, ["archive", "export"])
    assert outside.exit_code == 2


def test_no_database_connection_outlives_a_command(tmp_path: Path) -> None:
    """status, build and archive export close every connection they open (PostgreSQL)."""
    import gc

    from dbkit import fresh_database
    from sqlalchemy import text

    from nianbao.archive import existing_engine, previous_for
    from nianbao.config import load_config

    runner = CliRunner()
    with fresh_database("postgresql", tmp_path) as url:
        ws = _init(tmp_path / "2025", 2025, runner)
        toml = ws / "nianbao.toml"
        toml.write_text(f'database_url = "{url}"\n' + toml.read_text("utf-8"), "utf-8")
        config = load_config(ws)
        assert config is not None
        write_form(ws / "inputs" / "a.xlsx", submission(ROWS[1], seed=2, year=2025))
        watcher = make_engine(url)

        def sessions() -> int:
            gc.collect()  # an engine nobody disposed would close its connections only here
            with watcher.connect() as conn:
                return int(conn.execute(text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()
                    or 0)

        try:
            assert existing_engine(config) is None and previous_for(config) is None
            assert sessions() == 0
            for args in (["status"], ["build"], ["status"], ["archive", "export", "-o", "a.csv"]):
                result = _in(ws, runner, args)
                assert result.exit_code in (0, 1), result.output  # type: ignore[attr-defined]
                assert sessions() == 0, args
            assert previous_for(config) is None and sessions() == 0
        finally:
            watcher.dispose()


def test_store_with_another_drivers_parameters_goes_through_sqlalchemy(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'a.sqlite3'}")
    upgrade(engine)
    import nianbao.archive as archive

    monkeypatch.setattr(archive, "_PLACEHOLDERS", {})  # a driver whose parameters are unknown
    sub = submission(ROWS[0], seed=3, year=2024)

    assert store(engine, [Entry(submission=sub, origin="run", valid=True)]) == 1

    (back,) = submissions(engine)
    assert all(back.values[k] == sub.values[k] for k in GB2021.cells)
    engine.dispose()
