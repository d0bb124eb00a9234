"""Who may see what: the signed-in user, and the two gates every course page goes through.

A page of a course calls ``enrollment_or_404`` (any role) or ``staff_required``
(TA or instructor) before it reads anything of that course. Both answer 404,
not 403, to someone outside: an id that is not yours looks like one that does
not exist, so changing ids in a URL teaches nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, abort
from flask_login import UserMixin, current_user
from sqlalchemy import select

from web.database import db
from web.extensions import login_manager
from worker.models import Enrollment, Role, User

STAFF_ROLES = (Role.TA.value, Role.INSTRUCTOR.value)
F = TypeVar("F", bound=Callable[..., Any])


class PortalUser(UserMixin):
    """The signed-in person, as Flask-Login holds them (a plain copy, not an ORM row)."""

    def __init__(self, user_id: int, name: str) -> None:
        self.id = user_id
        self.name = name


def _load_user(user_id: str) -> PortalUser | None:
    if not user_id.isdigit():
        return None
    row = (
        db()
        .execute(
            select(User.id, User.name).where(
                User.id == int(user_id), User.password_hash.is_not(None)
            )
        )
        .first()
    )
    return PortalUser(row.id, row.name) if row else None


def enrollment(course_id: int) -> Enrollment | None:
    """The signed-in user's enrollment in ``course_id``, if any."""
    if not current_user.is_authenticated:
        return None
    return db().scalar(
        select(Enrollment).where(
            Enrollment.course_id == course_id, Enrollment.user_id == current_user.id
        )
    )


def enrollment_or_404(course_id: int) -> Enrollment:
    found = enrollment(course_id)
    if found is None:
        abort(404)
    return found


def staff_required(course_id: int) -> Enrollment:
    """The signed-in user's enrollment if they are a TA or instructor of THAT course; else 404."""
    found = enrollment(course_id)
    if found is None or found.role not in STAFF_ROLES:
        abort(404)
    return found


def staff_view(view: F) -> F:
    """Decorator form of ``staff_required`` for views with a ``course_id`` argument."""

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        staff_required(int(kwargs["course_id"]))
        return view(*args, **kwargs)

    return guarded  # type: ignore[return-value]


def init_app(app: Flask) -> None:
    login_manager.user_loader(_load_user)
