"""The archive keeps the 编号 a unit carried over to the next year (issue 13).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("archive_reports") as batch:
        batch.add_column(sa.Column("register", sa.Boolean, nullable=False,
                                   server_default=sa.false()))
    op.create_table(
        "archive_register",
        sa.Column("report_id", sa.Integer,
                  sa.ForeignKey("archive_reports.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("no", sa.String(120), primary_key=True),
        sa.Column("row", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("archive_register")
    with op.batch_alter_table("archive_reports") as batch:
        batch.drop_column("register")
