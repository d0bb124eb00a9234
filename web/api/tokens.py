"""Personal API tokens: made once, shown once, stored as their sha256, revoked for good.

A token is ``dlg_`` and 32 random bytes in URL-safe base64: guessing one is
hopeless, so an unsalted sha256 is enough to store (a leaked table reveals no
usable token) and makes the lookup one indexed equality.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from worker.models import ApiToken, Enrollment, Role, User, utcnow

PREFIX = "dlg_"
SCOPES = ("student", "staff")
LAST_USED_EVERY = timedelta(minutes=1)
MAX_TOKENS = 20  # live tokens per person: enough for every script, not a table to fill


class TokenRefused(ValueError):
    """The token cannot be made; the message says why."""


@dataclass(frozen=True)
class Bearer:
    """Who a valid token speaks for."""

    token_id: int
    user_id: int
    name: str
    scope: str


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def is_staff_anywhere(s: Session, user_id: int) -> bool:
    staff = (Role.TA.value, Role.INSTRUCTOR.value)
    found = s.scalar(
        select(Enrollment.id)
        .where(Enrollment.user_id == user_id, Enrollment.role.in_(staff))
        .limit(1)
    )
    return found is not None


def create_token(s: Session, user_id: int, name: str, scope: str) -> tuple[ApiToken, str]:
    """A new token for ``user_id`` (commits); the plain token is returned once, never stored."""
    name = name.strip()
    if not name or len(name) > 120:
        raise TokenRefused("give the token a name of 1 to 120 characters (what it is for)")
    if scope not in SCOPES:
        raise TokenRefused("the scope is student or staff")
    if scope == "staff" and not is_staff_anywhere(s, user_id):
        raise TokenRefused("only a TA or instructor of a course may make a staff token")
    live = s.scalars(
        select(ApiToken.id).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
    ).all()
    if len(live) >= MAX_TOKENS:
        raise TokenRefused(f"you have {len(live)} tokens; revoke one first")
    plain = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user_id,
        name=name,
        token_hash=digest(plain),
        prefix=plain[:12],
        scope=scope,
        created_at=utcnow(),
    )
    s.add(row)
    s.commit()
    return row, plain


def revoke_token(s: Session, user_id: int, token_id: int) -> bool:
    """Revoke one of ``user_id``'s own tokens (commits); False if there is no such live token."""
    done = s.execute(
        update(ApiToken)
        .where(ApiToken.id == token_id, ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    s.commit()
    return bool(done.rowcount)


def tokens_of(s: Session, user_id: int) -> list[ApiToken]:
    return list(
        s.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id.desc()))
    )


def authenticate(s: Session, plain: str) -> Bearer | None:
    """Who ``plain`` speaks for, if it is a live token of a user who may sign in."""
    if not plain.startswith(PREFIX) or len(plain) > 200:
        return None
    row = s.execute(
        select(ApiToken.id, ApiToken.user_id, ApiToken.scope, ApiToken.last_used_at, User.name)
        .join(User, User.id == ApiToken.user_id)
        .where(
            ApiToken.token_hash == digest(plain),
            ApiToken.revoked_at.is_(None),
            User.password_hash.is_not(None),
        )
    ).first()
    if row is None:
        return None
    now = utcnow()
    # At most one write a minute per token: a script polling a status is not a write each time
    # (on SQLite every write takes the database's one lock).
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_EVERY:
        s.execute(update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now))
        s.commit()
    else:
        s.rollback()  # end the read transaction (it would hold SQLite's lock for the request)
    return Bearer(row.id, row.user_id, row.name, row.scope)
