"""An assignment's course settings and students' extensions, changed with an audit entry each.

The settings live on every version of the assignment (``worker.submit`` copies
them to a new version), so a change is written to all of the course's versions
of the slug. Only the fields that change are logged, with their old and new
values. Times are UTC, written ``YYYY-MM-DD HH:MM`` (or ISO 8601); blank clears.

The queue (cpu or gpu) decides where new runs and regrades go (``worker.routing``
weighs it with the manifest's CPU fallback and the deployment's GPU workers);
``queue_view`` shows the instructor what the manifest prefers and where a run
would go now.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from web.grades import version_ids
from web.instructor.audit import record
from worker.config import Settings, parse_rate
from worker.models import Assignment, Counts, Enrollment, Extension, Role, User, utcnow
from worker.routing import QUEUES, preference_of, route

FIELDS = (
    "due",
    "hidden_release",
    "grace_minutes",
    "late_penalty_per_day",
    "late_penalty_cap",
    "accept_late",
    "counts",
    "rate_limit",
    "max_in_flight",
    "queue",
)


class SettingsRefused(ValueError):
    """A value cannot be used; the message says which and why."""


def parse_time(raw: str, label: str) -> datetime | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise SettingsRefused(f"{label}: {raw[:40]!r} is not a date and time") from None
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return when


def _fraction(raw: str, label: str, *, blank: float | None) -> float | None:
    raw = raw.strip().rstrip("%")
    if not raw:
        return blank
    try:
        value = float(raw)
    except ValueError:
        raise SettingsRefused(f"{label}: {raw[:40]!r} is not a number") from None
    if value > 1:
        value /= 100  # written as a percentage
    if not math.isfinite(value) or not 0 <= value <= 1:
        raise SettingsRefused(f"{label}: a fraction from 0 to 1 (or a percentage)")
    return value


def _text(form: Mapping[str, Any], key: str, default: str = "") -> str:
    """A field as text: JSON's null (what GET gives for an unset date) is a blank field."""
    value = form.get(key)
    return default if value is None else str(value)


def parse_settings(form: Mapping[str, Any]) -> dict[str, Any]:
    """The settings from a form or a JSON body (every field required, as the form sends,
    but ``queue``: left out, it stays as it is, so a client that predates it moves nothing)."""
    try:
        grace = int(_text(form, "grace_minutes", "0").strip() or "0")
    except ValueError:
        raise SettingsRefused("grace minutes: a whole number") from None
    if not 0 <= grace <= 7 * 24 * 60:
        raise SettingsRefused("grace minutes: from 0 to a week")
    counts = _text(form, "counts", Counts.LATEST.value)
    if counts not in (Counts.LATEST.value, Counts.BEST.value):
        raise SettingsRefused("which submission counts: latest or best")
    accept = form.get("accept_late", False)
    rate = _text(form, "rate_limit").strip() or None
    if rate is not None:
        try:
            count, window = parse_rate(rate)
            if not math.isfinite(window):
                raise ValueError(rate)
        except ValueError:
            raise SettingsRefused(
                f"rate limit: {rate[:40]!r} is not COUNT/SECONDS, e.g. 10/3600"
            ) from None
        rate = f"{count}/{window:g}"
    raw_cap = _text(form, "max_in_flight").strip()
    try:
        cap = int(raw_cap) if raw_cap else None
    except ValueError:
        raise SettingsRefused("in-flight cap: a whole number, or blank for none") from None
    if cap is not None and not 1 <= cap <= 1000:
        raise SettingsRefused("in-flight cap: from 1 to 1000, or blank for none")
    queue: dict[str, str] = {}
    if form.get("queue") is not None:
        queue["queue"] = str(form["queue"]).strip().lower()
        if queue["queue"] not in QUEUES:
            raise SettingsRefused(f"queue: cpu or gpu, not {str(form['queue'])[:40]!r}")
    return queue | {
        "due": parse_time(_text(form, "due"), "due"),
        "hidden_release": parse_time(_text(form, "hidden_release"), "hidden release"),
        "grace_minutes": grace,
        "late_penalty_per_day": _fraction(
            _text(form, "late_penalty_per_day"), "late penalty per day", blank=0.0
        ),
        "late_penalty_cap": _fraction(
            _text(form, "late_penalty_cap"), "late penalty cap", blank=None
        ),
        "accept_late": accept is True or str(accept).lower() in ("1", "on", "true", "yes"),
        "counts": counts,
        "rate_limit": rate,
        "max_in_flight": cap,
    }


def current(a: Assignment) -> dict[str, Any]:
    return {name: getattr(a, name) for name in FIELDS}


def queue_view(a: Assignment, settings: Settings) -> dict[str, Any]:
    """What the manifest prefers (``manifest``) and where a new run or regrade goes now
    (``new_runs``: queue and note); ``problem`` instead of what cannot be told."""
    try:
        prefers = preference_of(a.path)
    except (OSError, ValueError) as err:  # tomllib's errors are ValueErrors
        problem = f"the manifest cannot be read ({type(err).__name__})"
        return {"manifest": None, "new_runs": None, "problem": problem}
    manifest = {
        "queue": prefers.queue,
        "cpu_fallback": prefers.cpu_fallback,
        "says": prefers.describe(),
    }
    try:
        routed = route(prefers, settings, queue=a.queue)
    except ValueError as err:  # DLGRADE_GPU_QUEUE misspelt: submissions are refused too
        return {"manifest": manifest, "new_runs": None, "problem": str(err)}
    return {"manifest": manifest, "new_runs": {"queue": routed.queue, "note": routed.note}}


def change_settings(
    s: Session, course_id: int, a: Assignment, wanted: dict[str, Any], by_user_id: int
) -> dict[str, tuple[Any, Any]]:
    """Write the changed settings to every version of ``a`` in the course, logged (commits)."""
    before = current(a)
    changed = {k: (before[k], v) for k, v in wanted.items() if before[k] != v}
    if changed:
        s.execute(
            update(Assignment)
            .where(Assignment.id.in_(version_ids(s, course_id, a.slug)))
            .values(**{k: v for k, (_, v) in changed.items()})
        )
        record(
            s,
            course_id,
            by_user_id,
            "assignment settings",
            f"assignment {a.slug}",
            {k: old for k, (old, _) in changed.items()},
            {k: new for k, (_, new) in changed.items()},
        )
    s.commit()
    return changed


def set_extension(
    s: Session,
    course_id: int,
    slug: str,
    login: str,
    due: datetime | None,
    comment: str,
    by_user_id: int,
) -> None:
    """Give a student of the course their own due date, change it, or (``due`` None) remove it."""
    student = s.scalar(
        select(User.id)
        .join(Enrollment, Enrollment.user_id == User.id)
        .where(
            User.name == login.strip(),
            Enrollment.course_id == course_id,
            Enrollment.role == Role.STUDENT.value,
        )
    )
    if student is None:
        raise SettingsRefused(f"{login.strip()[:60]!r} is not a student of this course")
    row = s.scalar(
        select(Extension).where(
            Extension.course_id == course_id,
            Extension.assignment_slug == slug,
            Extension.user_id == student,
        )
    )
    before = {"due": row.due if row else None}
    if due is None:
        if row is None:
            raise SettingsRefused(f"{login.strip()} has no extension to remove")
        s.delete(row)
    elif row is None:
        s.add(
            Extension(
                course_id=course_id,
                assignment_slug=slug,
                user_id=student,
                due=due,
                granted_by=by_user_id,
                comment=comment,
                created_at=utcnow(),
            )
        )
    else:
        row.due, row.granted_by, row.comment = due, by_user_id, comment
    record(
        s,
        course_id,
        by_user_id,
        "extension",
        f"assignment {slug}, student {login.strip()}",
        before,
        {"due": due, "comment": comment},
    )
    s.commit()
