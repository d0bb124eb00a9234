"""``/account/tokens``: any signed-in user makes, lists and revokes their API tokens.

A new token is shown once, on the page that made it (never stored in plain,
never put in the session or a redirect's URL).
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from web.api import tokens_bp
from web.api.tokens import (
    SCOPES,
    TokenRefused,
    create_token,
    is_staff_anywhere,
    revoke_token,
    tokens_of,
)
from web.database import db


def _page(new_token: str = "", status: int = 200) -> tuple[str, int]:
    s = db()
    staff = is_staff_anywhere(s, current_user.id)
    page = render_template(
        "api/tokens.html",
        tokens=tokens_of(s, current_user.id),
        scopes=SCOPES if staff else ("student",),
        new_token=new_token,
    )
    return page, status


@tokens_bp.after_request
def _no_store(response: Response) -> Response:
    """A page that may show a new token is never kept by a browser's or a proxy's cache."""
    response.headers["Cache-Control"] = "no-store"
    return response


@tokens_bp.route("/account/tokens")
@login_required
def tokens() -> tuple[str, int]:
    return _page()


@tokens_bp.route("/account/tokens", methods=["POST"])
@login_required
def create() -> tuple[str, int]:
    try:
        _, plain = create_token(
            db(), current_user.id, request.form.get("name", ""), request.form.get("scope", "")
        )
    except TokenRefused as err:
        flash(f"No token made: {err}.", "error")
        return _page(status=400)
    return _page(new_token=plain, status=201)


@tokens_bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke(token_id: int) -> Response:
    if revoke_token(db(), current_user.id, token_id):
        flash("Token revoked: it no longer works.", "info")
    else:
        flash("No such token of yours, or it was already revoked.", "error")
    return redirect(url_for("tokens.tokens"))
