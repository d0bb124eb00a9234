"""A course's people, and the one-time passwords its instructor may issue to its students.

An instructor may issue a one-time password only to an account whose every
enrolment is as a student in a course they teach (``instructor_may_reset``):
anyone with a role elsewhere, or in a course they do not teach, is changed
only by its owner or a site administrator. The password is shown once; every
session of the account ends; the student chooses their own at next sign-in.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from web.auth.passwords import instructor_may_reset, issue_one_time
from web.database import db
from web.instructor import audit, bp, instructor_view
from worker.models import Course, Enrollment, User

ROLE_ORDER = {"instructor": 0, "ta": 1, "student": 2}


@bp.route("/courses/<int:course_id>/people")
@instructor_view
def people(course_id: int) -> str:
    s = db()
    rows = s.execute(
        select(User, Enrollment)
        .join(Enrollment, Enrollment.user_id == User.id)
        .where(Enrollment.course_id == course_id)
    ).all()
    rows.sort(key=lambda r: (ROLE_ORDER.get(r.Enrollment.role, 3), r.User.name))
    may_reset = {
        r.User.id for r in rows if instructor_may_reset(s, current_user.id, course_id, r.User.id)
    }
    return render_template(
        "instructor/people.html",
        course=s.get(Course, course_id),
        rows=rows,
        may_reset=may_reset,
    )


@bp.route("/courses/<int:course_id>/people/<int:user_id>/password", methods=["POST"])
@instructor_view
def one_time_password(course_id: int, user_id: int) -> str | Response | tuple[str, int]:
    s = db()
    if not instructor_may_reset(s, current_user.id, course_id, user_id):
        flash("Only the person or a site administrator can change that account's password "
              "(it has a role outside the courses you teach).", "error")  # fmt: skip
        return redirect(url_for("instructor.people", course_id=course_id)), 303
    login = s.scalar(select(User.name).where(User.id == user_id)) or "?"
    password = issue_one_time(s, user_id)
    audit.record(s, course_id, current_user.id, "one-time password", login)
    s.commit()
    return render_template(
        "instructor/password_done.html",
        course=s.get(Course, course_id),
        login=login,
        password=password,
    )
