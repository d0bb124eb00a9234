"""assignments belong to a course: versions keyed by (course, slug, manifest hash)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07

Until now a version of an assignment (slug, manifest hash) was one row for the
whole service, so only one course could offer it. From here each course has
rows of its own; the command line's rows (no course) stay unique by a partial
index. Every existing row, submission and report is kept as it is: the old key
was stricter than both new ones, so nothing existing can collide.

Downgrade restores the service-wide key, which fails (and changes nothing) once
two courses offer the same version.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

NO_COURSE = "uq_assignments_slug_manifest_hash_no_course"


def _rekey(drop: str, add: str, columns: list[str]) -> None:
    """Swap the assignments table's unique key; on SQLite, rows and references kept.

    SQLite drops a constraint only by rebuilding the table, and with foreign keys
    on (``worker.db``; they cannot be switched off inside the migration's
    transaction) dropping the old table would fail for every submission that
    refers to it, while a rename rewrites the submissions' references. So the
    checks are deferred to the commit: the rows are set aside, the table is
    dropped and made anew under its own name, and the rows put back, which settles
    every reference again before the commit checks them.
    """
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        op.drop_constraint(drop, "assignments", type_="unique")
        op.create_unique_constraint(add, "assignments", columns)
        return
    old = sa.Table("assignments", sa.MetaData(), autoload_with=bind)
    meta = sa.MetaData()
    sa.Table("courses", meta, sa.Column("id", sa.Integer, primary_key=True))  # the FK's target
    new = sa.Table(
        "assignments_next",
        meta,
        *(sa.Column(c.name, c.type, nullable=c.nullable, server_default=c.server_default)
          for c in old.columns),
        sa.PrimaryKeyConstraint("id", name="pk_assignments"),
        sa.ForeignKeyConstraint(["course_id"], ["courses.id"], ondelete="SET NULL",
                                name="fk_assignments_course_id_courses"),
        sa.CheckConstraint("counts IN ('latest', 'best')", name="ck_assignments_counts"),
        sa.UniqueConstraint(*columns, name=add),
    )  # fmt: skip
    names = ", ".join(f'"{c.name}"' for c in old.columns)
    op.execute("PRAGMA defer_foreign_keys = ON")  # until this transaction commits
    op.execute("CREATE TABLE assignments_rows AS SELECT * FROM assignments")
    new.create(bind)  # the new table alone (checkfirst: courses exists)
    op.execute("DROP TABLE assignments")
    op.execute("ALTER TABLE assignments_next RENAME TO assignments")
    op.execute(f"INSERT INTO assignments ({names}) SELECT {names} FROM assignments_rows")
    op.execute("DROP TABLE assignments_rows")
    op.create_index("ix_assignments_slug", "assignments", ["slug"])


def upgrade() -> None:
    _rekey(
        "uq_assignments_slug", "uq_assignments_course_id", ["course_id", "slug", "manifest_hash"]
    )
    op.create_index(
        NO_COURSE,
        "assignments",
        ["slug", "manifest_hash"],
        unique=True,
        sqlite_where=sa.text("course_id IS NULL"),
        postgresql_where=sa.text("course_id IS NULL"),
    )


def downgrade() -> None:
    op.drop_index(NO_COURSE, table_name="assignments")
    _rekey("uq_assignments_course_id", "uq_assignments_slug", ["slug", "manifest_hash"])
