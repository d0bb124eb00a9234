"""What TAs and instructors do in the browser, as JSON: gradebook, submissions, overrides,
regrades, exports. Each route is ``staff_api`` (a staff token of a TA or instructor of the
course in the URL) and calls the staff side's own modules; exports are the staff views
themselves, so the files are byte for byte those the pages give.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, request
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from web.api import bp
from web.api.auth import error, staff_api
from web.api.student import iso, overrides_json, staff_report
from web.database import db, settings
from web.grades import standings, version_ids
from web.staff import reports as staff_reports
from web.staff import views as staff_views
from web.staff.gradebook import build_gradebook
from web.staff.overrides import OverrideRefused, parse_override, record_override
from web.staff.queries import (
    SubmissionFilter,
    assignment_or_404,
    assignment_submissions,
    submission_or_404,
)
from web.staff.regrade import new_batch_id, request_regrades
from worker.models import Submission


@bp.route("/courses/<int:course_id>/gradebook")
@staff_api
def gradebook(course_id: int) -> dict[str, Any]:
    book = build_gradebook(db(), course_id)
    return {
        "course_id": course_id,
        "max_total": book.max_total,
        "columns": [
            {
                "slug": c.slug,
                "title": c.title,
                "max_score": c.max_score,
                "due": iso(c.due),
                "counts": c.counts,
            }
            for c in book.columns
        ],
        "rows": [
            {
                "user_id": r.user_id,
                "name": r.name,
                "email": r.email,
                "total": r.total,
                "cells": {
                    slug: {
                        "score": cell.score,
                        "submission_id": cell.counted.submission_id if cell.counted else None,
                        "submissions": cell.submissions,
                        "late": cell.late,
                        "overridden": cell.overridden,
                        "pending": cell.pending,
                    }
                    for slug, cell in r.cells.items()
                },
            }
            for r in sorted(book.rows, key=lambda r: r.name.lower())
        ],
    }


@bp.route("/courses/<int:course_id>/assignments/<slug>/all-submissions")
@staff_api
def class_submissions(course_id: int, slug: str) -> dict[str, Any]:
    """The assignment's submissions, filtered by the staff page's own query parameters."""
    s = db()
    assignment_or_404(s, course_id, slug)
    listed = assignment_submissions(s, course_id, slug, SubmissionFilter.from_args(request.args))
    return {
        "submissions": [
            {
                "id": x.submission.id,
                "student": x.student,
                "status": x.standing.status,
                "score": x.standing.score,
                "final_score": x.standing.final_score,
                "late": x.submission.late,
                "submitted_at": iso(x.submission.submitted_at),
                "flags": x.flags,
            }
            for x in listed
        ]
    }


@bp.route("/courses/<int:course_id>/submissions/<int:submission_id>")
@staff_api
def submission(course_id: int, submission_id: int) -> dict[str, Any]:
    return staff_report(course_id, submission_id)


@bp.route("/courses/<int:course_id>/submissions/<int:submission_id>/overrides")
@staff_api
def overrides(course_id: int, submission_id: int) -> dict[str, Any]:
    s = db()
    sub, _ = submission_or_404(s, course_id, submission_id)
    return {"overrides": overrides_json(s, sub.id)}


@bp.route("/courses/<int:course_id>/submissions/<int:submission_id>/overrides", methods=["POST"])
@staff_api
def override(course_id: int, submission_id: int) -> tuple[Response, int] | Response:
    """JSON ``{"score": 7.5, "comment": "why"}``: the same rule and audit row as the page's form."""
    s = db()
    sub, _ = submission_or_404(s, course_id, submission_id)
    (standing,) = standings(s, [sub])
    max_score = standing.max_score if standing.max_score is not None else sub.assignment.max_score
    body = request.get_json(silent=True) or {}
    try:
        score, comment = parse_override(
            str(body.get("score", "")), str(body.get("comment", "")), max_score
        )
    except OverrideRefused as err:
        return error(400, f"override not saved: {err}")
    record_override(s, standing, score, comment, current_user.id)
    return jsonify({"submission_id": submission_id, "overrides": overrides_json(s, sub.id)}), 201


def _publish():  # type: ignore[no-untyped-def]
    return current_app.config.get("DLGRADE_PUBLISH")


@bp.route("/courses/<int:course_id>/submissions/<int:submission_id>/regrade", methods=["POST"])
@staff_api
def regrade_one(course_id: int, submission_id: int) -> tuple[Response, int]:
    s = db()
    sub_id = submission_or_404(s, course_id, submission_id)[0].id
    s.rollback()  # the queue's transaction takes SQLite's write lock (see web.staff.actions)
    done = request_regrades(settings(), _publish(), [sub_id], current_user.id)
    return jsonify({"run_ids": done.run_ids, "skipped": done.skipped}), 202


@bp.route("/courses/<int:course_id>/assignments/<slug>/regrade", methods=["POST"])
@staff_api
def regrade_all(course_id: int, slug: str) -> tuple[Response, int]:
    s = db()
    assignment_or_404(s, course_id, slug)
    ids = s.scalars(
        select(Submission.id).where(Submission.assignment_id.in_(version_ids(s, course_id, slug)))
    ).all()
    s.rollback()
    done = request_regrades(settings(), _publish(), ids, current_user.id, batch=new_batch_id())
    body = {"batch": done.batch, "run_ids": done.run_ids, "skipped": done.skipped}
    return jsonify(body), 202


@bp.route("/courses/<int:course_id>/assignments/<slug>/batches/<batch>")
@staff_api
def batch(course_id: int, slug: str, batch: str) -> dict[str, object]:
    return staff_views.batch_json(course_id=course_id, slug=slug, batch=batch)


@bp.route("/courses/<int:course_id>/gradebook.csv")
@staff_api
def gradebook_csv(course_id: int) -> Response:
    return staff_reports.gradebook_csv(course_id=course_id)


@bp.route("/courses/<int:course_id>/assignments/<slug>/submissions.zip")
@staff_api
def submissions_zip(course_id: int, slug: str) -> Response:
    return staff_reports.submissions_download(course_id=course_id, slug=slug)
