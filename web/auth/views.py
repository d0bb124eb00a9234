"""Sign in (rate-limited, constant work for unknown names) and sign out."""

from __future__ import annotations

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
from web.database import db
from web.security import login_refused_for, record_login
from worker.models import User

# Checked against when the name is unknown, so a wrong name costs what a wrong password does.
_NOBODY = generate_password_hash("not anyone's password", method="scrypt")


class LoginForm(FlaskForm):
    name = StringField("User name", validators=[DataRequired(), Length(max=120)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def _safe_next(target: str | None) -> str:
    """Only a path on this site (never ``//evil`` or ``https://evil``) after signing in."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
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
        wait = login_refused_for(name, remote)
        if wait is not None:
            minutes = max(1, round(wait / 60))
            flash(f"Too many failed sign-ins. Try again in {minutes} minutes.", "error")
            return render_template("auth/login.html", form=form), 429
        row = db().execute(select(User.id, User.name, User.password_hash).where(User.name == name))
        user = row.first()
        ok = check_password_hash(
            user.password_hash if user and user.password_hash else _NOBODY, form.password.data
        )
        ok = ok and user is not None and user.password_hash is not None
        record_login(name, remote, ok)
        if ok:
            login_user(PortalUser(user.id, user.name))
            return redirect(_safe_next(request.args.get("next")))
        flash("Wrong user name or password.", "error")
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Response:
    logout_user()
    flash("Signed out.", "info")
    return redirect(url_for("auth.login"))
