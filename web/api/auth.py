"""Bearer-token authentication for ``/api/v1``, the scope gate, and errors as JSON.

The token's user is put where Flask-Login looks first (``g._login_user``)
before anything reads ``current_user``: the session cookie is never consulted,
so a browser's signed-in session gives no access to the API (and so CSRF does
not apply to it).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, g, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from web.access import PortalUser, staff_required
from web.api import bp
from web.api.tokens import Bearer, authenticate
from web.database import db

F = TypeVar("F", bound=Callable[..., Any])
PUBLIC = frozenset({"api.openapi"})


def error(status: int, message: str, **extra: Any) -> Response:
    response = jsonify({"error": message, **extra})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.before_request
def _bearer() -> Response | None:
    if request.endpoint in PUBLIC:
        return None
    kind, _, plain = request.headers.get("Authorization", "").partition(" ")
    found = authenticate(db(), plain.strip()) if kind.lower() == "bearer" else None
    if found is None:
        response = error(401, "a valid API token is needed: Authorization: Bearer <token>")
        response.headers["WWW-Authenticate"] = 'Bearer realm="dlgrade"'
        return response
    g.api_bearer = found
    g._login_user = PortalUser(found.user_id, found.name)  # Flask-Login's current_user
    return None


@bp.after_request
def _no_store(response: Response) -> Response:
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _json_error(err: HTTPException) -> Response:
    words = {404: "not found, or not yours to see"}
    return error(err.code or 500, words.get(err.code or 500, err.description or err.name))


# By code as well as by class: Flask tries the app's handler for a code (the HTML error
# pages) before a blueprint's handler for the class.
bp.register_error_handler(HTTPException, _json_error)
for _code in (400, 401, 403, 404, 405, 413, 429):
    bp.register_error_handler(_code, _json_error)


def bearer() -> Bearer:
    return g.api_bearer


def staff_api(view: F) -> F:
    """A staff route of the course in the URL: a staff-scoped token AND a TA or instructor of
    THAT course (``staff_required``: else 404, as the pages answer)."""

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        staff_required(int(kwargs["course_id"]))  # 404 first: no hint to outsiders
        if bearer().scope != "staff":
            abort(403, "this token's scope is student; make a staff token for staff routes")
        return view(*args, **kwargs)

    return guarded  # type: ignore[return-value]
