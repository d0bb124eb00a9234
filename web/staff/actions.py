"""What staff change: a score override (with its reason), a regrade of one submission or all."""

from __future__ import annotations

from flask import current_app, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from web.access import staff_view
from web.database import db, settings
from web.grades import standings, version_ids
from web.staff import bp
from web.staff.overrides import OverrideRefused, parse_override, record_override
from web.staff.queries import assignment_or_404, submission_or_404
from web.staff.regrade import new_batch_id, request_regrades
from worker.models import Submission


@bp.route("/courses/<int:course_id>/submissions/<int:submission_id>/override", methods=["POST"])
@staff_view
def override(course_id: int, submission_id: int) -> Response:
    s = db()
    sub, _ = submission_or_404(s, course_id, submission_id)
    (standing,) = standings(s, [sub])
    max_score = standing.max_score if standing.max_score is not None else sub.assignment.max_score
    try:
        score, comment = parse_override(
            request.form.get("score", ""), request.form.get("comment", ""), max_score
        )
    except OverrideRefused as err:
        flash(f"Override not saved: {err}.", "error")
    else:
        record_override(s, standing, score, comment, current_user.id)
        flash(f"Score set to {score:g}.", "info")
    return redirect(url_for("staff.submission", course_id=course_id, submission_id=sub.id))


def _publish():  # type: ignore[no-untyped-def]
    return current_app.config.get("DLGRADE_PUBLISH")


@bp.route("/courses/<int:course_id>/submissions/<int:submission_id>/regrade", methods=["POST"])
@staff_view
def regrade_one(course_id: int, submission_id: int) -> Response:
    s = db()
    sub_id = submission_or_404(s, course_id, submission_id)[0].id
    # End the request's transaction first: on SQLite it holds the write lock that the
    # queue's own transaction is about to take (and touch no ORM object after it).
    s.rollback()
    done = request_regrades(settings(), _publish(), [sub_id], current_user.id)
    if done.run_ids:
        flash("Regrade queued: a new report will appear here; the earlier ones are kept.", "info")
    else:
        flash("This submission is already being graded.", "info")
    return redirect(url_for("staff.submission", course_id=course_id, submission_id=sub_id))


@bp.route("/courses/<int:course_id>/assignments/<slug>/regrade", methods=["POST"])
@staff_view
def regrade_all(course_id: int, slug: str) -> Response:
    s = db()
    assignment_or_404(s, course_id, slug)
    ids = s.scalars(
        select(Submission.id).where(Submission.assignment_id.in_(version_ids(s, course_id, slug)))
    ).all()
    s.rollback()  # as in regrade_one: release the request's transaction first
    done = request_regrades(settings(), _publish(), ids, current_user.id, batch=new_batch_id())
    flash(
        f"Regrading {len(done.run_ids)} submissions"
        + (f" ({done.skipped} already being graded)" if done.skipped else "")
        + ".",
        "info",
    )
    return redirect(url_for("staff.assignment", course_id=course_id, slug=slug))
