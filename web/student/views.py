"""Students' views. Every one reads only the signed-in student's own rows.

A submission is looked up by id AND the signed-in user (``_own_submission``):
another student's id answers 404, the same as an id that does not exist.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path
from typing import Any

from flask import (
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from grader import feedback
from grader.feedback import describe_training
from grader.messages import GradeReport as ReportDoc
from web import grades, training_figure
from web.access import enrollment_or_404
from web.database import db, settings
from web.handout import read_handout
from web.staff.queries import starter_zip
from web.student import bp
from web.uploads import UploadRefused, prepare_upload
from worker.late import assess
from worker.models import Assignment, Course, Enrollment, Submission, utcnow
from worker.storage import UploadTooLarge, load_blob
from worker.submit import SubmissionRefused, submit

# Check outcomes in plain words.
CHECK_WORDS = {
    "passed": "passed",
    "failed": "wrong answer",
    "error": "your code raised an error",
    "timeout": "ran past its time limit",
    "memory": "ran out of memory",
    "crash": "your program crashed (it exited or was killed)",
    "platform_error": "could not be checked (a fault of ours, not yours)",
}


@bp.app_template_filter("when")
def _when(value: Any) -> str:
    return "—" if value is None else f"{value:%Y-%m-%d %H:%M} UTC"


@bp.app_template_filter("duration")
def _duration(seconds: float) -> str:
    """A rate window in words: 1 h, 10 min, 30 s."""
    for unit, size in (("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.3g} s"


@bp.app_template_filter("points")
def _points(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


@bp.route("/")
def index() -> Response:
    return redirect(url_for("student.courses"))


@bp.route("/courses")
@login_required
def courses() -> str:
    rows = db().execute(
        select(Course, Enrollment.role)
        .join(Enrollment, Enrollment.course_id == Course.id)
        .where(Enrollment.user_id == current_user.id)
        .order_by(Course.title)
    )
    return render_template("student/courses.html", courses=rows.all())


@bp.route("/courses/<int:course_id>")
@login_required
def course(course_id: int) -> str:
    enrolled = enrollment_or_404(course_id)
    s = db()
    rows = []
    for a in grades.course_assignments(s, course_id):
        history = grades.student_history(s, current_user.id, course_id, a.slug)
        counted = grades.counting(history, a.counts)
        best = max((h.final_score for h in history if h.final_score is not None), default=None)
        latest = next((h for h in history if h.final_score is not None), None)
        left, count, window = grades.submissions_left(s, settings(), a, current_user.id)
        rows.append(
            {
                "a": a,
                "policy": grades.policy_of(a).describe(),
                "extension": grades.extension_due(s, course_id, a.slug, current_user.id),
                "best": best,
                "latest": latest.final_score if latest else None,
                "counted": counted,
                "left": left,
                "count": count,
                "window": window,
            }
        )
    return render_template(
        "student/course.html", course=s.get(Course, course_id), role=enrolled.role, rows=rows
    )


def _assignment_or_404(course_id: int, slug: str) -> Assignment:
    enrollment_or_404(course_id)
    found = grades.course_assignment(db(), course_id, slug)
    if found is None:
        abort(404)
    return found


def _assignment_page(
    course_id: int, slug: str, refusal: str = "", status: int = 200
) -> tuple[str, int]:
    s = db()
    a = _assignment_or_404(course_id, slug)
    history = grades.student_history(s, current_user.id, course_id, slug)
    extension = grades.extension_due(s, course_id, slug, current_user.id)
    policy = grades.policy_of(a)
    now_verdict = assess(policy, utcnow(), extension)
    left, count, window = grades.submissions_left(s, settings(), a, current_user.id)
    page = render_template(
        "student/assignment.html",
        handout=read_handout(grades.handout_source(s, a)),  # type: ignore[arg-type]
        course=s.get(Course, course_id),
        a=a,
        files=grades.student_files(a),
        policy=policy,
        extension=extension,
        now_verdict=now_verdict,
        history=history,
        counted=grades.counting(history, a.counts),
        left=left,
        count=count,
        window=window,
        refusal=refusal,
        max_mb=settings().max_upload_bytes / 1024 / 1024,
    )
    return page, status


@bp.route("/courses/<int:course_id>/a/<slug>")
@login_required
def assignment(course_id: int, slug: str) -> tuple[str, int]:
    return _assignment_page(course_id, slug)


@bp.route("/courses/<int:course_id>/a/<slug>/starter.zip")
@login_required
def starter(course_id: int, slug: str) -> Response:
    """The starter code, as a .zip of the assignment's ``starter/`` folder: for anyone
    enrolled in the course (the staff's copy is the same file)."""
    a = _assignment_or_404(course_id, slug)
    return starter_zip(a)


@bp.route("/courses/<int:course_id>/a/<slug>/submit", methods=["POST"])
@login_required
def hand_in(course_id: int, slug: str) -> tuple[str, int] | Response:
    s = db()
    a = _assignment_or_404(course_id, slug)
    extension = grades.extension_due(s, course_id, slug, current_user.id)
    if assess(grades.policy_of(a), utcnow(), extension).refused:
        due = _when(extension or a.due)
        message = f"{a.title or a.slug} was due {due}; late submissions are not accepted."
        return _assignment_page(course_id, slug, message, 403)
    spec, version = grades.hand_in_target(a)  # the manifest; checks.py is not imported
    # End this request's read transaction: on SQLite every transaction holds the write
    # lock (worker.db), and submit() takes it on a connection of its own.
    s.rollback()
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
            return _assignment_page(course_id, slug, f"Not accepted: {err}.", 400)
        except SubmissionRefused as err:
            return _assignment_page(course_id, slug, f"Not accepted: {err}.", 429)
    return redirect(url_for("student.submission", submission_id=accepted.submission_id))


def _own_submission(submission_id: int) -> tuple[Submission, Assignment]:
    """The signed-in student's submission ``submission_id``, in a course they are in; else 404."""
    row = (
        db()
        .execute(
            select(Submission, Assignment)
            .join(Assignment, Assignment.id == Submission.assignment_id)
            .where(Submission.id == submission_id, Submission.user_id == current_user.id)
        )
        .first()
    )
    if row is None or row.Assignment.course_id is None:
        abort(404)
    enrollment_or_404(row.Assignment.course_id)
    return row.Submission, row.Assignment


def _status(standing: grades.Standing, assignment: Assignment) -> dict[str, Any]:
    s = db()
    out: dict[str, Any] = {
        "id": standing.submission.id,
        "status": standing.status,
        "position": None,
        "progress": "",
        "score": standing.score,
        "final_score": standing.final_score,
        "max_score": standing.max_score or assignment.max_score,
        "late": standing.submission.late,
        "late_penalty": standing.submission.late_penalty,
    }
    run = standing.run
    if standing.status == "queued" and run is not None and run.attempt >= 1:
        # Back in the queue after a fault of ours: to the student it is still being
        # graded (a status never goes back from running to queued), and says why.
        out["status"] = "running"
        out["progress"] = RETRYING.format(attempt=run.attempt + 1)
    elif standing.status == "queued" and run is not None:
        out["position"] = grades.queue_position(s, run)
    elif standing.status == "running" and run is not None:
        out["progress"] = run.progress
    if standing.status == "error":
        out["explanation"] = grading_error_words(run.error if run is not None else "")
    return out


# Shown while a run waits for another attempt after a fault of ours.
RETRYING = "interrupted by a fault on our side, not your code; starting again (attempt {attempt})"


def grading_error_words(error: str) -> str:
    """What a grading that ended in error means to the student, and what to do."""
    if "DatasetError" in error or ("not found" in error.lower() and "mnist" in error.lower()):
        what = (
            "the grader could not find the data this homework is graded on (the dataset is "
            "not installed where the grading ran)"
        )
    else:
        what = "the grading stopped because of a fault on our side, every time it was tried"
    return (
        f"Your code was not judged: {what}. This is not your fault and costs you nothing: "
        "this submission gets no score, is not counted against you, and the staff see it in "
        "their list of failed gradings. You may submit the same file again; if that fails "
        "too, wait for the staff to fix it (they can regrade this submission) or ask your TA."
    )


@bp.route("/submissions/<int:submission_id>")
@login_required
def submission(submission_id: int) -> str:
    s = db()
    sub, a = _own_submission(submission_id)
    (standing,) = grades.standings(s, [sub])
    report = grades.report_for_student(s, standing, a)
    shown = report.checks if report is not None else ()
    not_run = [c for c in shown if c.not_run]
    ran = feedback.groups([c for c in shown if not c.not_run])
    return render_template(
        "student/submission.html",
        load_failed=report is not None and feedback.load_failed(report),
        not_run=not_run,
        failing_groups=[g for g in ran if g.failing],
        regrades=grades.regrades(s, sub.id, a),
        overrides=grades.overrides_of(s, sub.id),
        passing_groups=[g for g in ran if not g.failing],
        files=grades.student_files(a),
        course=s.get(Course, a.course_id),
        a=a,
        sub=sub,
        standing=standing,
        status=_status(standing, a),
        report=report,
        released=grades.hidden_released(a),
        words=CHECK_WORDS,
        trainings=[(c, describe_training(c.training)) for c in shown if c.training],
    )


@bp.route("/submissions/<int:submission_id>/training/<check>.svg")
@login_required
def training_picture(submission_id: int, check: str) -> Response:
    """A training check's runs drawn (web/training_figure.py), from the report as the
    student may see it: a hidden check's picture is withheld with its message."""
    s = db()
    sub, a = _own_submission(submission_id)
    (standing,) = grades.standings(s, [sub])
    report = grades.report_for_student(s, standing, a)
    return training_figure.picture(report.checks if report else (), check)


@bp.route("/submissions/<int:submission_id>/status.json")
@login_required
def submission_status(submission_id: int) -> Response:
    sub, a = _own_submission(submission_id)
    (standing,) = grades.standings(db(), [sub])
    response = jsonify(_status(standing, a))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/submissions/<int:submission_id>/report.json")
@login_required
def submission_report(submission_id: int) -> Response:
    s = db()
    sub, a = _own_submission(submission_id)
    (standing,) = grades.standings(s, [sub])
    report: ReportDoc | None = grades.report_for_student(s, standing, a)
    body = _status(standing, a)
    body["report"] = report.to_dict() if report is not None else None
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/submissions/<int:submission_id>/download")
@login_required
def download(submission_id: int) -> Response:
    sub, _a = _own_submission(submission_id)
    return send_file(
        io.BytesIO(load_blob(db(), sub.sha256)),
        mimetype="application/octet-stream",
        as_attachment=True,
        download_name=sub.filename,
    )
