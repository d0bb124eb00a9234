"""assignment_uploads.facts: what a worker's validation learned of the version, for publishing

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07

Validation of an uploaded folder moves from the portal's process to the workers,
so the portal publishes from these facts (manifest hash, points, time limits)
instead of importing the folder's checks. Existing rows get '{}'; an upload that
was valid and not yet published becomes invalid with a line saying why, and its
page's 'Validate again' validates it in a worker.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    doc = sa.JSON().with_variant(JSONB(), "postgresql")
    with op.batch_alter_table("assignment_uploads") as batch:
        batch.add_column(sa.Column("facts", doc, nullable=False, server_default="{}"))
    # A valid upload has no facts to publish from: validated again first.
    op.execute(
        "UPDATE assignment_uploads SET status = 'invalid', report = report || "
        "'\nValidated before validation moved to the workers: validate again to publish.'"
        " WHERE status = 'valid'"
    )


def downgrade() -> None:
    with op.batch_alter_table("assignment_uploads") as batch:
        batch.drop_column("facts")
