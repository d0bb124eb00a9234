"""The instructors' changes as JSON: roster import (preview or apply), assignment settings,
extensions, and assignment folders (uploaded as a .zip, validated by a worker's job,
published). Each needs a staff token of an INSTRUCTOR of the course (a TA gets 404, as on
the pages) and goes through ``web.instructor``'s own functions and audit log.
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, jsonify, request
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from web.api import bp
from web.api.auth import error, staff_api
from web.auth.passwords import instructor_may_reset, issue_one_time
from web.auth.views import hash_password
from web.database import db, settings
from web.instructor import audit, instructor_required, roster, terms, uploads
from web.instructor.settings import (
    SettingsRefused,
    change_settings,
    current,
    parse_settings,
    parse_time,
    queue_view,
    set_extension,
)
from web.staff.queries import assignment_or_404
from worker.models import AssignmentUpload, Enrollment, User

MAX_ROSTER_BYTES = 2 * 1024 * 1024


def _flag(body: dict[str, Any], name: str, default: bool) -> bool:
    raw = body.get(name, request.args.get(name))
    if raw is None:
        return default
    return raw is True or str(raw).lower() in ("1", "true", "yes", "on")


def _plan_json(the_plan: roster.Plan) -> dict[str, Any]:
    return {
        "counts": the_plan.counts(),
        "changes": [
            {
                "kind": c.kind,
                "login": c.login,
                "detail": c.detail,
                "changes": {k: list(v) for k, v in c.changes.items()},
            }
            for c in the_plan.changes
        ],
    }


@bp.route("/courses/<int:course_id>/roster", methods=["POST"])
@staff_api
def roster_import(course_id: int) -> tuple[Response, int] | Response:
    """A CSV roster (multipart ``file``, or ``csv`` in a JSON body); ``apply`` true carries it
    out, else only the preview; ``drop_missing`` (default true) drops absent students."""
    instructor_required(course_id)
    body = request.get_json(silent=True) or {}
    upload = request.files.get("file")
    text = str(body.get("csv", ""))
    if upload is not None:
        data = upload.stream.read(MAX_ROSTER_BYTES + 1)
        if len(data) > MAX_ROSTER_BYTES:
            return error(413, "the roster is larger than 2 MB")
        text = data.decode("utf-8-sig", errors="replace")
    s = db()
    try:
        the_plan = roster.plan(
            s, course_id, text, current_user.id, drop_missing=_flag(body, "drop_missing", True)
        )
        if not _flag(body, "apply", False):
            return jsonify(_plan_json(the_plan) | {"applied": False})
        passwords = roster.apply(s, course_id, the_plan, hash_password)
        audit.record(
            s, course_id, current_user.id, "roster import", "roster", {}, roster.summary(the_plan)
        )
        s.commit()
    except roster.RosterRefused as err:
        s.rollback()
        return error(400, f"roster not imported: {err}")
    return jsonify(_plan_json(the_plan) | {"applied": True, "passwords": passwords}), 201


@bp.route("/courses/<int:course_id>/copy", methods=["POST"])
@staff_api
def copy_course(course_id: int) -> tuple[Response, int]:
    """A new course with this one's assignments and settings (JSON ``slug``, ``title``,
    ``shift_days``: every date moved by that many days); the caller is its instructor."""
    instructor_required(course_id)
    s = db()
    try:
        slug, title, shift = terms.parse_copy(request.get_json(silent=True) or {})
        made = terms.copy_course(s, course_id, slug, title, shift, current_user.id)
    except terms.CopyRefused as err:
        return error(400, f"not copied: {err}")
    body = {"id": made.course_id, "slug": made.slug, "title": made.title,
            "assignments": made.assignments, "shift_days": shift}  # fmt: skip
    return jsonify(body), 201


@bp.route("/courses/<int:course_id>/assignments/<slug>/settings", methods=["GET", "PUT"])
@staff_api
def assignment_settings(course_id: int, slug: str) -> Response:
    """GET the settings, what the manifest prefers for the queue and where a new run goes;
    PUT every field (as the page's form does; ``queue`` kept when left out), logged when it
    changes."""
    instructor_required(course_id)
    s = db()
    a = assignment_or_404(s, course_id, slug)
    changed: list[str] = []
    if request.method == "PUT":
        try:
            wanted = parse_settings(request.get_json(silent=True) or {})
        except SettingsRefused as err:
            return error(400, f"settings not saved: {err}")
        changed = list(change_settings(s, course_id, a, wanted, current_user.id))
        a = assignment_or_404(s, course_id, slug)
    now = {k: audit.plain(v) for k, v in current(a).items()}
    body = {"slug": a.slug, "settings": now, "changed": changed}
    return jsonify(body | queue_view(a, settings()))


@bp.route("/courses/<int:course_id>/assignments/<slug>/extensions", methods=["POST"])
@staff_api
def extension(course_id: int, slug: str) -> tuple[Response, int] | Response:
    """``{"student": login, "due": "2027-03-02 23:59" | null, "comment": "..."}``."""
    instructor_required(course_id)
    s = db()
    a = assignment_or_404(s, course_id, slug)
    body = request.get_json(silent=True) or {}
    try:
        due = parse_time(str(body.get("due") or ""), "extension")
        set_extension(
            s,
            course_id,
            a.slug,
            str(body.get("student", "")),
            due,
            str(body.get("comment", ""))[:2000],
            current_user.id,
        )
    except SettingsRefused as err:
        s.rollback()
        return error(400, f"extension not saved: {err}")
    return jsonify({"student": body.get("student"), "due": audit.plain(due)}), 201


@bp.route("/courses/<int:course_id>/audit")
@staff_api
def audit_log(course_id: int) -> dict[str, Any]:
    """The course's audit log, newest first (TAs and instructors)."""
    return {
        "entries": [
            {
                "action": e.action,
                "subject": e.subject,
                "by": who,
                "before": e.before,
                "after": e.after,
                "at": audit.plain(e.at),
                "said": audit.sentence(e, who),
            }
            for e, who in audit.entries(db(), course_id)
        ]
    }


@bp.route("/courses/<int:course_id>/people/<login>/one-time-password", methods=["POST"])
@staff_api
def one_time_password(course_id: int, login: str) -> tuple[Response, int]:
    """A one-time password for a student of the course, as the people page issues it."""
    instructor_required(course_id)
    s = db()
    user_id = s.scalar(
        select(User.id)
        .join(Enrollment, Enrollment.user_id == User.id)
        .where(Enrollment.course_id == course_id, User.name == login)
    )
    if user_id is None:
        return error(404, f"{login!r} is not in this course")
    if not instructor_may_reset(s, current_user.id, course_id, user_id):
        return error(
            403,
            f"only {login} or a site administrator can change that account's password (it has "
            f"a role outside the courses you teach)",
        )
    password = issue_one_time(s, user_id)
    audit.record(s, course_id, current_user.id, "one-time password", login)
    s.commit()
    response = jsonify({"login": login, "password": password, "must_change": True})
    response.headers["Cache-Control"] = "no-store"
    return response, 201


# -- assignment folders: upload (.zip), validation by a worker, publication ---------------


def _upload_json(row: AssignmentUpload) -> dict[str, Any]:
    return {
        "id": row.id,
        "slug": row.slug,
        "title": row.title,
        "status": row.status,  # validating, valid, invalid, published
        "report": row.report,
        "created_at": audit.plain(row.created_at),
        "finished_at": audit.plain(row.finished_at),
        "assignment_id": row.assignment_id,
    }


def _upload_or_404(course_id: int, upload_id: int) -> AssignmentUpload:
    row = db().get(AssignmentUpload, upload_id)
    if row is None or row.course_id != course_id:
        abort(error(404, "no such upload in this course"))
    return row


@bp.route("/courses/<int:course_id>/uploads", methods=["POST"])
@staff_api
def upload_assignment(course_id: int) -> tuple[Response, int] | Response:
    """An assignment folder as a .zip (multipart ``file``): unpacked, read, and validated in
    a worker (poll the upload until its status is valid or invalid)."""
    instructor_required(course_id)
    s = db()
    try:
        row = uploads.receive(s, settings(), course_id, request.files.get("file"), current_user.id)
    except uploads.AssignmentRefused as err:
        s.rollback()
        return error(400, f"assignment not accepted: {err}")
    uploads.send_validation(settings(), current_app.config.get("DLGRADE_VALIDATE"), row)
    return jsonify(_upload_json(row)), 202


@bp.route("/courses/<int:course_id>/uploads/<int:upload_id>")
@staff_api
def assignment_upload(course_id: int, upload_id: int) -> Response:
    """An upload's status and, once validated, its validation report."""
    instructor_required(course_id)
    return jsonify(_upload_json(_upload_or_404(course_id, upload_id)))


@bp.route("/courses/<int:course_id>/uploads/<int:upload_id>/validate", methods=["POST"])
@staff_api
def revalidate_assignment_upload(course_id: int, upload_id: int) -> tuple[Response, int]:
    """Validate again (an upload whose job a restart lost, or an invalid one); logged."""
    instructor_required(course_id)
    s = db()
    row = _upload_or_404(course_id, upload_id)
    try:
        uploads.restart(s, row, current_user.id)
    except uploads.AssignmentRefused as err:
        return error(409, str(err))
    uploads.send_validation(settings(), current_app.config.get("DLGRADE_VALIDATE"), row)
    return jsonify(_upload_json(row)), 202


@bp.route("/courses/<int:course_id>/uploads/<int:upload_id>/publish", methods=["POST"])
@staff_api
def publish_assignment_upload(course_id: int, upload_id: int) -> tuple[Response, int]:
    """Offer a VALID upload to the course's students (a new version keeps old reports)."""
    instructor_required(course_id)
    s = db()
    row = _upload_or_404(course_id, upload_id)
    try:
        uploads.publish(s, settings(), course_id, row, current_user.id)
    except uploads.AssignmentRefused as err:
        return error(409, str(err))
    return jsonify(_upload_json(_upload_or_404(course_id, upload_id))), 201
