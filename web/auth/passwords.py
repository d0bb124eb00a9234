"""Passwords: what a new one must be, one-time passwords, and what setting one ends.

Who may set an account's password (the views enforce it; ``issue_one_time``
only carries it out):

- its owner, on ``/account/password``, knowing the current one;
- a site administrator, for any account (a one-time password);
- an instructor, for a student of their course whose every enrolment is as a
  student in a course that instructor teaches (``instructor_may_reset``): an
  account with a role anywhere else, or enrolled in a course they do not
  teach, belongs to more than their course, and only its owner or a site
  administrator changes it.

A one-time password (a roster import's, an instructor's, an administrator's)
is shown once to whoever issued it and must be changed at the next sign-in
(``web.access`` lets such a session open nothing else). Setting any password
raises the account's session version, so every session of it ends, and revokes
its API tokens: a password is changed because someone else may know it, and
whoever knew it could have made a token too.
"""

from __future__ import annotations

import secrets

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from worker.models import ApiToken, Enrollment, Role, User, utcnow

MIN_LENGTH = 10
MAX_LENGTH = 200


class PasswordRefused(ValueError):
    """The new password cannot be used; the message says why."""


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def one_time_password() -> str:
    """12 characters of URL-safe base64 (72 bits): typed once, from a page, then replaced."""
    return secrets.token_urlsafe(9)


def check_new_password(new: str, repeated: str, *, current: str = "", login: str = "") -> None:
    if new != repeated:
        raise PasswordRefused("the two new passwords differ")
    if not MIN_LENGTH <= len(new) <= MAX_LENGTH:
        raise PasswordRefused(f"a password has {MIN_LENGTH} to {MAX_LENGTH} characters")
    if current and new == current:
        raise PasswordRefused("the new password is the one-time or current one")
    if login and new.strip().lower() == login.strip().lower():
        raise PasswordRefused("the password cannot be the user name")


def set_password(s: Session, user_id: int, digest: str, *, one_time: bool) -> None:
    """Store ``digest``, end every session of the account and revoke its API tokens (no
    commit)."""
    s.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    s.execute(
        update(User)
        .where(User.id == user_id)
        .values(
            password_hash=digest,
            must_change_password=one_time,
            session_version=User.session_version + 1,
        )
    )


def issue_one_time(s: Session, user_id: int) -> str:
    """A new one-time password for the account (no commit); returned to show once."""
    password = one_time_password()
    set_password(s, user_id, hash_password(password), one_time=True)
    return password


def instructor_may_reset(s: Session, instructor_id: int, course_id: int, user_id: int) -> bool:
    """Whether the instructor of ``course_id`` may issue ``user_id`` a one-time password."""
    if s.scalar(select(User.is_admin).where(User.id == user_id)) is not False:
        return False  # an administrator, or no such account
    taught = select(Enrollment.course_id).where(
        Enrollment.user_id == instructor_id, Enrollment.role == Role.INSTRUCTOR.value
    )
    enrolments = s.execute(
        select(
            func.count(),
            func.count().filter(Enrollment.role == Role.STUDENT.value),
            func.count().filter(Enrollment.course_id.in_(taught)),
            func.count().filter(Enrollment.course_id == course_id),
        ).where(Enrollment.user_id == user_id)
    ).one()
    total, as_student, in_taught, here = enrolments
    return here == 1 and total == as_student == in_taught
