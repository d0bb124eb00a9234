"""The demo course: one course, the built-in assignments, a student, a TA and an instructor.

Used by ``dlgrade portal demo`` (``make demo``) and by the portal's tests, which
pass their own assignment folders and a cheaper password hasher.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path

from sqlalchemy import select, update

from grader.assignment import load_assignment
from grader.config import REPO_ROOT
from worker.config import Settings
from worker.db import session_factory
from worker.models import Assignment, Course, Enrollment, Role, User, utcnow
from worker.submit import register_assignment

COURSE_SLUG = "dl-foundations"
COURSE_TITLE = "Deep-learning foundations (demo)"
PEOPLE = (("student", Role.STUDENT), ("ta", Role.TA), ("instructor", Role.INSTRUCTOR))

# The course's order, one homework a week. Shipped manifests carry no dates (they
# would expire); the demo dates each built-in from the day it is first seeded, so
# every homework is open and its hidden checks still hidden whenever it is run.
DEMO_WEEKS = {
    "activations": 1,
    "losses": 2,
    "backprop": 3,
    "optimizers": 4,
    "cnn-layers": 5,
    "vanishing-gradients": 6,
    "regularization": 7,
    "mnist-numpy-mlp": 8,
    "mnist-torch-mlp": 9,
    "mnist-cnn": 10,
}
HIDDEN_RELEASE_AFTER_DUE = timedelta(hours=12, minutes=1)


def built_in_assignments() -> list[Path]:
    """Every folder under assignments/ with a manifest."""
    return sorted(p.parent for p in (REPO_ROOT / "assignments").glob("*/assignment.toml"))


def needs_mnist(folder: Path) -> bool:
    """Whether a built-in's checks grade on MNIST (they use the shared MNIST homework code)."""
    source = (folder / "checks.py").read_text(errors="replace")
    return "mnist_homework" in source or "load_mnist" in source


def mnist_missing() -> str:
    """Why MNIST cannot be loaded where gradings run ("" when it can)."""
    from reference.data import DatasetError, load_mnist

    try:
        load_mnist()
    except DatasetError as err:
        return str(err)
    return ""


@dataclass
class DemoData:
    course_id: int
    assignments: dict[str, int] = field(default_factory=dict)  # slug -> assignments.id
    # Built-ins the demo does not offer, and why (their data is not installed).
    not_offered: dict[str, str] = field(default_factory=dict)
    logins: dict[str, tuple[str, str]] = field(default_factory=dict)  # role -> (name, password)
    user_ids: dict[str, int] = field(default_factory=dict)  # name -> users.id


def _date_from_today(settings: Settings, assignment_id: int, week: int | None) -> None:
    """Due at 23:59 UTC ``week`` weeks from today, unless it has a due date already
    (a demo seeded again keeps its dates, and whatever the staff set)."""
    if week is None:
        return
    due = datetime.combine(utcnow().date() + timedelta(weeks=week), time(23, 59))
    Session = session_factory(settings.database_url)
    with Session.begin() as s:
        s.execute(
            update(Assignment)
            .where(Assignment.id == assignment_id, Assignment.due.is_(None))
            .values(due=due, hidden_release=due + HIDDEN_RELEASE_AFTER_DUE)
        )


def add_user(
    settings: Settings,
    name: str,
    password: str,
    *,
    course_id: int | None = None,
    role: Role = Role.STUDENT,
    hasher: Callable[[str], str] | None = None,
) -> int:
    """Create (or reset the password of) ``name``, enrolled in ``course_id`` as ``role``."""
    from web.auth.views import hash_password

    digest = (hasher or hash_password)(password)
    Session = session_factory(settings.database_url)
    with Session.begin() as s:
        user_id = s.scalar(select(User.id).where(User.name == name))
        if user_id is None:
            user = User(name=name, password_hash=digest)
            s.add(user)
            s.flush()
            user_id = user.id
        else:
            s.execute(update(User).where(User.id == user_id).values(password_hash=digest))
        if course_id is not None:
            found = s.scalar(
                select(Enrollment).where(
                    Enrollment.user_id == user_id, Enrollment.course_id == course_id
                )
            )
            if found is None:
                s.add(Enrollment(user_id=user_id, course_id=course_id, role=role.value))
            else:
                found.role = role.value
    return int(user_id)


def add_course(settings: Settings, slug: str, title: str) -> int:
    Session = session_factory(settings.database_url)
    with Session.begin() as s:
        course_id = s.scalar(select(Course.id).where(Course.slug == slug))
        if course_id is None:
            course = Course(slug=slug, title=title)
            s.add(course)
            s.flush()
            course_id = course.id
    return int(course_id)


def seed_demo(
    settings: Settings,
    assignments: Iterable[Path] | None = None,
    *,
    passwords: dict[str, str] | None = None,
    hasher: Callable[[str], str] | None = None,
    course_slug: str = COURSE_SLUG,
) -> DemoData:
    """Create the demo course (idempotent; passwords are reset to new random ones)."""
    course_id = add_course(settings, course_slug, COURSE_TITLE)
    demo = DemoData(course_id)
    # Built-ins graded on MNIST are offered only when MNIST is installed: a homework the
    # demo offers can be graded (scripts/fetch_data.sh installs it; make demo runs it).
    missing = mnist_missing() if assignments is None else ""
    for folder in assignments if assignments is not None else built_in_assignments():
        if missing and needs_mnist(folder):
            demo.not_offered[folder.name] = (
                "MNIST is not installed where gradings run; run scripts/fetch_data.sh, "
                f"then start the demo again ({missing.splitlines()[0][:200]})"
            )
            continue
        spec = load_assignment(folder)
        demo.assignments[spec.slug] = register_assignment(spec, settings, course_id)
        _date_from_today(settings, demo.assignments[spec.slug], DEMO_WEEKS.get(spec.slug))
    for name, role in PEOPLE:
        password = (passwords or {}).get(name) or secrets.token_urlsafe(9)
        user_id = add_user(settings, name, password, course_id=course_id, role=role, hasher=hasher)
        demo.logins[role.value] = (name, password)
        demo.user_ids[name] = user_id
    return demo
