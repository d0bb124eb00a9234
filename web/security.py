"""Response headers, cookie flags and the sign-in rate limit.

CSP: scripts and styles only from this site's ``/static`` (no inline ``<script>``
or ``style=""``), so text a student controls cannot run even if a template
slipped; Jinja's autoescape is the first line, this is the second.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, Response
from sqlalchemy import Connection, func, insert, select, text, update

from worker.db import get_engine
from worker.models import LoginAttempt, utcnow

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
# Failed sign-ins allowed per name, and per address (a class behind one NAT shares it),
# in the window; then the door stays shut until the oldest failure leaves the window.
LOGIN_FAILURES_PER_NAME = 5
LOGIN_FAILURES_PER_ADDRESS = 50
LOGIN_WINDOW = timedelta(minutes=15)
ADVISORY_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))")


def configure(app: Flask) -> None:
    tls = bool(app.config.get("DLGRADE_TLS", False))
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=tls,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=tls,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
    )

    @app.after_request
    def _headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if tls:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response


def _wait(conn: Connection, name: str, remote: str) -> int | None:
    """Seconds until ``name`` from ``remote`` may try again; None when they may now."""
    since = utcnow() - LOGIN_WINDOW
    for column, key, limit in (
        (LoginAttempt.name, name, LOGIN_FAILURES_PER_NAME),
        (LoginAttempt.remote, remote, LOGIN_FAILURES_PER_ADDRESS),
    ):
        count, oldest = conn.execute(
            select(func.count(), func.min(LoginAttempt.at)).where(
                column == key, LoginAttempt.ok.is_(False), LoginAttempt.at > since
            )
        ).one()
        if count >= limit:
            return max(1, int((oldest + LOGIN_WINDOW - utcnow()).total_seconds()))
    return None


def begin_login(url: str, name: str, remote: str) -> tuple[int | None, int | None]:
    """Count this sign-in against the limits BEFORE its password is checked: (attempt, wait).

    Either ``wait`` seconds when the name or the address is over its limit, or
    the id of an attempt recorded as failed, which ``finish_login`` turns into a
    success. Counting and recording are one step under a lock (SQLite: the
    worker's engine takes the write lock at BEGIN; PostgreSQL: transaction
    advisory locks on the name and the address, always in that order), so N
    parallel guesses for one name cost at most the limit's password checks,
    never N: each one sees the attempts of those before it still pending.
    """
    name, remote = name[:120], remote[:64]
    with get_engine(url).begin() as conn:
        if conn.dialect.name == "postgresql":
            for key in (f"login name {name}", f"login remote {remote}"):
                conn.execute(ADVISORY_LOCK, {"k": key})
        wait = _wait(conn, name, remote)
        if wait is not None:
            return None, wait
        attempt = conn.scalar(
            insert(LoginAttempt)
            .values(name=name, remote=remote, ok=False, at=utcnow())
            .returning(LoginAttempt.id)
        )
    return int(attempt), None


def finish_login(url: str, attempt: int) -> None:
    """The attempt's password was right: it no longer counts as a failure."""
    with get_engine(url).begin() as conn:
        conn.execute(update(LoginAttempt).where(LoginAttempt.id == attempt).values(ok=True))
