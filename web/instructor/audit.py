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


def _shown(value: Any) -> str:
    """A stored value as a sentence names it: times without their T and Z, lists joined."""
    if value is None or value == "" or value == []:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k} {_shown(v)}" for k, v in value.items())
    text = str(value)
    if len(text) >= 16 and text[4:5] == "-" and text[10:11] == "T":  # an ISO 8601 time
        return text[:16].replace("T", " ") + " UTC"
    return text


def changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """What an entry changed, one phrase a field, in the order the change gave them."""
    said = []
    for key in [*after, *(k for k in before if k not in after)]:
        name = key.replace("_", " ")
        if key in before and key in after:
            if before[key] != after[key]:
                said.append(f"{name} from {_shown(before[key])} to {_shown(after[key])}")
        elif key in after:
            said.append(f"{name} {_shown(after[key])}")
        else:
            said.append(f"{name} was {_shown(before[key])}")
    return said


def sentence(entry: CourseAudit, who: str) -> str:
    """An entry as staff read it, e.g. "prof: assignment settings (assignment losses):
    due from none to 2027-03-01 23:59 UTC; counts from latest to best." """
    said = changes(entry.before or {}, entry.after or {})
    head = f"{who}: {entry.action} ({entry.subject})"
    return f"{head}: {'; '.join(said)}." if said else f"{head}."
