"""Who may see what: the signed-in user, and the two gates every course page goes through.

A page of a course calls ``enrollment_or_404`` (any role), ``staff_required``
(TA or instructor) or ``instructor_required`` before it reads anything of that
course; ``/admin`` calls ``site_admin_required``, which opens no course. Both answer 404,
not 403, to someone outside: an id that is not yours looks like one that does
not exist, so changing ids in a URL teaches nothing.

After the gate, a course's data is read through its course id: an assignment's
rows belong to one course (``worker.models.Assignment``; any number of courses
offer the same folder, each with rows of its own), so a page finds one with
``web.grades.course_assignment(s, course_id, slug)`` and its submissions with
``version_ids(s, course_id, slug)``, never by slug alone.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, abort, redirect, request, url_for
from flask_login import UserMixin, current_user
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from web.database import db
from web.extensions import login_manager
from worker.models import Enrollment, Role, User

STAFF_ROLES = (Role.TA.value, Role.INSTRUCTOR.value)
F = TypeVar("F", bound=Callable[..., Any])


class PortalUser(UserMixin):
    """The signed-in person, as Flask-Login holds them (a plain copy, not an ORM row).

    The session cookie holds ``get_id()``: the account's id AND the session
    version it signed in under. Logout and a password change raise the
    account's version, so every cookie issued before (copied, stolen, on
    another device) stops opening pages at its next request: sessions are
    ended on the server, not only forgotten by one browser.
    """

    def __init__(
        self,
        user_id: int,
        name: str,
        *,
        version: int = 0,
        must_change_password: bool = False,
        is_admin: bool = False,
    ) -> None:
        self.id = user_id
        self.name = name
        self.version = version
        self.must_change_password = must_change_password
        self.is_admin = is_admin

    def get_id(self) -> str:
        return f"{self.id}:{self.version}"


def portal_user(user_id: int) -> PortalUser | None:
    """The account as a session sees it now, if it can sign in to the portal."""
    row = (
        db()
        .execute(
            select(
                User.id,
                User.name,
                User.session_version,
                User.must_change_password,
                User.is_admin,
            ).where(User.id == user_id, User.password_hash.is_not(None))
        )
        .first()
    )
    if row is None:
        return None
    return PortalUser(
        row.id,
        row.name,
        version=row.session_version,
        must_change_password=row.must_change_password,
        is_admin=row.is_admin,
    )


def _load_user(session_id: str) -> PortalUser | None:
    user_id, _, version = session_id.partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None  # a cookie from before session versions: signed out
    user = portal_user(int(user_id))
    if user is None or user.version != int(version):
        return None  # logged out or password changed since this session began
    return user


def end_every_session(s: Session, user_id: int) -> None:
    """Raise the account's session version (no commit): every session of it ends."""
    s.execute(
        update(User).where(User.id == user_id).values(session_version=User.session_version + 1)
    )


def site_admin_required() -> None:
    """A site administrator, else 404 (as every gate: nothing to learn from the answer)."""
    if not (current_user.is_authenticated and getattr(current_user, "is_admin", False)):
        abort(404)


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


def instructor_required(course_id: int) -> Enrollment:
    """The signed-in user's enrollment if they are an INSTRUCTOR of that course; else 404."""
    found = enrollment(course_id)
    if found is None or found.role != Role.INSTRUCTOR.value:
        abort(404)
    return found


def staff_view(view: F) -> F:
    """Decorator form of ``staff_required`` for views with a ``course_id`` argument."""

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        staff_required(int(kwargs["course_id"]))
        return view(*args, **kwargs)

    return guarded  # type: ignore[return-value]


# What a session with a one-time password may still open: the page that changes it,
# sign-out, and the style sheet those pages use.
ONE_TIME_PASSWORD_ALLOWS = frozenset({"auth.password", "auth.logout", "static"})


def _one_time_password_first() -> Response | None:
    """A one-time password is changed before anything else is opened (API: tokens only)."""
    if request.blueprint == "api" or request.endpoint in ONE_TIME_PASSWORD_ALLOWS:
        return None
    if current_user.is_authenticated and getattr(current_user, "must_change_password", False):
        return redirect(url_for("auth.password"))
    return None


def init_app(app: Flask) -> None:
    login_manager.user_loader(_load_user)
    app.before_request(_one_time_password_first)
