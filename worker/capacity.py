"""``dlgrade capacity``: how many workers a deadline needs, from gradings measured here.

The time of one grading is what the database recorded for every finished run of
the assignment (``finished_at - started_at`` of runs that are done: staging,
sandbox starts and the checks, as a worker spends it). Before a deadline each of
N students submits S times within the window W, so the work is N x S gradings of
t seconds; a worker process grades one at a time, so

    worker processes = ceil(N x S x t / W)

computed with the median t (the typical load) and with the 95th percentile (the
figure to provision for: a queue that is short on average still waits behind the
slow ones). A container runs ``--concurrency`` processes, each wanting a core.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from sqlalchemy import Engine, select

from worker.models import Assignment, GradeRun, RunStatus, Submission

_WINDOW = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_window(text: str) -> float:
    """``30m``, ``2h``, ``90s``, ``1d`` or plain seconds, as seconds (ValueError otherwise)."""
    m = _WINDOW.match(text)
    if not m or float(m.group(1)) <= 0:
        raise ValueError(f"a window reads like 30m, 2h or 90s, not {text!r}")
    return float(m.group(1)) * _UNIT[m.group(2)]


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by linear interpolation between closest ranks."""
    if not values:
        raise ValueError("no values")
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


@dataclass(frozen=True)
class Measured:
    slug: str
    queue: str
    count: int
    median_s: float
    p95_s: float


def measured(engine: Engine, slug: str) -> list[Measured]:
    """Grading times of ``slug``'s finished runs, per queue (cpu and gpu differ)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(GradeRun.queue, GradeRun.started_at, GradeRun.finished_at)
            .join(Submission, Submission.id == GradeRun.submission_id)
            .join(Assignment, Assignment.id == Submission.assignment_id)
            .where(
                Assignment.slug == slug,
                GradeRun.status == RunStatus.DONE.value,
                GradeRun.started_at.is_not(None),
                GradeRun.finished_at.is_not(None),
            )
        ).all()
    by_queue: dict[str, list[float]] = {}
    for queue, start, end in rows:
        by_queue.setdefault(queue, []).append(max(0.0, (end - start).total_seconds()))
    return [
        Measured(slug, q, len(ts), percentile(ts, 50), percentile(ts, 95))
        for q, ts in sorted(by_queue.items())
    ]


def workers_needed(students: int, per_student: int, seconds: float, window_s: float) -> int:
    return max(1, math.ceil(students * per_student * seconds / window_s))


def explain(
    m: Measured, students: int, per_student: int, window_s: float, concurrency: int
) -> list[str]:
    """The arithmetic, line by line, for one assignment and queue."""
    n = students * per_student
    lines = [
        f"{m.slug} on the {m.queue} queue: {m.count} gradings measured, "
        f"median {m.median_s:.2f}s, p95 {m.p95_s:.2f}s",
        f"  work: {students} students x {per_student} submission(s) = {n} gradings "
        f"in {window_s:g}s",
    ]
    for label, t in (("median", m.median_s), ("p95", m.p95_s)):
        procs = workers_needed(students, per_student, t, window_s)
        containers = math.ceil(procs / concurrency)
        lines.append(
            f"  {label:>6}: ceil({n} x {t:.2f}s / {window_s:g}s) = {procs} worker process(es)"
            f" = {containers} container(s) at --concurrency {concurrency}"
        )
    return lines
