"""Where a submission stands: what ``dlgrade status`` prints and the portal will show."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from grader.messages import ReportStatus
from worker.config import Settings
from worker.db import session_factory
from worker.models import Assignment, GradeReport, GradeRun, RunStatus, Submission, User

# How a run's state reads to a student.
SHOWN = {
    RunStatus.QUEUED.value: "queued",
    RunStatus.DISPATCHED.value: "queued",
    RunStatus.RUNNING.value: "running",
    RunStatus.ERROR.value: "error",
}


def submission_status(settings: Settings, submission_id: int) -> dict[str, Any] | None:
    """The submission's standing, from its latest run; None when there is no such submission.

    Keys: id, status (queued | running | graded | error), score, max_score,
    attempts, reports (how many exist), progress, and the details around them.
    """
    Session = session_factory(settings.database_url)
    with Session() as s:
        row = s.execute(
            select(Submission, User.name, Assignment)
            .join(User, User.id == Submission.user_id)
            .join(Assignment, Assignment.id == Submission.assignment_id)
            .where(Submission.id == submission_id)
        ).first()
        if row is None:
            return None
        sub, student, assignment = row
        run = s.scalar(
            select(GradeRun)
            .where(GradeRun.submission_id == submission_id)
            .order_by(GradeRun.id.desc())
            .limit(1)
        )
        reports = s.scalar(
            select(func.count())
            .select_from(GradeReport)
            .where(GradeReport.submission_id == submission_id)
        )
        report = s.scalar(select(GradeReport).where(GradeReport.run_id == run.id)) if run else None
    status = "queued"
    if run is not None:
        status = SHOWN.get(run.status, "graded")
    if report is not None:
        status = "error" if report.status == ReportStatus.PLATFORM_ERROR else "graded"
    out: dict[str, Any] = {
        "id": sub.id,
        "assignment": assignment.slug,
        "student": student,
        "submitted_at": sub.submitted_at.isoformat(),
        "late": sub.late,
        "sha256": sub.sha256,
        "size": sub.size,
        "status": status,
        "score": report.score if report else None,
        "max_score": report.max_score if report else assignment.max_score,
        "attempts": run.attempt if run else 0,
        "reports": int(reports or 0),
        "progress": run.progress if run and run.status == RunStatus.RUNNING.value else "",
        "run_id": run.id if run else None,
        "run_status": run.status if run else None,
        "worker": (report.worker if report else run.worker) if run else None,
        "error": run.error if run else "",
        "report_status": report.status if report else None,
    }
    if report is not None:
        out["report"] = report.report
    return out
