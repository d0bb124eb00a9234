"""The staff gradebook for a full class: render time for 300 students x 10 assignments.

    python bench/bench_gradebook.py [--students 300] [--assignments 10] [--each 3] [--runs 15]

A fresh SQLite database (the embedded default) gets one course with STUDENTS
students, ASSIGNMENTS assignments and EACH graded submissions per student and
assignment (a report of 45 checks each, as activations has), a late one and an
override here and there. Then, side by side in this process:

1. The page: ``GET /staff/courses/<id>/`` through Flask's test client, signed
   in as a TA (the whole request: session, access check, queries, template).
   Median and p95 of RUNS requests; the issue's aim is under 300 ms.
2. Where it goes: ``build_gradebook`` alone (its two queries and the fold), and
   the CSV export of the same book.
3. Why two queries: the same cells computed the obvious way, per student and
   assignment with ``web.grades`` (a few queries per cell), on the first 30
   students, against ``build_gradebook`` restricted to the same 30 students'
   share of the work (scaled by the number of students): the ratio is what
   an N+1 page would cost.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select  # noqa: E402

from web import create_app  # noqa: E402
from web.grades import counting, student_history  # noqa: E402
from web.staff.export import canvas_csv  # noqa: E402
from web.staff.gradebook import build_gradebook  # noqa: E402
from worker.config import Settings, default_broker_url, default_database_url  # noqa: E402
from worker.db import get_engine, session_factory  # noqa: E402
from worker.migrate import upgrade  # noqa: E402
from worker.models import (  # noqa: E402
    Assignment,
    Course,
    Enrollment,
    GradeReport,
    GradeRun,
    ScoreOverride,
    Submission,
    User,
)

PASSWORD_HASH = "scrypt:32768:8:1$x$" + "0" * 128  # never checked: the TA signs in by session
DUE = datetime(2026, 12, 7, 23, 59)


def a_report(rng: random.Random, slug: str) -> dict:
    checks = [
        {
            "name": f"check_{k}",
            "score": 1.0 if rng.random() < 0.8 else 0.0,
            "max_score": 1.0,
            "status": "passed" if rng.random() < 0.8 else "failed",
            "message": "" if rng.random() < 0.8 else f"at index ({k}, 3): expected 0.5, got 0.7",
            "hidden": k >= 40,
            "seconds": 0.01,
        }
        for k in range(45)
    ]
    score = sum(c["score"] for c in checks)
    return {
        "assignment": slug,
        "score": score,
        "max_score": 45.0,
        "status": "graded",
        "message": "",
        "checks": checks,
        "output": "",
        "environment": {"seed": 1},
    }


def populate(settings: Settings, students: int, assignments: int, each: int) -> int:
    """The class, written in bulk; returns the course's id."""
    rng = random.Random(7)
    engine = get_engine(settings.database_url)
    with engine.begin() as conn:
        course = conn.scalar(
            insert(Course).values(slug="dl101", title="Bench course").returning(Course.id)
        )
        ta = conn.scalar(
            insert(User).values(name="ta", password_hash=PASSWORD_HASH).returning(User.id)
        )
        conn.execute(insert(Enrollment).values(user_id=ta, course_id=course, role="ta"))
        conn.execute(
            insert(User),
            [
                {"name": f"student{n:03d}", "email": f"s{n}@uni.example", "password_hash": None}
                for n in range(students)
            ],
        )
        users = conn.scalars(select(User.id).where(User.name.like("student%"))).all()
        conn.execute(
            insert(Enrollment),
            [{"user_id": u, "course_id": course, "role": "student"} for u in users],
        )
        aids = []
        for k in range(assignments):
            aids.append(
                conn.scalar(
                    insert(Assignment)
                    .values(
                        slug=f"hw{k:02d}",
                        manifest_hash=f"{k:064d}",
                        title=f"Homework {k}",
                        path="/nowhere",
                        max_score=45.0,
                        due=DUE + timedelta(days=7 * k),
                        course_id=course,
                        counts="best" if k % 2 else "latest",
                    )
                    .returning(Assignment.id)
                )
            )
        subs = [
            {
                "assignment_id": a,
                "user_id": u,
                "sha256": "0" * 64,
                "size": 100,
                "filename": "hw.py",
                "submitted_at": DUE - timedelta(hours=rng.randint(-30, 200)),
                "late": (late := rng.random() < 0.05),
                "late_penalty": 0.1 if late else 0.0,
            }
            for u in users
            for a in aids
            for _ in range(each)
        ]
        conn.execute(insert(Submission), subs)
        sub_rows = conn.execute(select(Submission.id, Submission.user_id)).all()
        conn.execute(
            insert(GradeRun),
            [
                {"submission_id": s, "user_id": u, "queue": "cpu", "status": "done"}
                for s, u in sub_rows
            ],
        )
        runs = conn.execute(select(GradeRun.id, GradeRun.submission_id)).all()
        reports = []
        for run_id, sub_id in runs:
            doc = a_report(rng, "hw")
            reports.append(
                {
                    "run_id": run_id,
                    "submission_id": sub_id,
                    "status": "graded",
                    "score": doc["score"],
                    "max_score": 45.0,
                    "report": doc,
                    "manifest_hash": "0" * 64,
                    "worker": "bench",
                }
            )
        conn.execute(insert(GradeReport), reports)
        overridden = rng.sample([s for s, _ in sub_rows], k=max(1, len(sub_rows) // 50))
        conn.execute(
            insert(ScoreOverride),
            [
                {
                    "submission_id": s,
                    "original_score": 10.0,
                    "score": 40.0,
                    "by_user_id": ta,
                    "comment": "bench",
                }
                for s in overridden
            ],
        )
    return int(course)


def timed(fn, runs: int) -> list[tuple[float, float]]:  # type: ignore[no-untyped-def]
    """(wall, CPU) seconds of each call. CPU time is this process's own (SQLite runs in it):
    on a machine shared with other work it is the steadier of the two."""
    out = []
    for _ in range(runs):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        out.append((time.perf_counter() - w0, time.process_time() - c0))
    return out


def ms(xs: list[tuple[float, float]]) -> str:
    def stats(v: list[float]) -> str:
        v = sorted(v)
        p95 = v[min(len(v) - 1, round(0.95 * (len(v) - 1)))]
        return f"median {1000 * statistics.median(v):6.1f} ms, p95 {1000 * p95:6.1f} ms"

    return f"wall {stats([w for w, _ in xs])} | CPU {stats([c for _, c in xs])}"


def median_cpu(xs: list[tuple[float, float]]) -> float:
    return statistics.median(c for _, c in xs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=300)
    ap.add_argument("--assignments", type=int, default=10)
    ap.add_argument("--each", type=int, default=3, help="submissions per student and assignment")
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="dlgrade-bench-gradebook-"))
    settings = Settings(
        database_url=default_database_url(folder),
        broker_url=default_broker_url(folder),
        data_dir=folder,
    )
    upgrade(settings.database_url)
    t0 = time.perf_counter()
    course = populate(settings, args.students, args.assignments, args.each)
    cells = args.students * args.assignments
    print(
        f"class: {args.students} students x {args.assignments} assignments x {args.each} "
        f"submissions = {cells * args.each} reports (written in {time.perf_counter() - t0:.1f}s)"
    )

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "DLGRADE_SETTINGS": settings,
            "DLGRADE_PUBLISH": None,
        }
    )
    client = app.test_client()
    with session_factory(settings.database_url)() as s:
        ta = s.scalar(select(User.id).where(User.name == "ta"))
    with client.session_transaction() as sess:
        sess["_user_id"] = f"{ta}:0"  # the account and its session version (web.access)
        sess["_fresh"] = True
    url = f"/staff/courses/{course}/"
    first = client.get(url)
    assert first.status_code == 200, first.status_code
    assert first.get_data(as_text=True).count('class="student"') == args.students

    page = timed(lambda: client.get(url), args.runs)
    Session = session_factory(settings.database_url)

    def build() -> object:
        with Session() as s:
            return build_gradebook(s, course)

    built = timed(build, args.runs)
    book = build()
    export = timed(lambda: canvas_csv(book, book.rows), args.runs)  # type: ignore[attr-defined]

    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"gradebook page (GET, whole request)  {ms(page)}   aim < 300 ms")
    print(f"  build_gradebook (2 queries + fold) {ms(built)}")
    print(f"  Canvas CSV of the same book        {ms(export)}")
    rest = median_cpu(page) - median_cpu(built)
    print(f"  template and request (CPU)         ~{1000 * rest:.1f} ms")

    # Side by side: the obvious per-cell way (web.grades), on the first 30 students.
    sample = min(30, args.students)
    with Session() as s:
        users = s.scalars(
            select(User.id).where(User.name.like("student%")).order_by(User.name).limit(sample)
        ).all()
        slugs = [
            (a.slug, a.counts)
            for a in s.scalars(select(Assignment).where(Assignment.course_id == course))
        ]

    def per_cell() -> None:
        with Session() as s:
            for u in users:
                for slug, counts in slugs:
                    counting(student_history(s, u, course, slug), counts)

    naive = timed(per_cell, 3)
    naive_full = median_cpu(naive) * args.students / sample
    print(
        f"per-cell web.grades, {sample} students: {ms(naive)} "
        f"(x{args.students / sample:.0f} = ~{naive_full:.2f} s for the class)"
    )
    print(
        f"ratio: per-cell / two-query build for the whole class = "
        f"{naive_full / median_cpu(built):.0f}x (CPU time)"
    )


if __name__ == "__main__":
    main()
