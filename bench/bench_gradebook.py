"""The staff gradebook for a full class: render time for 300 students x 10 assignments.

    python bench/bench_gradebook.py [--students 300] [--assignments 10] [--each 3] [--runs 15]
                                    [--against REV [--rounds 4]]

A fresh SQLite database (the embedded default) gets one course with STUDENTS
students, ASSIGNMENTS assignments and EACH graded submissions per student and
assignment (a report of 45 checks each, as activations has), a late one and an
override here and there. Then, side by side in this process:

1. The page: ``GET /staff/courses/<id>/`` through Flask's test client, signed
   in as a TA (the whole request: session, access check, queries, template).
   Median and p95 of RUNS requests; the issue's aim is under 300 ms.
2. Where it goes: ``build_gradebook`` alone (its queries and the fold), the
   rest of the request (the template, mostly: page less build), and the CSV
   export of the same book.
3. Why a few queries for the class: the same cells computed the obvious way, per student and
   assignment with ``web.grades`` (a few queries per cell), on the first 30
   students, against ``build_gradebook`` restricted to the same 30 students'
   share of the work (scaled by the number of students): the ratio is what
   an N+1 page would cost.

With ``--against REV`` (a git revision of this repository), parts 1 and 2 are
measured for REV's code and for this tree's, in child processes that alternate
(REV, this tree, REV, ...) for ROUNDS rounds of RUNS requests each, and printed
side by side with their ratios: a busy host slows both alike. Each side reads
the same class from its own database, built by its own migrations (REV's code
refuses a schema newer than it knows, and an index is part of what is measured).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# A child of --against imports the code of the tree it was given, not this one's.
CODE = Path(os.environ.get("DLGRADE_BENCH_CODE") or ROOT)
sys.path.insert(0, str(CODE))

from sqlalchemy import func, insert, select  # noqa: E402

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
        users = add_students(
            conn, course, [(f"student{n:03d}", f"s{n}@uni.example") for n in range(students)]
        )
        aids = add_assignments(conn, course, [f"hw{k:02d}" for k in range(assignments)])
        add_history(conn, ta, users, aids, each, rng)
    return int(course)


def add_students(conn, course: int, people: list[tuple[str, str]]) -> list[int]:  # type: ignore[no-untyped-def]
    """Students of ``course`` (name, email; accounts without a password); their ids."""
    users = [
        conn.scalar(
            insert(User).values(name=name, email=email, password_hash=None).returning(User.id)
        )
        for name, email in people
    ]
    conn.execute(
        insert(Enrollment),
        [{"user_id": u, "course_id": course, "role": "student"} for u in users],
    )
    return users


def add_assignments(conn, course: int, slugs: list[str]) -> list[int]:  # type: ignore[no-untyped-def]
    """Assignments of ``course`` that exist only in the database (no folder); their ids."""
    return [
        conn.scalar(
            insert(Assignment)
            .values(
                slug=slug,
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
        for k, slug in enumerate(slugs)
    ]


def add_history(conn, ta: int, users: list[int], aids: list[int], each: int, rng) -> None:  # type: ignore[no-untyped-def]
    """EACH graded submissions per student and assignment (a report of 45 checks each, as
    activations has), a late one and an override (by the TA ``ta``) here and there."""
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
    first = conn.scalar(select(func.coalesce(func.max(Submission.id), 0)))
    conn.execute(insert(Submission), subs)
    sub_rows = conn.execute(
        select(Submission.id, Submission.user_id).where(Submission.id > first)
    ).all()
    conn.execute(
        insert(GradeRun),
        [{"submission_id": s, "user_id": u, "queue": "cpu", "status": "done"} for s, u in sub_rows],
    )
    runs = conn.execute(
        select(GradeRun.id, GradeRun.submission_id).where(GradeRun.submission_id > first)
    ).all()
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


def signed_in_client(settings: Settings) -> tuple[object, int]:
    """A test client of the portal signed in as the course's TA, and the course's id."""
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
        course = s.scalar(select(Course.id).where(Course.slug == "dl101"))
    with client.session_transaction() as sess:
        sess["_user_id"] = f"{ta}:0"  # the account and its session version (web.access)
        sess["_fresh"] = True
    return client, int(course)


def measure(settings: Settings, students: int, runs: int) -> dict[str, list[tuple[float, float]]]:
    """Parts 1 and 2 (page, build_gradebook, CSV) on the class already in the database."""
    client, course = signed_in_client(settings)
    url = f"/staff/courses/{course}/"
    first = client.get(url)  # type: ignore[attr-defined]
    assert first.status_code == 200, first.status_code
    assert first.get_data(as_text=True).count('class="student"') == students

    page = timed(lambda: client.get(url), runs)  # type: ignore[attr-defined]
    Session = session_factory(settings.database_url)

    def build() -> object:
        with Session() as s:
            return build_gradebook(s, course)

    built = timed(build, runs)
    book = build()
    export = timed(lambda: canvas_csv(book, book.rows), runs)  # type: ignore[attr-defined]
    return {"page": page, "build": built, "csv": export}


def rest(parts: dict[str, list[tuple[float, float]]]) -> float:
    """The request less build_gradebook (median CPU): the template, mostly."""
    return median_cpu(parts["page"]) - median_cpu(parts["build"])


def against(rev: str, settings: Settings, args: argparse.Namespace) -> None:
    """Parts 1 and 2 for REV's code and this tree's, alternating child processes."""
    old = Path(tempfile.mkdtemp(prefix="dlgrade-bench-gradebook-code-"))
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
    trees = {rev: old, "this tree": ROOT}
    # REV's side: the same seeded class, in a database its own migrations built.
    folder = Path(tempfile.mkdtemp(prefix="dlgrade-bench-gradebook-"))
    command = [sys.executable, __file__, "--build", str(folder), f"--students={args.students}"]
    command += [f"--assignments={args.assignments}", f"--each={args.each}"]
    subprocess.run(command, env={**os.environ, "DLGRADE_BENCH_CODE": str(old)}, check=True)
    databases = {
        rev: Settings(
            database_url=default_database_url(folder),
            broker_url=default_broker_url(folder),
            data_dir=folder,
        ),
        "this tree": settings,
    }
    got: dict[str, dict[str, list[tuple[float, float]]]] = {k: {} for k in trees}
    for _ in range(args.rounds):
        for name, code in trees.items():
            command = [sys.executable, __file__, "--child", databases[name].database_url]
            command += [
                str(databases[name].data_dir),
                f"--students={args.students}",
                f"--runs={args.runs}",
            ]
            child = subprocess.run(
                command,
                env={**os.environ, "DLGRADE_BENCH_CODE": str(code)},
                check=True,
                capture_output=True,
                text=True,
            )
            answer = json.loads(child.stdout)
            assert Path(answer["code"]).is_relative_to(code), (answer["code"], code)
            for part, xs in answer["parts"].items():
                got[name].setdefault(part, []).extend(tuple(x) for x in xs)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{args.rounds} alternating rounds of {args.runs} requests each, CPU time (wall in ms)")
    a, b = got[rev], got["this tree"]
    print(f"{'':36s} {rev:>22s} {'this tree':>22s}   ratio")
    for part, label in (
        ("page", "page (GET, whole request)"),
        ("build", "  build_gradebook (queries + fold)"),
        ("csv", "  Canvas CSV of the same book"),
    ):
        x, y = median_cpu(a[part]), median_cpu(b[part])
        xw = statistics.median(w for w, _ in a[part])
        yw = statistics.median(w for w, _ in b[part])
        print(
            f"{label:36s} {1000 * x:7.1f} ms ({1000 * xw:6.1f}) "
            f"{1000 * y:7.1f} ms ({1000 * yw:6.1f})   {x / y:4.2f}x"
        )
    x, y = rest(a), rest(b)
    print(
        f"{'  template and request (page - build)':36s} {1000 * x:7.1f} ms {'':8s} "
        f"{1000 * y:7.1f} ms {'':8s}   {x / y:4.2f}x"
    )
    for name, parts in ((rev, a), ("this tree", b)):
        page = sorted(c for _, c in parts["page"])
        p95 = page[min(len(page) - 1, round(0.95 * (len(page) - 1)))]
        print(f"{name}: page CPU p95 {1000 * p95:.1f} ms over {len(page)} requests")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=300)
    ap.add_argument("--assignments", type=int, default=10)
    ap.add_argument("--each", type=int, default=3, help="submissions per student and assignment")
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--against", metavar="REV", help="also measure this git revision's code")
    ap.add_argument("--rounds", type=int, default=4, help="alternating rounds with --against")
    ap.add_argument(
        "--child", nargs=2, metavar=("DATABASE_URL", "DATA_DIR"), help=argparse.SUPPRESS
    )
    ap.add_argument("--build", metavar="DATA_DIR", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.child:  # one side of --against: measure, answer in JSON on stdout
        url, data = args.child
        settings = Settings(
            database_url=url, broker_url=default_broker_url(Path(data)), data_dir=Path(data)
        )
        parts = measure(settings, args.students, args.runs)
        print(json.dumps({"code": sys.modules["web"].__file__, "parts": parts}))
        return

    folder = Path(args.build or tempfile.mkdtemp(prefix="dlgrade-bench-gradebook-"))
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
    if args.build:  # REV's database for --against, built by REV's code
        return
    if args.against:
        against(args.against, settings, args)
        return

    parts = measure(settings, args.students, args.runs)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"gradebook page (GET, whole request)  {ms(parts['page'])}   aim < 300 ms")
    print(f"  build_gradebook (5 queries + fold) {ms(parts['build'])}")
    print(f"  Canvas CSV of the same book        {ms(parts['csv'])}")
    print(f"  template and request (CPU)         ~{1000 * rest(parts):.1f} ms")
    built = parts["build"]
    Session = session_factory(settings.database_url)

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
        f"ratio: per-cell / whole-class build for the whole class = "
        f"{naive_full / median_cpu(built):.0f}x (CPU time)"
    )


if __name__ == "__main__":
    main()
