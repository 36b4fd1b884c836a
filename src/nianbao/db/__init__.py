"""The database of ``nianbao serve``: tables, migrations, engine factory and records.

- :mod:`nianbao.db.tables`  — the schema (SQLAlchemy Core ``metadata``);
- :mod:`nianbao.db.migrations` — the Alembic chain (``versions/0001_initial.py`` …);
  a new table is a new revision whose ``down_revision`` is the current head;
- :mod:`nianbao.db.migrate` — :func:`upgrade` applies the chain programmatically;
- :mod:`nianbao.db.engine` — :func:`engine_for` (SQLite in the workspace, or
  PostgreSQL when ``database_url`` is set in nianbao.toml);
- :mod:`nianbao.db.store` — the reads and writes the service does.
"""

from nianbao.db.engine import database_url, engine_for, make_engine
from nianbao.db.migrate import upgrade

__all__ = ["database_url", "engine_for", "make_engine", "upgrade"]
