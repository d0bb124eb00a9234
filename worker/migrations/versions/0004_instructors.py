"""instructors: roster fields and the course audit log

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30

users.full_name and users.student_id and enrollments.section (what a roster
import reads from a Canvas or university export); the audit_log table (every
change an instructor or TA makes to a course's settings, extensions or roster;
score overrides keep their own log in score_overrides).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("full_name", sa.String(length=200), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("student_id", sa.String(length=64), nullable=True))
    with op.batch_alter_table("enrollments") as batch:
        batch.add_column(
            sa.Column("section", sa.String(length=80), nullable=False, server_default="")
        )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("by_user_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("before", JSON, nullable=False),
        sa.Column("after", JSON, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["by_user_id"], ["users.id"], name=op.f("fk_audit_log_by_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_audit_log_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_course_at", "audit_log", ["course_id", "at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_audit_log_course_at", table_name="audit_log")
    op.drop_table("audit_log")
    with op.batch_alter_table("enrollments") as batch:
        batch.drop_column("section")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("student_id")
        batch.drop_column("full_name")
