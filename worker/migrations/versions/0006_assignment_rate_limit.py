"""assignments.rate_limit: the course's own submission rate limit for an assignment

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30

"COUNT/SECONDS", set by the course's instructors; NULL (every existing row)
keeps the rule as before: the manifest's [submission] rate_limit, else the setting.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assignments") as batch:
        batch.add_column(sa.Column("rate_limit", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("assignments") as batch:
        batch.drop_column("rate_limit")
