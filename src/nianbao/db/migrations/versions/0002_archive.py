"""The archive of every unit's values per year (issue 12).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "archive_reports",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("unit", sa.String(240), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("code", sa.String(64), nullable=False, server_default=""),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("level", sa.String(50), nullable=False, server_default=""),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("source", sa.String(500), nullable=False, server_default=""),
        sa.Column("format", sa.String(16), nullable=False, server_default="gb2021"),
        sa.Column("valid", sa.Boolean, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("unit", "year"),
    )
    op.create_table(
        "archive_values",
        sa.Column("report_id", sa.Integer,
                  sa.ForeignKey("archive_reports.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(40), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("archive_values")
    op.drop_table("archive_reports")
