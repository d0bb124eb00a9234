"""Sign in (rate-limited, constant work for unknown names) and sign out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from web.access import PortalUser
from web.auth import bp
from web.database import db, settings
from web.security import begin_login, finish_login
from worker.models import User

# Checked against when the name is unknown, so a wrong name costs what a wrong password does.
_NOBODY = generate_password_hash("not anyone's password", method="scrypt")


class LoginForm(FlaskForm):
    name = StringField("User name", validators=[DataRequired(), Length(max=120)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def safe_next(target: str | None) -> str:
    """Only a path on this site after signing in; anything else goes to the courses page.

    Browsers drop tabs and newlines inside a URL and read a backslash as ``/``,
    so ``/%09/evil.example`` (a tab) and ``/\\evil`` are ``//evil.example`` and
    ``//evil`` to them: a target with any control character, space or backslash
    is refused outright, and what is left must be a path (no scheme, no host).
    """
    if not target or any(ord(ch) < 33 or ord(ch) == 127 or ch == "\\" for ch in target):
        return url_for("student.courses")
    parts = urlsplit(target)
    on_site = not (parts.scheme or parts.netloc or target.startswith("//"))
    if target.startswith("/") and on_site:
        return target
    return url_for("student.courses")


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(url_for("student.courses"))
    form = LoginForm()
    if form.validate_on_submit():
        name = form.name.data.strip()
        remote = request.remote_addr or "?"
        url = settings().database_url
        attempt, wait = begin_login(url, name, remote)
        if attempt is None:
            minutes = max(1, round(wait / 60))
            flash(f"Too many failed sign-ins. Try again in {minutes} minutes.", "error")
            return render_template("auth/login.html", form=form), 429
        row = db().execute(select(User.id, User.name, User.password_hash).where(User.name == name))
        user = row.first()
        ok = check_password_hash(
            user.password_hash if user and user.password_hash else _NOBODY, form.password.data
        )
        ok = ok and user is not None and user.password_hash is not None
        if ok:
            finish_login(url, attempt)
            login_user(PortalUser(user.id, user.name))
            return redirect(safe_next(request.args.get("next")))
        flash("Wrong user name or password.", "error")
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Response:
    logout_user()
    flash("Signed out.", "info")
    return redirect(url_for("auth.login"))
