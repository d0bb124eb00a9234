"""The JSON API (``/api/v1``) and the page where people make their API tokens.

- ``bp`` (``/api/v1``): every request but ``openapi.json`` carries
  ``Authorization: Bearer <token>`` (``web.api.auth``); the session cookie is
  never read here, which is why the blueprint is exempt from CSRF: a browser
  cannot be tricked into sending a bearer token. The token's user becomes
  ``current_user`` for the request, so the portal's own gates
  (``web.access``) and functions answer exactly as they do for the pages.
- ``student`` and ``staff``: the routes, by audience (``openapi`` describes them).
- ``pages`` (``tokens_bp``): ``/account/tokens`` for any signed-in user.
- ``tokens``: making, revoking and checking tokens (only their sha256 is stored).

``init_app`` also registers ``web.instructor`` (``/instructor``) and ``web.admin``
(``/admin``), so the app factory needs one line for all of them.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
tokens_bp = Blueprint("tokens", __name__)

from web.api import auth, instructor, openapi, pages, staff, student  # noqa: E402,F401


def init_app(app) -> None:  # type: ignore[no-untyped-def]
    """Register both blueprints; the API alone is exempt from CSRF (bearer tokens only)."""
    from web.admin import bp as admin_bp
    from web.extensions import csrf
    from web.instructor import bp as instructor_bp

    csrf.exempt(bp)
    app.register_blueprint(bp)
    app.register_blueprint(tokens_bp)
    app.register_blueprint(instructor_bp, url_prefix="/instructor")
    app.register_blueprint(admin_bp, url_prefix="/admin")
