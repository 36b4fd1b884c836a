"""The service's tables, as SQLAlchemy Core metadata (the one description of the schema).

Every change to these tables is ALSO an Alembic revision in ``migrations/versions``
(``tests/test_db.py`` checks that the migrated database equals this metadata).
Times are stored as timezone-aware UTC.  Unit codes are the roster's codes.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    true,
)

# Named constraints, so that later migrations can refer to them on every database.
metadata = MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

units = Table(
    "units", metadata,
    Column("code", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("level", String(50), nullable=False, server_default=""),
    Column("contact", String(100), nullable=False, server_default=""),
    Column("phone", String(100), nullable=False, server_default=""),
    Column("active", Boolean, nullable=False, server_default=true()),  # still on the roster
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# One row per issued link; only the SHA-256 of the token is kept.  ``generation``
# counts rotations; a rotated-out token has ``revoked_at`` set.
link_tokens = Table(
    "link_tokens", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("unit_code", String(64), ForeignKey("units.code"), nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("generation", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)

submissions = Table(
    "submissions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("unit_code", String(64), ForeignKey("units.code"), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("original_name", String(255), nullable=False),  # shown only, never a path
    Column("stored_path", String(500), nullable=False, unique=True),  # relative to workspace
    Column("verdict", String(16), nullable=False),  # see nianbao.db.store.Verdict
    Column("errors", Integer, nullable=False),
    Column("warnings", Integer, nullable=False),
    Column("source", String(8), nullable=False),  # web | folder
    Column("findings", Text, nullable=False, server_default="[]"),  # JSON list of findings
    Index("ix_submissions_unit_received", "unit_code", "received_at"),
)

reviews = Table(
    "reviews", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("submission_id", Integer, ForeignKey("submissions.id"), nullable=False, index=True),
    Column("state", String(16), nullable=False),  # see nianbao.db.store.Review
    Column("comment", Text, nullable=False, server_default=""),
    Column("reviewer", String(100), nullable=False),
    Column("reviewed_at", DateTime(timezone=True), nullable=False),
)

audit_log = Table(
    "audit_log", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("actor", String(100), nullable=False),  # unit:CODE, admin, system, cli
    Column("action", String(40), nullable=False),
    Column("unit_code", String(64), nullable=True),
    Column("detail", Text, nullable=False, server_default=""),
    Column("ip", String(64), nullable=False, server_default=""),
    Index("ix_audit_log_action_ip_at", "action", "ip", "at"),
)

# Coordinator sessions (SHA-256 of the cookie value), shared by every web worker.
sessions = Table(
    "sessions", metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("who", String(100), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

# Background build/summary runs started from the board; any worker can show them.
jobs = Table(
    "jobs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),
    Column("state", String(16), nullable=False),  # running | done | failed
    Column("progress", Text, nullable=False, server_default=""),
    Column("exit_code", Integer, nullable=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("pid", Integer, nullable=True),
    UniqueConstraint("kind", "started_at"),
)

# The archive of every unit's values per year (issue 12): filled by build, run and import,
# read by the cross-year checks and the reviewer indicators.  ``unit`` is the roster code,
# or ``名称:`` + the folded name for a unit known by name only (an imported report).
archive_reports = Table(
    "archive_reports", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("unit", String(240), nullable=False),
    Column("year", Integer, nullable=False),
    Column("code", String(64), nullable=False, server_default=""),
    Column("name", String(200), nullable=False),
    Column("level", String(50), nullable=False, server_default=""),
    Column("origin", String(16), nullable=False),  # build | run | import
    Column("source", String(500), nullable=False, server_default=""),  # file name, shown only
    Column("format", String(16), nullable=False, server_default="gb2021"),  # as published
    Column("valid", Boolean, nullable=False),  # no error finding when archived
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # 表三 was counted from a register (issue 13): its 结转下年度 编号 are in archive_register
    Column("register", Boolean, nullable=False, server_default=false()),
    # what the row and its values were made from (archive._digest): the same data stored
    # again is left as it is; NULL for rows archived before it was recorded
    Column("digest", String(64), nullable=True),
    UniqueConstraint("unit", "year"),
)

# The 编号 of the applications a unit carried over to the next year (issue 13): next
# year's 上年结转 rows must have them.  Only 编号, never a name or a content summary.
archive_register = Table(
    "archive_register", metadata,
    Column("report_id", Integer, ForeignKey("archive_reports.id", ondelete="CASCADE"),
           primary_key=True),
    Column("no", String(120), primary_key=True),
    Column("row", Integer, nullable=False),  # its row in that year's register sheet
)

archive_values = Table(
    "archive_values", metadata,
    Column("report_id", Integer, ForeignKey("archive_reports.id", ondelete="CASCADE"),
           primary_key=True),
    Column("key", String(64), primary_key=True),  # schema key, e.g. t3.r1.total
    Column("value", String(40), nullable=True),  # decimal text; NULL: could not be read
)
