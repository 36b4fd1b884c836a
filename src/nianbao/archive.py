"""The archive: every unit's values per year, in the workspace's database.

``build``, ``run`` and ``import`` store what they read; the cross-year checks
read last year from here when the archive holds it (no ``--previous`` needed);
the reviewer indicators (:mod:`nianbao.indicators`) read every year.  The
database is the workspace's (SQLite in the workspace, or PostgreSQL by
``database_url``; :mod:`nianbao.db`).  ``nianbao archive export`` writes the
long table (unit, year, key, value) as CSV or xlsx, and :func:`read_long` reads
it back.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import itertools
import json
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from openpyxl import Workbook, load_workbook
from sqlalchemy import Connection, Engine, Table, delete, insert, inspect, select
from sqlalchemy.exc import SQLAlchemyError

from nianbao.atomic import atomic_write, write_text
from nianbao.config import CONFIG_NAME, Config, CycleError, load_config
from nianbao.db import engine_for, upgrade
from nianbao.db.engine import sqlite_path
from nianbao.db.tables import archive_register, archive_reports, archive_values
from nianbao.model import FileReport, RegisterIds, Submission, Value
from nianbao.packed import PackedValues
from nianbao.previous import PreviousData
from nianbao.register import APPLICATION_SHEET
from nianbao.roster import fold_name
from nianbao.safetext import path_text
from nianbao.schema import DEFAULT_FORMAT, ValueType

LONG_HEADER = ("unit", "code", "name", "year", "key", "value")
ORIGINS = ("build", "run", "import")


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One unit-year to archive."""

    submission: Submission
    origin: str  # build | run | import
    valid: bool
    format_id: str = "gb2021"


def unit_key(sub: Submission) -> str:
    """The unit's identity in the archive: its code, else its folded name."""
    return sub.code.strip() or f"名称:{fold_name(sub.agency)}"


def open_archive(config: Config) -> Engine:
    """The workspace's database, migrated to the newest revision (the caller disposes it)."""
    engine = engine_for(config)
    try:
        upgrade(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine


def _text(value: Value | None) -> str | None:
    return None if value is None else str(value)


def _value(text: str | None, key: str | None = None) -> Value | None:
    """An archived value back as a count (int) or, for an amount key, a Decimal."""
    if text is None or text == "":
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    cell = DEFAULT_FORMAT.cells.get(key or "")
    if cell is not None and cell.type is ValueType.AMOUNT:
        return number
    return int(number) if number == number.to_integral_value() else number


STORE_CHUNK = 256  # unit-years per round of statements: a few thousand value rows


class StoreStopped(Exception):
    """:func:`store` was asked to stop: nothing of the call was written."""


def store(engine: Engine, entries: Iterable[Entry], *, stop: threading.Event | None = None) -> int:
    """Archive each entry, replacing what the archive held for that unit and year (a
    unit-year stored before with the very same data is left as it is: a nightly run
    rewrites only what changed).

    ``entries`` is consumed as it comes (a season's submissions are never all
    unpacked at once) and written a chunk of units at a time: one lookup of the
    rows they replace, one insert of their reports and one of their values.
    ``stop`` set (from another thread) rolls the whole call back between two
    chunks and raises :class:`StoreStopped`.
    """
    now = dt.datetime.now(dt.UTC)
    count = 0
    with engine.begin() as conn:
        chunk: dict[tuple[str, int], Entry] = {}
        for entry in entries:
            sub = entry.submission
            if sub.year is None or not (sub.agency or sub.code):
                continue
            key = (unit_key(sub), sub.year)
            if key in chunk or len(chunk) >= STORE_CHUNK:  # a later copy replaces an earlier
                _store_chunk(conn, chunk, now)
                chunk = {}
                if stop is not None and stop.is_set():
                    raise StoreStopped
            chunk[key] = entry
            count += 1
        if chunk:
            _store_chunk(conn, chunk, now)
    return count


def _row(unit: str, year: int, entry: Entry) -> dict[str, object]:
    sub = entry.submission
    return {"unit": unit, "year": year, "code": sub.code, "name": sub.agency,
            "level": sub.level, "origin": entry.origin,
            "source": path_text(sub.source.name) if sub.source else "",
            "format": entry.format_id, "valid": entry.valid,
            "register": sub.register is not None}


def _digest(row: dict[str, object], entry: Entry) -> str:
    """What an archived unit-year is made of (its row, every value, the 编号 carried over)."""
    sub = entry.submission
    got = sub.values.get
    carried = sorted(sub.register.carried_out.items()) if sub.register is not None else []
    blob = json.dumps([sorted(row.items()), [_text(got(key)) for key in DEFAULT_FORMAT.cells],
                       carried], ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8", "surrogatepass")).hexdigest()


def _store_chunk(conn: Connection, chunk: dict[tuple[str, int], Entry],
                 now: dt.datetime) -> None:
    rows = {key: _row(*key, entry) for key, entry in chunk.items()}
    digests = {key: _digest(rows[key], chunk[key]) for key in chunk}
    units_of: dict[int, list[str]] = {}
    for unit, year in chunk:
        units_of.setdefault(year, []).append(unit)
    old_ids: list[int] = []
    for year, units in units_of.items():
        for old in conn.execute(select(archive_reports.c.id, archive_reports.c.unit,
                                       archive_reports.c.digest).where(
                archive_reports.c.year == year, archive_reports.c.unit.in_(units))):
            if old.digest is not None and old.digest == digests[(old.unit, year)]:
                del chunk[(old.unit, year)]  # stored before exactly so: left as it is
            else:
                old_ids.append(old.id)
    if not chunk:
        return
    if old_ids:
        for table in (archive_values, archive_register):
            conn.execute(delete(table).where(table.c.report_id.in_(old_ids)))
        conn.execute(delete(archive_reports).where(archive_reports.c.id.in_(old_ids)))
    entries = list(chunk.values())
    reports = [{**rows[key], "updated_at": now, "digest": digests[key]} for key in chunk]
    ids = list(conn.execute(insert(archive_reports).returning(
        archive_reports.c.id, sort_by_parameter_order=True), reports).scalars())
    values: list[tuple[object, ...]] = []
    register: list[tuple[object, ...]] = []
    for report_id, entry in zip(ids, entries, strict=True):
        sub = entry.submission
        got = sub.values.get
        values += [(report_id, key, _text(got(key))) for key in DEFAULT_FORMAT.cells]
        if sub.register is not None and sub.register.carried_out:
            register += [(report_id, no, row) for no, row in sub.register.carried_out.items()]
    _insert_many(conn, archive_values, values)
    if register:
        _insert_many(conn, archive_register, register)


_PLACEHOLDERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}  # sqlite3, psycopg


def _insert_many(conn: Connection, table: Table, rows: list[tuple[object, ...]]) -> None:
    """Rows (a value for each column, in order) inserted by the driver's own executemany.

    Ten million values a province: SQLAlchemy's per-row parameter handling took
    twenty times as long as the inserts themselves.  Only plain integers and
    strings (and None) go through here, which every driver takes as they are.
    """
    mark = _PLACEHOLDERS.get(conn.dialect.paramstyle)
    if mark is None:  # another driver: SQLAlchemy's way
        names = [c.name for c in table.columns]
        conn.execute(insert(table), [dict(zip(names, row, strict=True)) for row in rows])
        return
    quote = conn.dialect.identifier_preparer.quote
    sql = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(c.name) for c in table.columns)}) "
           f"VALUES ({', '.join(mark for _ in table.columns)})")
    conn.exec_driver_sql(sql, rows)


def _has_archive(engine: Engine) -> bool:
    try:
        return inspect(engine).has_table(archive_reports.name)
    except SQLAlchemyError:
        return False


def existing_engine(config: Config) -> Engine | None:
    """The workspace's database if it exists and holds an archive (never creates one).

    The caller disposes the engine it gets (``engine.dispose()``), so that no
    connection outlives the command; when the answer is None nothing is left open.
    """
    if not config.database_url and not (config.root / "nianbao.sqlite3").is_file():
        return None
    engine = engine_for(config)
    path = sqlite_path(engine)
    if (path is not None and not path.is_file()) or not _has_archive(engine):
        engine.dispose()
        return None
    return engine


def submissions(engine: Engine, year: int | None = None, *,
                before: int | None = None) -> list[Submission]:
    """The archived unit-years (of one ``year``, or all, or all ``before`` a year), with every
    value (packed: a season's archive is held at once, :mod:`nianbao.packed`)."""
    query = select(archive_reports)
    if year is not None:
        query = query.where(archive_reports.c.year == year)
    if before is not None:
        query = query.where(archive_reports.c.year < before)
    with engine.connect() as conn:
        reports = list(conn.execute(query.order_by(archive_reports.c.year,
                                                   archive_reports.c.name)))
        ids = [r.id for r in reports]
        values: dict[int, dict[str, Value | None]] = {i: {} for i in ids}
        carried: dict[int, dict[str, int]] = {i: {} for i in ids}
        if ids:
            for row in conn.execute(select(archive_values).where(
                    archive_values.c.report_id.in_(ids))):
                values[row.report_id][row.key] = _value(row.value, row.key)
            for row in conn.execute(select(archive_register).where(
                    archive_register.c.report_id.in_(ids))):
                carried[row.report_id][row.no] = row.row
    return [Submission(agency=r.name, code=r.code, year=r.year, level=r.level,
                       values=PackedValues(values.pop(r.id)),
                       source=Path(r.source) if r.source else None,
                       register=RegisterIds(sheet=APPLICATION_SHEET, carried_out=carried[r.id])
                       if r.register else None)
            for r in reports]


def previous_data(engine: Engine, year: int) -> PreviousData | None:
    """Last year's archived values as the cross-year checks take them (None: none held)."""
    subs = submissions(engine, year)
    if not subs:
        return None
    return PreviousData(
        source=Path(f"归档数据（{year}年）"),
        by_code={s.code: s for s in subs if s.code},
        by_name={fold_name(s.agency): s for s in subs if s.agency})


def archive_reports_of(config: Config, reports: Iterable[FileReport], origin: str, *,
                       stop: threading.Event | None = None) -> str:
    """Store the reports that were read (valid or not) in the workspace's archive."""
    return archive_read(config, ((r.submission, r.valid) for r in reports
                                 if r.submission is not None), origin, stop=stop)


def archive_read(config: Config, read: Iterable[tuple[Submission, bool]], origin: str, *,
                 stop: threading.Event | None = None) -> str:
    """Store (submission, valid) pairs in the workspace's archive.

    Returns a line for the user; a database that cannot be reached is said, not raised:
    the archive must never stop a build.  ``stop``: see :func:`store` (then nothing is
    stored and the line says so).
    """
    entries = (Entry(submission=sub, origin=origin, valid=valid) for sub, valid in read)
    first = next(entries, None)
    if first is None:
        return ""
    try:
        engine = open_archive(config)
        try:
            count = store(engine, itertools.chain((first,), entries), stop=stop)
        finally:
            engine.dispose()
    except StoreStopped:
        return "注意：运行中止，本次数据未存入归档。"
    except SQLAlchemyError as exc:
        return f"注意：归档数据库无法写入（{type(exc).__name__}），本次数据未存入归档。"
    return f"已存入归档：{count} 个单位的数据。"


def previous_for(config: Config) -> PreviousData | None:
    """Last year (the workspace's year − 1) from the archive, if it holds it.

    The workspace's own archive first; with SQLite, also the archive of last year's
    workspace beside it (``/srv/nianbao/2024`` for ``/srv/nianbao/2025``), so a new
    year's workspace finds last year without ``previous`` in nianbao.toml.
    """
    for candidate in (config, *_sibling_workspaces(config)):
        found = None
        try:
            engine = existing_engine(candidate)
            if engine is not None:
                try:
                    found = previous_data(engine, config.year - 1)
                finally:
                    engine.dispose()
        except SQLAlchemyError:
            found = None
        if found is not None:
            return found
    return None


def history_for(config: Config) -> list[Submission]:
    """Every archived unit-year before the workspace's year, for the reviewer indicators.

    The workspace's own archive, then (SQLite) the archives of earlier years'
    workspaces beside it; a unit-year held twice is taken from the first.
    An archive that cannot be read adds nothing (the indicators then show no history).
    """
    seen: set[tuple[str, int]] = set()
    out: list[Submission] = []
    for candidate in (config, *_sibling_workspaces(config, earlier=True)):
        subs: list[Submission] = []
        try:
            engine = existing_engine(candidate)
            if engine is not None:
                try:
                    subs = submissions(engine, before=config.year)
                finally:
                    engine.dispose()
        except SQLAlchemyError:
            subs = []
        for sub in subs:
            if sub.year is None or sub.year >= config.year:
                continue
            key = (unit_key(sub), sub.year)
            if key not in seen:
                seen.add(key)
                out.append(sub)
    return out


def _sibling_workspaces(config: Config, *, earlier: bool = False) -> Iterator[Config]:
    """Workspaces beside this one of last year (``earlier``: of any earlier year, newest first)."""
    if config.database_url:
        return  # one shared database already holds every year
    parent = config.root.parent
    try:
        folders = sorted(p for p in parent.iterdir() if p.is_dir() and p != config.root)
    except OSError:
        return
    found = []
    for folder in folders:
        if (folder / CONFIG_NAME).is_file():
            try:
                other = load_config(folder / CONFIG_NAME)
            except CycleError:
                continue
            if other is not None and (other.year == config.year - 1
                                      or earlier and other.year < config.year):
                found.append(other)
    yield from sorted(found, key=lambda c: -c.year)


# ------------------------------------------------------------------ the long table

def long_rows(engine: Engine) -> Iterator[tuple[str, str, str, int, str, str]]:
    """(unit, code, name, year, key, value) for every archived value ('' for unreadable)."""
    query = (select(archive_reports.c.unit, archive_reports.c.code, archive_reports.c.name,
                    archive_reports.c.year, archive_values.c.key, archive_values.c.value)
             .join(archive_values, archive_values.c.report_id == archive_reports.c.id)
             .order_by(archive_reports.c.year, archive_reports.c.unit, archive_values.c.key))
    with engine.connect() as conn:
        for row in conn.execute(query):
            yield row.unit, row.code, row.name, row.year, row.key, row.value or ""


def write_long(rows: Iterable[Sequence[object]], path: Path) -> Path:
    """The long table as .csv (UTF-8 with BOM, opens in Excel) or .xlsx."""
    if path.suffix.lower() == ".xlsx":
        wb = Workbook(write_only=True)
        ws = wb.create_sheet("归档数据")
        ws.append(list(LONG_HEADER))
        for unit, code, name, year, key, value in rows:
            number = _value(str(value)) if value != "" else None
            ws.append([unit, code, name, year, key,
                       float(number) if isinstance(number, Decimal) else number])
        with atomic_write(path) as tmp:
            wb.save(tmp)
        return path
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(LONG_HEADER)
    writer.writerows(rows)
    write_text(path, "\ufeff" + buffer.getvalue())
    return path


def read_long(path: Path) -> list[tuple[str, str, str, int, str, str]]:
    """A long table written by :func:`write_long`, back as rows of text."""
    if path.suffix.lower() == ".xlsx":
        wb = load_workbook(path, read_only=True)
        ws = wb.worksheets[0]
        raw = [["" if v is None else v for v in row] for row in ws.iter_rows(values_only=True)]
        wb.close()
    else:
        raw = list(csv.reader(io.StringIO(path.read_text("utf-8-sig"))))
    out = []
    for unit, code, name, year, key, value in raw[1:]:
        out.append((str(unit), str(code), str(name), int(year), str(key), _number_text(value)))
    return out


def _number_text(value: object) -> str:
    if value in ("", None):
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(Decimal(repr(value)))
    return str(value)
