"""assignment_uploads.archive_sha256: the uploaded .zip, kept in the database

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07

Workers validate and grade an uploaded assignment folder on any host: the
archive is stored as a blob (as submissions are) and unpacked into a worker's
own cache (worker/assignment_store.py). Uploads made before have no archive
(NULL): they are graded from their folder where it can be read, as before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assignment_uploads") as batch:
        batch.add_column(sa.Column("archive_sha256", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("assignment_uploads") as batch:
        batch.drop_column("archive_sha256")
