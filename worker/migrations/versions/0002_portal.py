"""portal: passwords, late policy, extensions, score overrides, regrade batches, sign-ins

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30

What the portal's two sides (students; TAs and instructors) need, in one step so
neither side needs a second revision: users.password_hash; the assignment's
course settings (summary, hidden_release, grace_minutes, late_penalty_per_day,
late_penalty_cap, accept_late, counts); each submission's seconds_late and
late_penalty, computed when it was stored; grade_runs.requested_by and batch
(staff regrades); the extensions, score_overrides (the audit log) and
login_attempts tables.

Existing rows get server defaults: an assignment accepts late work with no
penalty and counts the latest submission, as before this revision.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("password_hash", sa.String(length=255), nullable=True))

    with op.batch_alter_table("assignments") as batch:
        batch.add_column(sa.Column("summary", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("hidden_release", sa.DateTime(), nullable=True))
        batch.add_column(
            sa.Column("grace_minutes", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("late_penalty_per_day", sa.Float(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("late_penalty_cap", sa.Float(), nullable=True))
        batch.add_column(
            sa.Column("accept_late", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch.add_column(
            sa.Column("counts", sa.String(length=8), nullable=False, server_default="latest")
        )
        batch.create_check_constraint("counts", "counts IN ('latest', 'best')")

    with op.batch_alter_table("submissions") as batch:
        batch.add_column(
            sa.Column("seconds_late", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("late_penalty", sa.Float(), nullable=False, server_default="0"))

    with op.batch_alter_table("grade_runs") as batch:
        batch.add_column(sa.Column("requested_by", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("batch", sa.String(length=40), nullable=True))
        batch.create_foreign_key(
            op.f("fk_grade_runs_requested_by_users"), "users", ["requested_by"], ["id"]
        )
        batch.create_index(op.f("ix_grade_runs_batch"), ["batch"], unique=False)

    op.create_table(
        "extensions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("assignment_slug", sa.String(length=120), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("due", sa.DateTime(), nullable=False),
        sa.Column("granted_by", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_extensions_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["granted_by"], ["users.id"], name=op.f("fk_extensions_granted_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_extensions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_extensions")),
        sa.UniqueConstraint(
            "course_id", "assignment_slug", "user_id", name=op.f("uq_extensions_course_id")
        ),
    )
    op.create_table(
        "score_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("original_score", sa.Float(), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("by_user_id", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("length(comment) > 0", name=op.f("ck_score_overrides_comment")),
        sa.ForeignKeyConstraint(
            ["by_user_id"], ["users.id"], name=op.f("fk_score_overrides_by_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_score_overrides_submission_id_submissions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_score_overrides")),
    )
    op.create_index(
        op.f("ix_score_overrides_submission_id"),
        "score_overrides",
        ["submission_id"],
        unique=False,
    )
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("remote", sa.String(length=64), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
    )
    op.create_index("ix_login_attempts_name_at", "login_attempts", ["name", "at"], unique=False)
    op.create_index("ix_login_attempts_remote_at", "login_attempts", ["remote", "at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_login_attempts_remote_at", table_name="login_attempts")
    op.drop_index("ix_login_attempts_name_at", table_name="login_attempts")
    op.drop_table("login_attempts")
    op.drop_index(op.f("ix_score_overrides_submission_id"), table_name="score_overrides")
    op.drop_table("score_overrides")
    op.drop_table("extensions")
    with op.batch_alter_table("grade_runs") as batch:
        batch.drop_index(op.f("ix_grade_runs_batch"))
        batch.drop_constraint(op.f("fk_grade_runs_requested_by_users"), type_="foreignkey")
        batch.drop_column("batch")
        batch.drop_column("requested_by")
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("late_penalty")
        batch.drop_column("seconds_late")
    with op.batch_alter_table("assignments") as batch:
        batch.drop_constraint("counts", type_="check")
        for name in (
            "counts",
            "accept_late",
            "late_penalty_cap",
            "late_penalty_per_day",
            "grace_minutes",
            "hidden_release",
            "summary",
        ):
            batch.drop_column(name)
    with op.batch_alter_table("users") as batch:
        batch.drop_column("password_hash")
