"""The numbers the portal shows, computed one way for students and staff alike.

- A submission's score is that of its newest report (a regrade's report
  replaces the first one's; the old reports are kept). Its *final* score is the
  newest staff override when there is one (an override is the final word, late
  penalty included), else ``score * (1 - late_penalty)``.
- The submission that counts is the newest graded one, or the one with the
  best final score, as the assignment says (``Assignment.counts``).
- What a student may read of a report: ``GradeReport.student_view()`` until the
  assignment's hidden checks are released; the whole report after.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grader.assignment import Assignment as AssignmentSpec
from grader.assignment import Folder, read_folder
from grader.messages import GradeReport as ReportDoc
from grader.messages import ReportStatus
from worker.config import Settings, parse_rate
from worker.grading import load_cached
from worker.late import LatePolicy
from worker.models import (
    Assignment,
    AssignmentUpload,
    Counts,
    Extension,
    GradeReport,
    GradeRun,
    RunStatus,
    ScoreOverride,
    Submission,
    utcnow,
)
from worker.submit import Version

# How a run's state reads to a student (dispatched is still waiting, to them).
SHOWN = {
    RunStatus.QUEUED.value: "queued",
    RunStatus.DISPATCHED.value: "queued",
    RunStatus.RUNNING.value: "running",
    RunStatus.DONE.value: "graded",
    RunStatus.ERROR.value: "error",
}


@dataclass(frozen=True)
class ReportSummary:
    """A report's numbers, without its JSON document."""

    id: int
    run_id: int
    status: str
    score: float
    max_score: float


@dataclass
class Standing:
    """One submission as the portal lists it."""

    submission: Submission
    run: GradeRun | None
    report: ReportSummary | None  # the newest report (the JSON document loads on demand)
    override: ScoreOverride | None

    @property
    def status(self) -> str:
        if self.run is None:
            return "queued"
        done = self.run.status == RunStatus.DONE.value and self.report is not None
        if done and self.report.status == ReportStatus.PLATFORM_ERROR.value:
            return "error"
        return SHOWN.get(self.run.status, "queued")

    @property
    def score(self) -> float | None:
        """The engine's score, before any penalty or override."""
        return None if self.report is None else self.report.score

    @property
    def final_score(self) -> float | None:
        if self.override is not None:
            return self.override.score
        if self.report is None or self.report.status == ReportStatus.PLATFORM_ERROR.value:
            return None
        return round(self.report.score * (1.0 - self.submission.late_penalty), 6)

    @property
    def max_score(self) -> float | None:
        return None if self.report is None else self.report.max_score


def policy_of(assignment: Assignment) -> LatePolicy:
    return LatePolicy(
        due=assignment.due,
        grace_minutes=assignment.grace_minutes,
        penalty_per_day=assignment.late_penalty_per_day,
        penalty_cap=assignment.late_penalty_cap,
        accept_late=assignment.accept_late,
    )


def course_assignments(s: Session, course_id: int) -> list[Assignment]:
    """The course's assignments, the newest version of each, soonest due first."""
    newest = (
        select(func.max(Assignment.id))
        .where(Assignment.course_id == course_id)
        .group_by(Assignment.slug)
    )
    rows = s.scalars(select(Assignment).where(Assignment.id.in_(newest))).all()
    far = datetime.max
    return sorted(rows, key=lambda a: (a.due or far, a.slug))


def course_assignment(s: Session, course_id: int, slug: str) -> Assignment | None:
    return s.scalar(
        select(Assignment)
        .where(Assignment.course_id == course_id, Assignment.slug == slug)
        .order_by(Assignment.id.desc())
        .limit(1)
    )


def version_ids(s: Session, course_id: int, slug: str) -> list[int]:
    return list(
        s.scalars(
            select(Assignment.id).where(Assignment.course_id == course_id, Assignment.slug == slug)
        )
    )


def extension_due(s: Session, course_id: int, slug: str, user_id: int) -> datetime | None:
    return s.scalar(
        select(Extension.due).where(
            Extension.course_id == course_id,
            Extension.assignment_slug == slug,
            Extension.user_id == user_id,
        )
    )


def standings(s: Session, submissions: list[Submission]) -> list[Standing]:
    """Each submission with its newest run, newest report and newest override (4 queries)."""
    ids = [sub.id for sub in submissions]
    if not ids:
        return []
    runs: dict[int, GradeRun] = {}
    for run in s.scalars(select(GradeRun).where(GradeRun.submission_id.in_(ids))):
        if run.submission_id not in runs or run.id > runs[run.submission_id].id:
            runs[run.submission_id] = run
    reports: dict[int, ReportSummary] = {}
    # Columns without the report's JSON: a history of 30 submissions stays cheap.
    report_rows = s.execute(
        select(
            GradeReport.id,
            GradeReport.submission_id,
            GradeReport.run_id,
            GradeReport.status,
            GradeReport.score,
            GradeReport.max_score,
        ).where(GradeReport.submission_id.in_(ids))
    )
    for row in report_rows:
        if row.submission_id not in reports or row.id > reports[row.submission_id].id:
            reports[row.submission_id] = ReportSummary(
                row.id, row.run_id, row.status, row.score, row.max_score
            )
    overrides: dict[int, ScoreOverride] = {}
    for o in s.scalars(select(ScoreOverride).where(ScoreOverride.submission_id.in_(ids))):
        if o.submission_id not in overrides or o.id > overrides[o.submission_id].id:
            overrides[o.submission_id] = o
    return [
        Standing(sub, runs.get(sub.id), reports.get(sub.id), overrides.get(sub.id))
        for sub in submissions
    ]


def student_history(s: Session, user_id: int, course_id: int, slug: str) -> list[Standing]:
    """A student's submissions of one assignment (every version), newest first."""
    subs = list(
        s.scalars(
            select(Submission)
            .where(
                Submission.user_id == user_id,
                Submission.assignment_id.in_(version_ids(s, course_id, slug)),
            )
            .order_by(Submission.id.desc())
        )
    )
    return standings(s, subs)


def counting(history: list[Standing], counts: str) -> Standing | None:
    """The submission that gives the grade (``history`` newest first)."""
    graded = [h for h in history if h.final_score is not None]
    if not graded:
        return None
    if counts == Counts.BEST.value:
        return max(graded, key=lambda h: (h.final_score, h.submission.id))
    return graded[0]


def hand_in_target(assignment: Assignment) -> tuple[Folder | AssignmentSpec, Version | None]:
    """What a hand-in needs of the assignment (``worker.submit``), its checks not imported:
    the folder's manifest and the course row's record of the version.

    Only a folder whose files changed on disk since its row was made (a built-in edited
    in the repository; the portal never changes an uploaded one) is loaded, checks and all,
    so that the new version is recorded with its points and limits.
    """
    folder = read_folder(assignment.path)
    if folder.manifest_hash != assignment.manifest_hash:
        return spec_of(assignment), None
    return folder, Version(
        slug=assignment.slug,
        version=assignment.version,
        manifest_hash=assignment.manifest_hash,
        title=assignment.title,
        path=assignment.path,
        max_score=assignment.max_score,
        time_limit_s=assignment.time_limit_s,
        queue=assignment.queue,
        summary=assignment.summary,
        due=assignment.due,
        hidden_release=assignment.hidden_release,
        counts=assignment.counts,
    )


@dataclass(frozen=True)
class CheckFacts:
    name: str
    points: float
    hidden: bool
    description: str


@dataclass(frozen=True)
class HandoutFacts:
    """What the handout reads of an uploaded assignment (``web.handout.read_handout``):
    its manifest and the checks as its validation job recorded them, nothing imported."""

    root: Path
    manifest: dict[str, Any]
    environment: str
    checks: tuple[CheckFacts, ...]


def handout_source(s: Session, assignment: Assignment) -> HandoutFacts | AssignmentSpec:
    """An uploaded folder's recorded facts (its checks as a worker's validation saw them);
    a built-in, which is the repository's own code, loaded as it is."""
    facts = s.scalar(
        select(AssignmentUpload.facts)
        .where(AssignmentUpload.path == assignment.path, AssignmentUpload.status == "published")
        .limit(1)
    )
    if not facts or "checks" not in facts:
        return spec_of(assignment)
    folder = read_folder(assignment.path)
    return HandoutFacts(
        root=folder.root,
        manifest=folder.manifest,
        environment=folder.environment,
        checks=tuple(CheckFacts(**c) for c in facts["checks"]),
    )


def spec_of(assignment: Assignment) -> AssignmentSpec:
    """The assignment with its checks imported (once per process): what a hand-in needs."""
    return load_cached(assignment.path)


_manifests: dict[str, tuple[int, dict[str, Any]]] = {}


def manifest_of(assignment: Assignment) -> dict[str, Any]:
    """The manifest alone, for pages: reading it never imports the checks (or torch)."""
    path = Path(assignment.path) / "assignment.toml"
    stamp = path.stat().st_mtime_ns
    hit = _manifests.get(assignment.path)
    if hit is None or hit[0] != stamp:
        hit = _manifests[assignment.path] = (stamp, tomllib.loads(path.read_text()))
    return hit[1]


def student_files(assignment: Assignment) -> list[str]:
    return [str(f) for f in manifest_of(assignment).get("submission", {}).get("files", [])]


def submissions_left(
    s: Session, settings: Settings, assignment: Assignment, user_id: int
) -> tuple[int, int, float]:
    """(left, count, window seconds) of the rate limit ``worker.submit`` enforces.

    The same rule as ``worker.submit.rate_limit_for``: the course's
    ``Assignment.rate_limit``, else the manifest's ``[submission] rate_limit``,
    else the setting.
    """
    own = assignment.rate_limit or manifest_of(assignment).get("submission", {}).get("rate_limit")
    count, window = parse_rate(str(own or settings.rate_limit))
    since = utcnow() - timedelta(seconds=window)
    recent = s.scalar(
        select(func.count())
        .select_from(Submission)
        .join(Assignment, Assignment.id == Submission.assignment_id)
        .where(
            Submission.user_id == user_id,
            Assignment.course_id == assignment.course_id,
            Assignment.slug == assignment.slug,
            Submission.submitted_at > since,
        )
    )
    return max(0, count - int(recent or 0)), count, window


def queue_position(s: Session, run: GradeRun) -> int:
    """1 + the runs of the same queue waiting ahead of this one."""
    ahead = s.scalar(
        select(func.count())
        .select_from(GradeRun)
        .where(
            GradeRun.queue == run.queue,
            GradeRun.status.in_([RunStatus.QUEUED.value, RunStatus.DISPATCHED.value]),
            GradeRun.id < run.id,
        )
    )
    return int(ahead or 0) + 1


def hidden_released(assignment: Assignment, now: datetime | None = None) -> bool:
    release = assignment.hidden_release
    return release is not None and (now or utcnow()) >= release


def report_for_student(s: Session, standing: Standing, assignment: Assignment) -> ReportDoc | None:
    """The newest report as this student may read it now.

    Always through ``GradeReport.student_view()`` (which also strips what no
    student ever sees, such as the hidden seed), with the release time the
    course set on the assignment in place of the one the manifest had when it
    was graded: the staff's date is the one enforced.
    """
    if standing.report is None:
        return None
    doc = ReportDoc.from_dict(s.get(GradeReport, standing.report.id).report)
    release = assignment.hidden_release
    when = None if release is None else release.replace(tzinfo=UTC).isoformat()
    return replace(doc, hidden_release=when).student_view()


@dataclass(frozen=True)
class Regrade:
    """A later report of a submission, against the one before: what changed and why."""

    when: datetime
    score_before: float
    score_after: float
    why: list[str]
    changed: list[Any]  # grader.feedback.CheckChange


def regrades(s: Session, submission_id: int, assignment: Assignment) -> list[Regrade]:
    """Each report after a submission's first, as the student may read them: its changes
    per check and why it differs (the checks' version, the seed), oldest first."""
    from grader.feedback import changes

    rows = s.scalars(
        select(GradeReport)
        .where(GradeReport.submission_id == submission_id)
        .order_by(GradeReport.id)
    ).all()
    release = assignment.hidden_release
    when = None if release is None else release.replace(tzinfo=UTC).isoformat()

    def view(row: GradeReport) -> ReportDoc:
        return replace(ReportDoc.from_dict(row.report), hidden_release=when).student_view()

    out = []
    for old, new in pairwise(rows):
        before, after = view(old), view(new)
        why = []
        if old.manifest_hash != new.manifest_hash:
            why.append(f"new checks (version {old.manifest_hash[:8]} → {new.manifest_hash[:8]})")
        seeds = (before.environment.get("seed"), after.environment.get("seed"))
        if seeds[0] != seeds[1]:
            why.append(f"another seed ({seeds[0]} → {seeds[1]})")
        if not why:
            why.append("the same checks and seed, graded again")
        out.append(Regrade(new.created_at, old.score, new.score, why, changes(before, after)))
    return out


def overrides_of(s: Session, submission_id: int) -> list[ScoreOverride]:
    """Staff's score changes of a submission, oldest first (each with its comment)."""
    return list(
        s.scalars(
            select(ScoreOverride)
            .where(ScoreOverride.submission_id == submission_id)
            .order_by(ScoreOverride.id)
        )
    )
