"""The database layer on SQLite and on a real PostgreSQL: migrations, records, board states."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select

from nianbao.config import parse_config
from nianbao.db import engine_for, make_engine, migrate, store
from nianbao.db.tables import metadata, submissions
from nianbao.model import FileReport, Finding, Severity
from nianbao.roster import Roster, Unit

ROSTER = Roster(units=(Unit(code="A01", name="青山县教育局"), Unit(code="A02", name="青山县交通运输局"),
                       Unit(code="A03", name="城关镇人民政府")))


def _report(errors: int = 0, warnings: int = 0) -> FileReport:
    findings = tuple(Finding(code="sum-mismatch", severity=Severity.ERROR, message="合计不符",
                             sheet="表三", cell=f"C{i + 5}") for i in range(errors))
    findings += tuple(Finding(code="blank-cell", severity=Severity.WARNING, message="留空",
                              sheet="表二", cell="D7") for _ in range(warnings))
    from nianbao.model import Submission
    return FileReport(file=Path("x.xlsx"), submission=Submission(agency="x"), findings=findings)


def _new(code: str, path: str, report: FileReport) -> store.NewSubmission:
    return store.NewSubmission(unit_code=code, received_at=store.now(), sha256="0" * 64, size=10,
                               original_name="../../etc/passwd.xlsx", stored_path=path,
                               report=report)


@pytest.fixture
def engine(db_url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(db_url)
    migrate.upgrade(engine)
    with engine.begin() as conn:
        store.sync_units(conn, ROSTER)
    yield engine
    engine.dispose()


def test_db_migrated_schema_equals_the_tables_module(db_url: str) -> None:
    engine = make_engine(db_url)
    assert migrate.current(engine) is None

    migrate.upgrade(engine)

    assert migrate.current(engine) == migrate.head()
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    migrate.upgrade(engine)  # a second start changes nothing
    migrate.downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()


def test_db_sqlite_is_wal_in_the_workspace(tmp_path: Path) -> None:
    config = parse_config({"year": 2025, "roster": "r.csv"}, tmp_path / "nianbao.toml")
    engine = engine_for(config)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert engine.url.database == (tmp_path / "nianbao.sqlite3").as_posix()


def test_db_database_url_selects_postgresql_with_psycopg3(tmp_path: Path) -> None:
    config = parse_config({"year": 2025, "roster": "r.csv",
                           "database_url": "postgresql://u:p@db.local/nb"},
                          tmp_path / "nianbao.toml")

    assert engine_for(config).url.drivername == "postgresql+psycopg"


def test_db_units_follow_the_roster(engine) -> None:  # type: ignore[no-untyped-def]
    smaller = Roster(units=(ROSTER.units[0], Unit(code="A02", name="青山县交通局")))
    with engine.begin() as conn:
        store.sync_units(conn, smaller)
        rows = store.board(conn)

    assert [(r.code, r.name) for r in rows] == [("A01", "青山县教育局"), ("A02", "青山县交通局")]


def test_db_tokens_are_hashed_and_rotated(engine) -> None:  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        store.store_token(conn, "A01", "first-token-" + "x" * 20, 1)
        store.store_token(conn, "A01", "second-token-" + "y" * 20, 2)
        stored = conn.exec_driver_sql("SELECT token_hash FROM link_tokens").scalars().all()

        assert store.unit_for_token(conn, "second-token-" + "y" * 20) == "A01"
        assert store.unit_for_token(conn, "first-token-" + "x" * 20) is None
        assert store.unit_for_token(conn, "nonsense") is None
        assert store.generation(conn, "A01") == 2
    assert all("token" not in h and len(h) == 64 for h in stored)


def test_db_board_states_follow_submissions_and_reviews(engine) -> None:  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        bad = store.add_submission(conn, _new("A01", "inputs/online/A01/1.xlsx", _report(errors=2)))
        store.add_submission(conn, _new("A02", "inputs/online/A02/1.xlsx", _report(warnings=1)))
        ok = store.add_submission(conn, _new("A03", "inputs/online/A03/1.xlsx", _report()))
        store.add_review(conn, ok, store.Review.RETURNED, comment="请补充第五部分", reviewer="admin")
        states = {r.code: r.state for r in store.board(conn)}
        row = store.submission(conn, bad)

    assert states == {"A01": store.UnitState.ERRORS, "A02": store.UnitState.PENDING,
                      "A03": store.UnitState.RETURNED}
    assert row is not None and (row.errors, row.warnings, row.verdict) == (2, 0, "errors")
    assert row.findings[0]["cell"] == "C5"
    assert row.received_at.tzinfo is not None

    with engine.begin() as conn:
        store.add_submission(conn, _new("A03", "inputs/online/A03/2.xlsx", _report()))
        after = {r.code: r for r in store.board(conn)}
        store.add_review(conn, after["A03"].latest.id, store.Review.APPROVED, comment="",  # type: ignore[union-attr]
                         reviewer="admin")
        approved = {r.code: r.state for r in store.board(conn)}
        hist = store.history(conn, "A03")

    assert after["A03"].state is store.UnitState.PENDING and after["A03"].count == 2
    assert approved["A03"] is store.UnitState.APPROVED
    assert [h.stored_path for h in hist] == ["inputs/online/A03/2.xlsx", "inputs/online/A03/1.xlsx"]
    assert hist[1].comment == "请补充第五部分"


def test_db_a_stored_path_is_recorded_once(engine) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy.exc import IntegrityError

    with engine.begin() as conn:
        store.add_submission(conn, _new("A01", "inputs/online/A01/1.xlsx", _report()))
    with pytest.raises(IntegrityError), engine.begin() as conn:
        store.add_submission(conn, _new("A02", "inputs/online/A01/1.xlsx", _report()))


def test_db_concurrent_writers_all_commit(engine) -> None:  # type: ignore[no-untyped-def]
    failures: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for i in range(10):
                with engine.begin() as conn:
                    code = ROSTER.units[worker % 3].code
                    store.add_submission(conn, _new(code, f"inputs/online/{worker}-{i}.xlsx",
                                                    _report()))
                    store.audit(conn, f"unit:{code}", "upload", unit_code=code, ip="127.0.0.1")
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert failures == []
    with engine.connect() as conn:
        assert len(conn.execute(select(submissions.c.id)).all()) == 60
        since = store.now() - dt.timedelta(minutes=1)
        assert store.recent_count(conn, "upload", "127.0.0.1", since) == 60
