"""The course's audit log: every change staff make to settings, extensions and the roster.

``record`` adds a row in the caller's transaction (the change and its entry
commit together or not at all). Score overrides are logged by their own table
(``ScoreOverride``), shown with the submission.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from worker.models import CourseAudit, User, utcnow


def plain(value: Any) -> Any:
    """A value as the JSON columns store it (times as ISO 8601, UTC)."""
    if isinstance(value, datetime):
        return value.isoformat() + "Z"
    return value


def record(
    s: Session,
    course_id: int,
    by_user_id: int,
    action: str,
    subject: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    s.add(
        CourseAudit(
            course_id=course_id,
            by_user_id=by_user_id,
            action=action,
            subject=subject[:200],
            before={k: plain(v) for k, v in (before or {}).items()},
            after={k: plain(v) for k, v in (after or {}).items()},
            at=utcnow(),
        )
    )


def entries(s: Session, course_id: int, limit: int = 200) -> list[tuple[CourseAudit, str]]:
    """The course's newest entries first, with who made each."""
    rows = s.execute(
        select(CourseAudit, User.name)
        .join(User, User.id == CourseAudit.by_user_id)
        .where(CourseAudit.course_id == course_id)
        .order_by(CourseAudit.id.desc())
        .limit(limit)
    ).all()
    return [(a, name) for a, name in rows]
