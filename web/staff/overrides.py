"""Score overrides: a staff member's final word on a submission, and the audit log behind it.

Rows of ``ScoreOverride`` are only ever added (see ``worker.models``): the
newest is in force, and the list of all of them, oldest first, is the audit
log the submission's page shows: the score before, the score after, who, when
and why. An override belongs to the submission, so a regrade's new report
does not replace it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from web.grades import Standing
from worker.models import ScoreOverride, User, utcnow

MAX_COMMENT = 2000


class OverrideRefused(ValueError):
    """The override cannot be recorded; the message is for the staff member."""


@dataclass(frozen=True)
class AuditEntry:
    original_score: float | None
    score: float
    by: str
    comment: str
    at: datetime


def parse_override(raw_score: str, comment: str, max_score: float | None) -> tuple[float, str]:
    """The score and comment from a form, or OverrideRefused saying what is wrong."""
    comment = comment.strip()
    if not comment:
        raise OverrideRefused("an override needs a comment saying why")
    if len(comment) > MAX_COMMENT:
        raise OverrideRefused(f"the comment is longer than {MAX_COMMENT} characters")
    try:
        score = float(raw_score.strip())
    except ValueError:
        raise OverrideRefused(f"{raw_score.strip()[:40]!r} is not a number") from None
    if not math.isfinite(score) or score < 0:
        raise OverrideRefused("the score must be a number of points, 0 or more")
    if max_score is not None and score > max_score:
        raise OverrideRefused(f"the score must be at most the assignment's {max_score:g} points")
    return score, comment


def record_override(
    s: Session, standing: Standing, score: float, comment: str, by_user_id: int
) -> ScoreOverride:
    """Put ``score`` in force for the submission, keeping what it replaces (commits)."""
    row = ScoreOverride(
        submission_id=standing.submission.id,
        original_score=standing.final_score,
        score=score,
        by_user_id=by_user_id,
        comment=comment,
        created_at=utcnow(),
    )
    s.add(row)
    s.commit()
    return row


def audit_log(s: Session, submission_id: int) -> list[AuditEntry]:
    """Every override of the submission, oldest first, with who made it."""
    rows = s.execute(
        select(ScoreOverride, User.name)
        .join(User, User.id == ScoreOverride.by_user_id)
        .where(ScoreOverride.submission_id == submission_id)
        .order_by(ScoreOverride.id)
    ).all()
    return [
        AuditEntry(o.original_score, o.score, name, o.comment, o.created_at) for o, name in rows
    ]
