"""The site administrators' pages (``/admin``): courses and their instructors, passwords.

A site administrator is made on a server host (``dlgrade users admin LOGIN``),
never through the portal. They create courses with their first instructor
(an existing account, or a new one with a one-time password shown once), add
an instructor to an existing course, and issue one-time passwords to any
account. Being one opens no course's submissions, reports or gradebook: those
stay with the course's own staff (an administrator who teaches is enrolled
like anyone else).

Every page calls ``site_admin_required`` (``web.access``): anyone else gets 404.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__)


@bp.after_request
def _no_store(response):  # type: ignore[no-untyped-def]
    """These pages may show one-time passwords: never cached."""
    response.headers["Cache-Control"] = "no-store"
    return response


from web.admin import views  # noqa: E402,F401  (registers the routes)
