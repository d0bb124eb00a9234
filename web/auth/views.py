"""Sign in (rate-limited, constant work for unknown names) and sign out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.security import check_password_hash
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from web.access import end_every_session, portal_user
from web.auth import bp
from web.auth.passwords import (
    PasswordRefused,
    check_new_password,
    hash_password,
    set_password,
)
from web.database import db, settings
from web.security import begin_login, finish_login
from worker.models import User

# Checked against when the name is unknown, so a wrong name costs what a wrong password does.
_NOBODY = hash_password("not anyone's password")


class LoginForm(FlaskForm):
    name = StringField("User name", validators=[DataRequired(), Length(max=120)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


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
        signed_in = portal_user(user.id) if ok else None
        if signed_in is not None:
            finish_login(url, attempt)
            login_user(signed_in)
            if signed_in.must_change_password:
                flash("Choose your own password: the one you used works only once.", "info")
                return redirect(url_for("auth.password"))
            return redirect(safe_next(request.args.get("next")))
        flash("Wrong user name or password.", "error")
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Response:
    """Ends every session of the account (other browsers and copied cookies too)."""
    s = db()
    end_every_session(s, current_user.id)
    s.commit()
    logout_user()
    flash("Signed out.", "info")
    return redirect(url_for("auth.login"))


class PasswordForm(FlaskForm):
    current = PasswordField("Current password", validators=[DataRequired(), Length(max=200)])
    new = PasswordField("New password", validators=[DataRequired(), Length(max=200)])
    repeated = PasswordField("New password again", validators=[DataRequired(), Length(max=200)])


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password() -> str | Response | tuple[str, int]:
    """Change one's own password (the current one is asked for); every other session ends."""
    form = PasswordForm()
    one_time = current_user.must_change_password
    if not form.validate_on_submit():
        code = 400 if request.method == "POST" else 200  # an incomplete or expired form
        return render_template("auth/password.html", form=form, one_time=one_time), code
    # The current password is guessed here as at sign-in (a borrowed session): same limit.
    url = settings().database_url
    attempt, wait = begin_login(url, current_user.name, request.remote_addr or "?")
    if attempt is None:
        minutes = max(1, round((wait or 60) / 60))
        flash(f"Too many wrong passwords. Try again in {minutes} minutes.", "error")
        return render_template("auth/password.html", form=form, one_time=one_time), 429
    s = db()
    digest = s.scalar(select(User.password_hash).where(User.id == current_user.id))
    if not digest or not check_password_hash(digest, form.current.data):
        flash("The current password is wrong.", "error")
        return render_template("auth/password.html", form=form, one_time=one_time), 400
    finish_login(url, attempt)
    try:
        check_new_password(
            form.new.data, form.repeated.data, current=form.current.data, login=current_user.name
        )
    except PasswordRefused as err:
        flash(f"Password not changed: {err}.", "error")
        return render_template("auth/password.html", form=form, one_time=one_time), 400
    set_password(s, current_user.id, hash_password(form.new.data), one_time=False)
    s.commit()
    login_user(portal_user(current_user.id))  # this session goes on, under the new version
    flash("Password changed; every other session of your account has ended.", "info")
    return redirect(url_for("student.courses"))
