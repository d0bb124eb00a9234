"""``dlgrade fsck``: is every stored submission whole, and is every grading accounted for?

What it checks, all in the database (the store of record, see ``SubmissionBlob``):

- every submission's bytes are stored, hash to the submission's sha256 and have its size;
- no stored bytes belong to no submission (a file without a row);
- every run that is ``done`` has its report, and no report's run says otherwise;
- every ``running`` run holds a live lease (an expired one is a worker that died and
  that no reaper has put back in the queue: no worker is running, or none can reach the
  database); runs waiting in the database or the broker are counted, not faults.

Read-only: it repairs nothing, it lists. Exit 0 when clean, 1 with the list otherwise.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from sqlalchemy import Engine, func, select

from worker.models import GradeReport, GradeRun, RunStatus, Submission, SubmissionBlob, utcnow


@dataclass
class FsckResult:
    submissions: int = 0
    blobs: int = 0
    runs: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.problems


def fsck(engine: Engine) -> FsckResult:
    """Check the store and the runs through ``engine``; see the module's docstring."""
    out = FsckResult()
    now = utcnow()
    with engine.connect() as conn:
        sizes = select(Submission.sha256, func.max(Submission.size)).group_by(Submission.sha256)
        wanted: dict[str, int] = {sha: int(n) for sha, n in conn.execute(sizes).all()}
        out.submissions = int(conn.scalar(select(func.count()).select_from(Submission)) or 0)
        seen: set[str] = set()
        # One blob at a time: a course's uploads need not fit in memory together.
        for (sha,) in conn.execute(select(SubmissionBlob.sha256)).all():
            data = bytes(
                conn.scalar(select(SubmissionBlob.data).where(SubmissionBlob.sha256 == sha))
            )
            seen.add(sha)
            if hashlib.sha256(data).hexdigest() != sha:
                out.problems.append(f"stored bytes {sha} no longer hash to their name (corrupt)")
            elif sha in wanted and wanted[sha] != len(data):
                out.problems.append(
                    f"stored bytes {sha}: {len(data)} bytes, rows say {wanted[sha]}"
                )
            if sha not in wanted:
                out.problems.append(f"stored bytes {sha} belong to no submission")
        out.blobs = len(seen)
        missing = conn.execute(
            select(Submission.id, Submission.sha256)
            .where(Submission.sha256.not_in(seen) if seen else Submission.id.is_not(None))
            .order_by(Submission.id)
        ).all()
        for sub_id, sha in missing:
            out.problems.append(f"submission {sub_id}: its bytes ({sha}) are not stored")
        out.runs = dict(
            conn.execute(select(GradeRun.status, func.count()).group_by(GradeRun.status)).all()
        )
        reported = select(GradeReport.run_id)
        for (run_id,) in conn.execute(
            select(GradeRun.id).where(
                GradeRun.status == RunStatus.DONE.value, GradeRun.id.not_in(reported)
            )
        ):
            out.problems.append(f"run {run_id} is done but has no report")
        for run_id, status in conn.execute(
            select(GradeRun.id, GradeRun.status)
            .join(GradeReport, GradeReport.run_id == GradeRun.id)
            .where(GradeRun.status != RunStatus.DONE.value)
        ):
            out.problems.append(f"run {run_id} has a report but is {status}")
        for run_id, worker, expired in conn.execute(
            select(GradeRun.id, GradeRun.worker, GradeRun.lease_expires_at).where(
                GradeRun.status == RunStatus.RUNNING.value,
                (GradeRun.lease_expires_at.is_(None)) | (GradeRun.lease_expires_at < now),
            )
        ):
            when = f"expired {expired:%Y-%m-%d %H:%M:%S} UTC" if expired else "no lease"
            out.problems.append(f"run {run_id} is running on {worker} with {when}")
    return out


def render(result: FsckResult) -> str:
    runs = ", ".join(f"{n} {s}" for s, n in sorted(result.runs.items())) or "no runs"
    lines = [f"{result.submissions} submissions, {result.blobs} stored uploads; runs: {runs}"]
    if result.clean:
        lines.append("clean")
    else:
        lines.append(f"{len(result.problems)} problem(s):")
        lines += [f"  {p}" for p in result.problems]
    return "\n".join(lines)
