"""accounts: site administrators, one-time passwords, and a session version per account

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07

users.is_admin (a site administrator: made on a server host with ``dlgrade
users admin LOGIN``), users.must_change_password (the password is a one-time
one: an import's, an instructor's or an administrator's; changed at the next
sign-in) and users.session_version (every signed-in session carries it; logout
and a password change raise it, which ends every session of the account).
Existing accounts: not administrators, passwords kept as they are, version 0.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("is_admin", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column(
                "must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch.add_column(
            sa.Column("session_version", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_version")
        batch.drop_column("must_change_password")
        batch.drop_column("is_admin")
