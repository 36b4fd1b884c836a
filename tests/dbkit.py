"""Databases for tests: a SQLite file, or a fresh database on the PostgreSQL server.

The PostgreSQL server is given by ``NIANBAO_TEST_PG_URL`` (``.ci/run`` starts one and
sets it).  Without it the PostgreSQL variants skip locally, and FAIL in CI (``CI=true``).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError

from nianbao.db.engine import make_engine, normalize_url

BACKENDS = ("sqlite", "postgresql")
PG_ENV = "NIANBAO_TEST_PG_URL"


def pg_server_url() -> str:
    url = os.environ.get(PG_ENV, "")
    if not url:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{PG_ENV} is not set in CI: .ci/run must start PostgreSQL")
        pytest.skip(f"{PG_ENV} not set: no PostgreSQL server for this test (.ci/run starts one)")
    return normalize_url(url)


@contextmanager
def fresh_database(backend: str, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database, dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{(tmp_path / 'nianbao.sqlite3').as_posix()}"
        return
    server = pg_server_url()
    name = f"nianbao_t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        try:
            _drop(admin, name)
        finally:
            admin.dispose()


def _drop(admin: Engine, name: str) -> None:
    """DROP … WITH (FORCE), retried: a session still starting up (a server process of
    the test connecting as it is stopped) has no role yet, and PostgreSQL then refuses
    to terminate it ("must be a member of the role…") until it has one or is gone."""
    for attempt in range(40):
        try:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            return
        except DBAPIError:
            if attempt == 39:
                raise
            time.sleep(0.25)
