"""The instructors' pages (see the package's docstring)."""

from __future__ import annotations

import re

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from grader.assignment import load_assignment
from web.auth.views import hash_password
from web.database import db, settings
from web.grades import course_assignment, course_assignments
from web.instructor import audit, bp, instructor_view, overview, roster, terms, uploads
from web.instructor.settings import (
    SettingsRefused,
    change_settings,
    parse_settings,
    parse_time,
    queue_view,
    set_extension,
)
from web.staff.queries import assignment_or_404, starter_zip
from web.staff.regrade import request_regrades
from worker.models import AssignmentUpload, Course, Enrollment, Extension, Role, User
from worker.submit import register_assignment

_COURSE_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,79}$")
MAX_ROSTER_BYTES = 2 * 1024 * 1024


def _teaches(user_id: int) -> list[Course]:
    return list(
        db().scalars(
            select(Course)
            .join(Enrollment, Enrollment.course_id == Course.id)
            .where(Enrollment.user_id == user_id, Enrollment.role == Role.INSTRUCTOR.value)
            .order_by(Course.slug)
        )
    )


@bp.route("/")
@login_required
def courses() -> str:
    return render_template("instructor/courses.html", courses=_teaches(current_user.id))


@bp.route("/courses", methods=["POST"])
@login_required
def create_course() -> Response | tuple[str, int]:
    """A new course (the instructor of another course may make one), with its term in the title."""
    if not _teaches(current_user.id):
        return render_template("errors/message.html", title="Not found", message=""), 404
    slug = request.form.get("slug", "").strip().lower()
    title = request.form.get("title", "").strip()[:200]
    if not _COURSE_SLUG.match(slug) or not title:
        flash("A course needs a short name (a-z, 0-9, -) and a title with its term.", "error")
        return redirect(url_for("instructor.courses"))
    s = db()
    try:
        course = Course(slug=slug, title=title)
        s.add(course)
        s.flush()
        s.add(Enrollment(user_id=current_user.id, course_id=course.id, role=Role.INSTRUCTOR.value))
        audit.record(s, course.id, current_user.id, "course created", slug, {}, {"title": title})
        s.commit()
    except IntegrityError:
        s.rollback()
        flash(f"There is already a course {slug}.", "error")
        return redirect(url_for("instructor.courses"))
    flash(f"Course {slug} created; import its roster next.", "info")
    return redirect(url_for("instructor.course", course_id=course.id))


@bp.route("/courses/<int:course_id>/")
@instructor_view
def course(course_id: int) -> str:
    s = db()
    people = dict(
        s.execute(
            select(Enrollment.role, func.count())
            .where(Enrollment.course_id == course_id)
            .group_by(Enrollment.role)
        ).all()
    )
    return render_template(
        "instructor/course.html",
        course=s.get(Course, course_id),
        assignments=course_assignments(s, course_id),
        people=people,
        log=audit.entries(s, course_id),
        audit_sentence=audit.sentence,
        watch=overview.overview(s, course_id),
        addable=overview.addable(s, course_id),
    )


@bp.route("/courses/<int:course_id>/assignments", methods=["POST"])
@instructor_view
def add_assignment(course_id: int) -> Response:
    """Offer a built-in assignment in the course (its checks as they are in the repository)."""
    s = db()
    wanted = request.form.get("slug", "")
    found = [f for f, slug in overview.addable(s, course_id) if slug == wanted]
    if not found:
        flash(f"{wanted[:80]!r} cannot be added (not built in, or the course offers it already).",
              "error")  # fmt: skip
        return redirect(url_for("instructor.course", course_id=course_id))
    spec = load_assignment(found[0])
    s.rollback()  # register_assignment writes on a connection of its own (SQLite's one lock)
    register_assignment(spec, settings(), course_id)
    audit.record(s, course_id, current_user.id, "assignment added", f"assignment {spec.slug}",
                 {}, {"version": spec.version, "title": spec.title})  # fmt: skip
    s.commit()
    flash(f"{spec.title or spec.slug} added; set its dates next.", "info")
    return redirect(url_for("instructor.assignment_settings", course_id=course_id, slug=spec.slug))


@bp.route("/courses/<int:course_id>/copy", methods=["POST"])
@instructor_view
def copy_course(course_id: int) -> Response:
    """The course's assignments and settings in a new course for the next term (terms)."""
    s = db()
    try:
        slug, title, shift = terms.parse_copy(request.form.to_dict())
        made = terms.copy_course(s, course_id, slug, title, shift, current_user.id)
    except terms.CopyRefused as err:
        flash(f"Not copied: {err}.", "error")
        return redirect(url_for("instructor.course", course_id=course_id))
    flash(f"Course {made.slug} made with {len(made.assignments)} assignments; check their "
          "dates, then import its roster.", "info")  # fmt: skip
    return redirect(url_for("instructor.course", course_id=made.course_id))


@bp.route("/courses/<int:course_id>/retry", methods=["POST"])
@instructor_view
def retry(course_id: int) -> Response:
    """Grade again the submissions whose grading failed (one, or all of them)."""
    s = db()
    failed = [sub.id for sub, _, _ in overview.overview(s, course_id).failed]
    wanted = request.form.get("submission", type=int)
    ids = [i for i in failed if wanted is None or i == wanted]
    s.rollback()
    done = request_regrades(
        settings(), current_app.config.get("DLGRADE_PUBLISH"), ids, current_user.id
    )
    audit.record(s, course_id, current_user.id, "retry failed gradings", "submissions",
                 {}, {"submissions": ids, "runs": done.run_ids})  # fmt: skip
    s.commit()
    flash(f"{len(done.run_ids)} gradings queued again.", "info")
    return redirect(url_for("instructor.course", course_id=course_id))


def _roster_text() -> str:
    upload = request.files.get("file")
    if upload and upload.filename:
        data = upload.stream.read(MAX_ROSTER_BYTES + 1)
        if len(data) > MAX_ROSTER_BYTES:
            raise roster.RosterRefused("the file is larger than 2 MB")
        return data.decode("utf-8-sig", errors="replace")
    return request.form.get("csv", "")


@bp.route("/courses/<int:course_id>/roster", methods=["GET", "POST"])
@instructor_view
def roster_page(course_id: int) -> str | tuple[str, int]:
    """GET: the form. POST: ``action=preview`` shows the plan; ``action=apply`` carries it out."""
    s = db()
    course = s.get(Course, course_id)
    if request.method == "GET":
        return render_template("instructor/roster.html", course=course, plan=None, text="")
    drop = request.form.get("drop_missing") == "1"
    try:
        text = _roster_text()
        the_plan = roster.plan(s, course_id, text, current_user.id, drop_missing=drop)
        if request.form.get("action") != "apply":
            return render_template("instructor/roster.html", course=course, plan=the_plan,
                                   text=text, drop=drop)  # fmt: skip
        passwords = roster.apply(s, course_id, the_plan, hash_password)
        audit.record(s, course_id, current_user.id, "roster import", "roster", {},
                     roster.summary(the_plan))  # fmt: skip
        s.commit()
    except roster.RosterRefused as err:
        s.rollback()
        flash(f"Roster not imported: {err}.", "error")
        return render_template("instructor/roster.html", course=course, plan=None, text=""), 400
    counts = the_plan.counts()
    flash(
        f"Roster imported: {counts['add']} added, {counts['update']} updated, "
        f"{counts['drop']} dropped, {counts['same']} unchanged.",
        "info",
    )
    return render_template(
        "instructor/roster_done.html", course=course, plan=the_plan, passwords=passwords
    )


@bp.route("/courses/<int:course_id>/assignments/<slug>/settings", methods=["GET", "POST"])
@instructor_view
def assignment_settings(course_id: int, slug: str) -> str | tuple[str, int] | Response:
    s = db()
    a = assignment_or_404(s, course_id, slug)
    if request.method == "POST":
        try:
            changed = change_settings(
                s, course_id, a, parse_settings(request.form), current_user.id
            )
        except SettingsRefused as err:
            flash(f"Settings not saved: {err}.", "error")
            return _settings_page(course_id, slug), 400
        flash(f"Saved ({', '.join(changed) or 'nothing changed'}).", "info")
        return redirect(url_for("instructor.assignment_settings", course_id=course_id, slug=slug))
    return _settings_page(course_id, slug)


def _settings_page(course_id: int, slug: str) -> str:
    s = db()
    a = assignment_or_404(s, course_id, slug)
    extensions = s.execute(
        select(Extension, User.name)
        .join(User, User.id == Extension.user_id)
        .where(Extension.course_id == course_id, Extension.assignment_slug == slug)
        .order_by(User.name)
    ).all()
    return render_template(
        "instructor/settings.html",
        course=s.get(Course, course_id),
        a=a,
        queues=queue_view(a, settings()),
        extensions=extensions,
    )


@bp.route("/courses/<int:course_id>/assignments/<slug>/extensions", methods=["POST"])
@instructor_view
def extension(course_id: int, slug: str) -> Response:
    s = db()
    a = assignment_or_404(s, course_id, slug)
    login = request.form.get("student", "")
    try:
        due = parse_time(request.form.get("due", ""), "extension")
        set_extension(
            s, course_id, a.slug, login, due, request.form.get("comment", "")[:2000],
            current_user.id,
        )  # fmt: skip
    except SettingsRefused as err:
        s.rollback()
        flash(f"Extension not saved: {err}.", "error")
    else:
        flash(f"Extension for {login.strip()} {'saved' if due else 'removed'}.", "info")
    return redirect(url_for("instructor.assignment_settings", course_id=course_id, slug=slug))


@bp.route("/courses/<int:course_id>/uploads", methods=["POST"])
@instructor_view
def upload_assignment(course_id: int) -> Response:
    """An assignment folder as a .zip: unpacked, its manifest read, then validated by a worker."""
    s = db()
    try:
        row = uploads.receive(s, settings(), course_id, request.files.get("file"), current_user.id)
    except uploads.AssignmentRefused as err:
        s.rollback()
        flash(f"Assignment not accepted: {err}.", "error")
        return redirect(url_for("instructor.course", course_id=course_id))
    uploads.send_validation(settings(), current_app.config.get("DLGRADE_VALIDATE"), row)
    return redirect(url_for("instructor.upload", course_id=course_id, upload_id=row.id))


def _upload_or_404(course_id: int, upload_id: int) -> AssignmentUpload:
    row = db().get(AssignmentUpload, upload_id)
    if row is None or row.course_id != course_id:
        abort(404)
    return row


@bp.route("/courses/<int:course_id>/uploads/<int:upload_id>")
@instructor_view
def upload(course_id: int, upload_id: int) -> str:
    s = db()
    row = _upload_or_404(course_id, upload_id)
    offered = course_assignment(s, course_id, row.slug)
    return render_template(
        "instructor/upload.html", course=s.get(Course, course_id), up=row, offered=offered
    )


@bp.route("/courses/<int:course_id>/uploads/<int:upload_id>/validate", methods=["POST"])
@instructor_view
def revalidate_upload(course_id: int, upload_id: int) -> Response:
    s = db()
    row = _upload_or_404(course_id, upload_id)
    try:
        uploads.restart(s, row, current_user.id)
    except uploads.AssignmentRefused as err:
        flash(f"Not validated again: {err}.", "error")
    else:
        uploads.send_validation(settings(), current_app.config.get("DLGRADE_VALIDATE"), row)
    return redirect(url_for("instructor.upload", course_id=course_id, upload_id=upload_id))


@bp.route("/courses/<int:course_id>/uploads/<int:upload_id>/publish", methods=["POST"])
@instructor_view
def publish_upload(course_id: int, upload_id: int) -> Response:
    s = db()
    row = _upload_or_404(course_id, upload_id)
    had = course_assignment(s, course_id, row.slug) is not None
    try:
        uploads.publish(s, settings(), course_id, row, current_user.id)
    except uploads.AssignmentRefused as err:
        flash(f"Not published: {err}.", "error")
        return redirect(url_for("instructor.upload", course_id=course_id, upload_id=upload_id))
    if had:
        flash("New version published: earlier reports are kept; regrade the submissions from "
              "the staff assignment page to grade them with the new checks.", "info")  # fmt: skip
    else:
        flash("Published: students of the course see it now.", "info")
    return redirect(url_for("instructor.course", course_id=course_id))


@bp.route("/courses/<int:course_id>/assignments/<slug>/starter.zip")
@instructor_view
def starter(course_id: int, slug: str) -> Response:
    """The starter code as the students get it (the assignment's ``starter/`` folder)."""
    a = assignment_or_404(db(), course_id, slug)
    return starter_zip(a)
