"""grade_reports (submission_id, id, score, status): the newest report's score from the index

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07

The staff gradebook reads, for each of a course's submissions, the score and
status of its newest report. Each grade_reports row also holds the report's
JSON, a page or more, so reading those two columns from the table costs a page
per submission; this index holds them, ordered by id within a submission.
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_grade_reports_submission_newest",
        "grade_reports",
        ["submission_id", "id", "score", "status"],
    )


def downgrade() -> None:
    op.drop_index("ix_grade_reports_submission_newest", table_name="grade_reports")
