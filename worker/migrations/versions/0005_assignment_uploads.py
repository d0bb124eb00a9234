"""assignment uploads: instructors' assignment folders, validated before they are published

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30

One table, ``assignment_uploads``: the unpacked folder's path, its slug and
title, the validation's status (validating, valid, invalid, published) and
report, who uploaded it, and the assignment row it became once published.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assignment_uploads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("report", sa.Text(), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("assignment_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "status IN ('validating', 'valid', 'invalid', 'published')",
            name=op.f("ck_assignment_uploads_status"),
        ),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["assignments.id"],
            name=op.f("fk_assignment_uploads_assignment_id_assignments"),
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_assignment_uploads_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by"], ["users.id"], name=op.f("fk_assignment_uploads_uploaded_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment_uploads")),
    )
    op.create_index(
        op.f("ix_assignment_uploads_course_id"), "assignment_uploads", ["course_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_assignment_uploads_course_id"), table_name="assignment_uploads")
    op.drop_table("assignment_uploads")
