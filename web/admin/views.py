"""The site administrators' pages (see the package's docstring)."""

from __future__ import annotations

import logging
import re

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from web.access import site_admin_required
from web.admin import bp
from web.auth.passwords import hash_password, issue_one_time, one_time_password
from web.database import db
from web.instructor import audit
from worker.models import Course, Enrollment, Role, User

log = logging.getLogger(__name__)
COURSE_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,79}$")
LOGIN = re.compile(r"^[^\x00-\x20\x7f]{1,120}$")


@bp.before_request
def _admins_only() -> None:
    site_admin_required()


def _courses() -> list[tuple[Course, list[str]]]:
    s = db()
    teachers: dict[int, list[str]] = {}
    for course_id, name in s.execute(
        select(Enrollment.course_id, User.name)
        .join(User, User.id == Enrollment.user_id)
        .where(Enrollment.role == Role.INSTRUCTOR.value)
        .order_by(User.name)
    ):
        teachers.setdefault(course_id, []).append(name)
    return [(c, teachers.get(c.id, [])) for c in s.scalars(select(Course).order_by(Course.slug))]


@bp.route("/")
def home() -> str:
    return render_template("admin/home.html", courses=_courses())


def _done(title: str, login: str, password: str | None, what: str) -> str:
    return render_template(
        "admin/done.html", title=title, login=login, password=password, what=what
    )


def _instructor(s: Session, login: str) -> tuple[User, str | None]:
    """The account named ``login``, made (with a one-time password, returned) if missing."""
    user = s.scalar(select(User).where(User.name == login))
    if user is not None:
        return user, None
    password = one_time_password()
    user = User(
        name=login,
        email=request.form.get("email", "").strip()[:254] or None,
        full_name=request.form.get("full_name", "").strip()[:200],
        password_hash=hash_password(password),
        must_change_password=True,
    )
    s.add(user)
    s.flush()
    return user, password


@bp.route("/courses", methods=["POST"])
def create_course() -> str | Response | tuple[str, int]:
    """A course and its first instructor: an existing account, or a new one (one-time password)."""
    slug = request.form.get("slug", "").strip().lower()
    title = request.form.get("title", "").strip()[:200]
    login = request.form.get("instructor", "").strip()
    if not COURSE_SLUG.match(slug) or not title or not LOGIN.match(login):
        flash("A course needs a short name (a-z, 0-9, -), a title with its term and the "
              "instructor's user name.", "error")  # fmt: skip
        return redirect(url_for("admin.home"))
    s = db()
    try:
        course = Course(slug=slug, title=title)
        s.add(course)
        user, password = _instructor(s, login)
        s.flush()
        s.add(Enrollment(user_id=user.id, course_id=course.id, role=Role.INSTRUCTOR.value))
        audit.record(s, course.id, current_user.id, "course created", slug, {},
                     {"title": title, "instructor": login})  # fmt: skip
        s.commit()
    except IntegrityError:
        s.rollback()
        flash(f"There is already a course {slug}.", "error")
        return redirect(url_for("admin.home"))
    log.info("site admin %s created course %s, instructor %s", current_user.name, slug, login)
    what = f"Course {slug} created; {login} is its instructor."
    return _done("Course created", login, password, what)


@bp.route("/instructors", methods=["POST"])
def add_instructor() -> str | Response:
    """Another instructor for a course (one who left is replaced without a shell)."""
    s = db()
    course_id = request.form.get("course", type=int)
    course = s.get(Course, course_id) if course_id is not None else None
    login = request.form.get("login", "").strip()
    if course is None or course_id is None or not LOGIN.match(login):
        flash("Name a course and the instructor's user name.", "error")
        return redirect(url_for("admin.home"))
    user, password = _instructor(s, login)
    found = s.scalar(
        select(Enrollment).where(Enrollment.course_id == course_id, Enrollment.user_id == user.id)
    )
    before = {"role": found.role} if found else {}
    if found is None:
        s.add(Enrollment(user_id=user.id, course_id=course_id, role=Role.INSTRUCTOR.value))
    else:
        found.role = Role.INSTRUCTOR.value
    audit.record(s, course_id, current_user.id, "instructor added", login, before,
                 {"role": Role.INSTRUCTOR.value})  # fmt: skip
    s.commit()
    log.info("site admin %s made %s an instructor of %s", current_user.name, login, course.slug)
    what = f"{login} is an instructor of {course.slug}."
    return _done("Instructor added", login, password, what)


@bp.route("/password", methods=["POST"])
def password() -> str | Response:
    """A one-time password for any account (every session of it ends)."""
    login = request.form.get("login", "").strip()
    s = db()
    user_id = s.scalar(select(User.id).where(User.name == login))
    if user_id is None:
        flash(f"There is no account {login[:120]!r}.", "error")
        return redirect(url_for("admin.home"))
    issued = issue_one_time(s, user_id)
    s.commit()
    log.info("site admin %s issued a one-time password to %s", current_user.name, login)
    what = f"{login}'s sessions have ended; they choose their own password at sign-in."
    return _done("One-time password issued", login, issued, what)
