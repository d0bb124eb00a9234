"""Response headers, cookie flags and the sign-in rate limit.

CSP: scripts and styles only from this site's ``/static`` (no inline ``<script>``
or ``style=""``), so text a student controls cannot run even if a template
slipped; Jinja's autoescape is the first line, this is the second.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, Response
from sqlalchemy import func, insert, select

from web.database import db
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


def login_refused_for(name: str, remote: str) -> int | None:
    """Seconds until ``name`` from ``remote`` may try again; None when they may now."""
    since = utcnow() - LOGIN_WINDOW
    s = db()
    for column, key, limit in (
        (LoginAttempt.name, name, LOGIN_FAILURES_PER_NAME),
        (LoginAttempt.remote, remote, LOGIN_FAILURES_PER_ADDRESS),
    ):
        count, oldest = s.execute(
            select(func.count(), func.min(LoginAttempt.at)).where(
                column == key, LoginAttempt.ok.is_(False), LoginAttempt.at > since
            )
        ).one()
        if count >= limit:
            return max(1, int((oldest + LOGIN_WINDOW - utcnow()).total_seconds()))
    return None


def record_login(name: str, remote: str, ok: bool) -> None:
    s = db()
    s.execute(insert(LoginAttempt).values(name=name[:120], remote=remote[:64], ok=ok, at=utcnow()))
    s.commit()
