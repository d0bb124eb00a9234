"""A new term from an old one: a course's assignments and their settings copied in one step.

What is copied, as Canvas's course copy and Gradescope's "duplicate course" do:
the newest version of each assignment the course offers (the same folder, the
same checks) with every setting the staff chose (late policy, which submission
counts, rate limit, in-flight cap, queue, hidden-check release), the dates moved
by a whole number of days (``shift_days``; 0 keeps them, and a term that starts
26 weeks later passes 182). What is not: people (the instructor who copies is the
new course's only member; the roster is imported next), submissions, reports,
overrides and extensions (they belong to the old term's students), and the
upload history (the published folders themselves are shared, read-only).

Both courses' audit logs record the copy, in the transaction that makes it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from web.grades import course_assignments
from web.instructor import audit
from worker.models import Assignment, Course, Enrollment, Role

COURSE_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,79}$")
MAX_SHIFT_DAYS = 3 * 366
# Every column of a course's assignment row that is the staff's or the folder's, not the row's.
COPIED = (
    "slug", "version", "manifest_hash", "title", "queue", "path", "max_score", "time_limit_s",
    "summary", "grace_minutes", "late_penalty_per_day", "late_penalty_cap", "accept_late",
    "counts", "rate_limit", "max_in_flight",
)  # fmt: skip


class CopyRefused(ValueError):
    """The new term cannot be made; the message says why."""


@dataclass(frozen=True)
class Copied:
    course_id: int
    slug: str
    title: str
    assignments: list[str]


def parse_copy(form: dict[str, object]) -> tuple[str, str, int]:
    """(slug, title, shift_days) from a form or a JSON body; CopyRefused if any is wrong."""
    slug = str(form.get("slug") or "").strip().lower()
    title = str(form.get("title") or "").strip()[:200]
    if not COURSE_SLUG.match(slug) or not title:
        raise CopyRefused("a course needs a short name (a-z, 0-9, -) and a title with its term")
    raw = str(form.get("shift_days") if form.get("shift_days") is not None else "0").strip()
    try:
        shift = int(raw or "0")
    except ValueError:
        raise CopyRefused(f"shift days: a whole number of days, not {raw[:40]!r}") from None
    if abs(shift) > MAX_SHIFT_DAYS:
        raise CopyRefused(f"shift days: at most {MAX_SHIFT_DAYS} either way")
    return slug, title, shift


def copy_course(
    s: Session, source_id: int, slug: str, title: str, shift_days: int, by_user_id: int
) -> Copied:
    """Make course ``slug`` with ``source_id``'s assignments and settings (commits).

    The caller is an instructor of ``source_id`` (``instructor_required``) and becomes
    the new course's instructor. CopyRefused if the short name is taken.
    """
    source = s.get(Course, source_id)
    assert source is not None  # the gate above found the caller enrolled in it
    shift = timedelta(days=shift_days)
    offered = course_assignments(s, source_id)
    try:
        course = Course(slug=slug, title=title)
        s.add(course)
        s.flush()
    except IntegrityError:
        s.rollback()
        raise CopyRefused(f"there is already a course {slug}") from None
    s.add(Enrollment(user_id=by_user_id, course_id=course.id, role=Role.INSTRUCTOR.value))
    for a in offered:
        values = {name: getattr(a, name) for name in COPIED}
        s.add(
            Assignment(
                course_id=course.id,
                due=a.due + shift if a.due else None,
                hidden_release=a.hidden_release + shift if a.hidden_release else None,
                **values,
            )
        )
    slugs = [a.slug for a in offered]
    audit.record(s, course.id, by_user_id, "course copied", f"from {source.slug}", {},
                 {"title": title, "assignments": slugs, "shift_days": shift_days})  # fmt: skip
    audit.record(s, source_id, by_user_id, "course copied", f"to {slug}", {},
                 {"course": course.id, "assignments": slugs, "shift_days": shift_days})  # fmt: skip
    s.commit()
    return Copied(course.id, slug, title, slugs)
