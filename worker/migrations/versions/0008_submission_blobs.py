"""submission_blobs: uploads' bytes in the database, for workers on hosts that share no disk

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07

Uploads stored by earlier versions under <data dir>/submissions/ab/cd/<sha256> are
copied in when this host has them; a blob that is missing or no longer matches its
name is left out, and ``dlgrade fsck`` lists the submissions that lack one.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "submission_blobs",
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name="pk_submission_blobs"),
    )
    folder = os.environ.get("DLGRADE_DATA_DIR")
    if not folder:
        from grader.config import data_dir

        folder = str(data_dir())
    store = Path(folder) / "submissions"
    conn = op.get_bind()
    blobs = sa.table(
        "submission_blobs",
        sa.column("sha256", sa.String),
        sa.column("size", sa.BigInteger),
        sa.column("data", sa.LargeBinary),
    )
    shas = conn.execute(sa.text("SELECT DISTINCT sha256 FROM submissions")).scalars().all()
    for sha in shas:
        path = store / sha[:2] / sha[2:4] / sha
        if not path.is_file():
            continue
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() == sha:
            conn.execute(sa.insert(blobs).values(sha256=sha, size=len(data), data=data))


def downgrade() -> None:
    op.drop_table("submission_blobs")
