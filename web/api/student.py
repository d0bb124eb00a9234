"""What a student does in the browser, as JSON: courses, assignments, submit, status, report.

Every lookup goes through the portal's own gates and functions (``web.access``,
``web.grades`` and the student views' ``_own_submission`` and ``_status``), so
the API answers exactly what the pages show: another student's submission is
404, a report is the student view until the course releases the hidden checks.
A submission's report is the staff view only for a staff token of a TA or
instructor of its course (``report_of``).
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import abort, current_app, jsonify, request
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from grader.messages import GradeReport as ReportDoc
from web import grades
from web.access import STAFF_ROLES, enrollment, enrollment_or_404
from web.api import bp
from web.api.auth import bearer, error
from web.database import db, settings
from web.staff.overrides import audit_log
from web.staff.queries import reports_of, runs_of, submission_or_404
from web.student.views import _own_submission, _status
from web.uploads import UploadRefused, prepare_upload
from worker.late import assess
from worker.models import Assignment, Course, Enrollment, Submission, utcnow
from worker.storage import UploadTooLarge
from worker.submit import SubmissionRefused, submit


def iso(when: datetime | None) -> str | None:
    """A stored (naive UTC) time as ISO 8601 with its zone."""
    return None if when is None else when.isoformat() + "Z"


@bp.route("/me")
def me() -> dict[str, Any]:
    return {"id": current_user.id, "name": current_user.name, "scope": bearer().scope}


@bp.route("/courses")
def courses() -> dict[str, Any]:
    rows = db().execute(
        select(Course, Enrollment.role)
        .join(Enrollment, Enrollment.course_id == Course.id)
        .where(Enrollment.user_id == current_user.id)
        .order_by(Course.title)
    )
    return {
        "courses": [
            {"id": c.id, "slug": c.slug, "title": c.title, "role": role} for c, role in rows
        ]
    }


def _assignment_json(a: Assignment) -> dict[str, Any]:
    s = db()
    extension = grades.extension_due(s, a.course_id, a.slug, current_user.id)
    left, count, window = grades.submissions_left(s, settings(), a, current_user.id)
    return {
        "slug": a.slug,
        "title": a.title or a.slug,
        "version": a.version,
        "summary": a.summary,
        "max_score": a.max_score,
        "due": iso(a.due),
        "extension": iso(extension),
        "late_policy": grades.policy_of(a).describe(),
        "accepts_now": not assess(grades.policy_of(a), utcnow(), extension).refused,
        "counts": a.counts,
        "queue": a.queue,
        "files": grades.student_files(a),
        "hidden_release": iso(a.hidden_release),
        "submissions_left": left,
        "rate_limit": {"count": count, "window_s": window},
    }


@bp.route("/courses/<int:course_id>/assignments")
def assignments(course_id: int) -> dict[str, Any]:
    enrollment_or_404(course_id)
    listed = grades.course_assignments(db(), course_id)
    return {"assignments": [_assignment_json(a) for a in listed]}


def _assignment_or_404(course_id: int, slug: str) -> Assignment:
    enrollment_or_404(course_id)
    found = grades.course_assignment(db(), course_id, slug)
    if found is None:
        abort(404)
    return found


@bp.route("/courses/<int:course_id>/assignments/<slug>")
def assignment(course_id: int, slug: str) -> dict[str, Any]:
    a = _assignment_or_404(course_id, slug)
    s = db()
    history = grades.student_history(s, current_user.id, course_id, slug)
    counted = grades.counting(history, a.counts)
    return _assignment_json(a) | {
        "counted_submission": counted.submission.id if counted else None,
        "counted_score": counted.final_score if counted else None,
    }


@bp.route("/courses/<int:course_id>/assignments/<slug>/submissions")
def history(course_id: int, slug: str) -> dict[str, Any]:
    a = _assignment_or_404(course_id, slug)
    own = grades.student_history(db(), current_user.id, course_id, slug)
    return {"submissions": [_standing_json(st, a) for st in own]}


def _standing_json(standing: grades.Standing, a: Assignment) -> dict[str, Any]:
    sub = standing.submission
    return _status(standing, a) | {
        "assignment": a.slug,
        "course_id": a.course_id,
        "filename": sub.filename,
        "submitted_at": iso(sub.submitted_at),
    }


@bp.route("/courses/<int:course_id>/assignments/<slug>/submissions", methods=["POST"])
def hand_in(course_id: int, slug: str) -> tuple[Response, int] | Response:
    """The assignment page's upload form as an API call (multipart field ``files``)."""
    s = db()
    a = _assignment_or_404(course_id, slug)
    extension = grades.extension_due(s, course_id, slug, current_user.id)
    if assess(grades.policy_of(a), utcnow(), extension).refused:
        due = iso(extension or a.due)
        return error(403, f"{a.title or a.slug} was due {due}; late submissions are not accepted")
    spec, version = grades.hand_in_target(a)  # the manifest; checks.py is not imported
    s.rollback()  # as the page does: on SQLite submit() takes the write lock on its own
    with tempfile.TemporaryDirectory(prefix="dlgrade-upload-") as tmp:
        try:
            upload = prepare_upload(
                request.files.getlist("files"), spec, settings().max_upload_bytes, Path(tmp)
            )
            accepted = submit(
                spec,
                upload,
                current_user.name,
                settings(),
                current_app.config["DLGRADE_PUBLISH"],
                course_id=course_id,
                version=version,
            )
        except (UploadRefused, UploadTooLarge) as err:
            return error(400, f"not accepted: {err}")
        except SubmissionRefused as err:
            response = error(429, f"not accepted: {err}")
            if err.retry_after_s is not None:
                response.headers["Retry-After"] = str(int(err.retry_after_s + 0.999))
            return response
    body = {
        "id": accepted.submission_id,
        "run_id": accepted.run_id,
        "filename": accepted.filename,
        "size": accepted.size,
        "sha256": accepted.sha256,
        "late": accepted.late,
        "queue": accepted.queue,
        "status_url": f"{bp.url_prefix}/submissions/{accepted.submission_id}",
        "report_url": f"{bp.url_prefix}/submissions/{accepted.submission_id}/report",
    }
    return jsonify(body), 201


def _staff_course_of(submission_id: int) -> int | None:
    """The course of a submission the bearer may see as staff (staff token, staff there)."""
    if bearer().scope != "staff":
        return None
    course_id = db().scalar(
        select(Assignment.course_id)
        .join(Submission, Submission.assignment_id == Assignment.id)
        .where(Submission.id == submission_id)
    )
    if course_id is None:
        return None
    found = enrollment(course_id)
    return course_id if found is not None and found.role in STAFF_ROLES else None


def _is_own(submission_id: int) -> bool:
    owner = db().scalar(select(Submission.user_id).where(Submission.id == submission_id))
    return owner == current_user.id


@bp.route("/submissions/<int:submission_id>")
def status(submission_id: int) -> dict[str, Any]:
    """Where a submission stands (the status the page polls), for its student or its staff."""
    s = db()
    if _is_own(submission_id):
        sub, a = _own_submission(submission_id)
    elif (course_id := _staff_course_of(submission_id)) is not None:
        sub, _ = submission_or_404(s, course_id, submission_id)
        a = sub.assignment
    else:
        abort(404)
    (standing,) = grades.standings(s, [sub])
    return _standing_json(standing, a)


@bp.route("/submissions/<int:submission_id>/report")
def report(submission_id: int) -> dict[str, Any]:
    """The report by role: the student view for its student (as their page shows it); the
    whole report, its history and the override audit for a staff token of its course."""
    s = db()
    if _is_own(submission_id):
        sub, a = _own_submission(submission_id)
        (standing,) = grades.standings(s, [sub])
        doc = grades.report_for_student(s, standing, a)
        return _standing_json(standing, a) | {
            "view": "student",
            "hidden_released": grades.hidden_released(a),
            "report": doc.to_dict() if doc is not None else None,
        }
    course_id = _staff_course_of(submission_id)
    if course_id is None:
        abort(404)
    return staff_report(course_id, submission_id)


def staff_report(course_id: int, submission_id: int) -> dict[str, Any]:
    """What the staff's submission page shows, as JSON (the caller has checked the gate)."""
    s = db()
    sub, student = submission_or_404(s, course_id, submission_id)
    (standing,) = grades.standings(s, [sub])
    reports = reports_of(s, sub.id)
    newest = ReportDoc.from_dict(reports[0][0].report).to_dict() if reports else None
    return _standing_json(standing, sub.assignment) | {
        "view": "staff",
        "student": student,
        "report": newest,
        "reports": [
            {
                "id": r.id,
                "run_id": run.id,
                "status": r.status,
                "score": r.score,
                "max_score": r.max_score,
                "created_at": iso(r.created_at),
                "regrade_by": who,
            }
            for r, run, who in reports
        ],
        "runs": [
            {"id": run.id, "status": run.status, "attempt": run.attempt, "error": run.error}
            for run in runs_of(s, sub.id)
        ],
        "overrides": overrides_json(s, sub.id),
    }


def overrides_json(s: Any, submission_id: int) -> list[dict[str, Any]]:
    return [
        {
            "original_score": e.original_score,
            "score": e.score,
            "by": e.by,
            "comment": e.comment,
            "at": iso(e.at),
        }
        for e in audit_log(s, submission_id)
    ]
