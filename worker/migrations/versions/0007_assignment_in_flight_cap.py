"""assignments.max_in_flight: the course's cap on a student's submissions of it in flight

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30

NULL (every existing row): no cap beyond the portal-wide DLGRADE_MAX_IN_FLIGHT.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assignments") as batch:
        batch.add_column(sa.Column("max_in_flight", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("assignments") as batch:
        batch.drop_column("max_in_flight")
