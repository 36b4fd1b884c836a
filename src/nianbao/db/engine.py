"""The engine factory: SQLite (WAL) in the workspace, or PostgreSQL from ``database_url``.

``database_url`` in nianbao.toml selects PostgreSQL (``postgresql://user:pw@host/db``;
the psycopg 3 driver is filled in).  Without it the database is the file
``nianbao.sqlite3`` in the workspace folder, opened in WAL mode with full
synchronous commits (a committed upload survives a power cut), foreign keys on,
and ``BEGIN IMMEDIATE`` so that concurrent writers wait instead of failing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from nianbao.config import Config, ConfigError

SQLITE_NAME = "nianbao.sqlite3"
BUSY_TIMEOUT_MS = 30_000


def database_url(config: Config) -> str:
    """The SQLAlchemy URL of the workspace's database."""
    if config.database_url:
        return normalize_url(config.database_url)
    return f"sqlite:///{(config.root / SQLITE_NAME).as_posix()}"


def normalize_url(url: str) -> str:
    """``postgres://`` and ``postgresql://`` URLs get the psycopg 3 driver."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"database_url 格式有误（应如 postgresql://用户:密码@主机/数据库）：{exc}") from exc
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("postgresql", "sqlite"):
        raise ConfigError(f"database_url 只支持 PostgreSQL（或 SQLite），不支持“{parsed.drivername}”。")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url`` with the settings this project relies on."""
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_engine(url, **kwargs)
        _sqlite_setup(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def engine_for(config: Config, **kwargs: Any) -> Engine:
    """The engine of the workspace described by ``config``."""
    return make_engine(database_url(config), **kwargs)


def sqlite_path(engine: Engine) -> Path | None:
    """The database file of a SQLite engine (None for PostgreSQL)."""
    if engine.url.get_backend_name() != "sqlite" or not engine.url.database:
        return None
    return Path(engine.url.database)


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
