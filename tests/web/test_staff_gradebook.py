"""The gradebook: the score that counts, late penalties, overrides, versions; two queries."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from tests.worker.conftest import empty_postgres, fresh_sqlite, postgres_base  # noqa: F401
from web import create_app
from web.staff.gradebook import build_gradebook, select_rows, sort_rows
from worker.config import Settings, default_broker_url
from worker.db import get_engine, session_factory
from worker.migrate import upgrade
from worker.models import (
    Assignment,
    Course,
    Enrollment,
    GradeReport,
    GradeRun,
    ScoreOverride,
    Submission,
    User,
)

DUE = datetime(2026, 12, 7, 23, 59)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Session]:
    url = f"sqlite:///{tmp_path / 'gradebook.sqlite'}"
    upgrade(url)
    with session_factory(url)() as s:
        yield s


class World:
    """A tiny course written straight into the tables, the way the worker leaves them."""

    def __init__(self, s: Session) -> None:
        self.s = s
        self.course = Course(slug="dl101", title="Deep learning")
        self.other = Course(slug="cv200", title="Vision")
        s.add_all([self.course, self.other])
        s.flush()

    def user(self, name: str, role: str = "student", course: Course | None = None) -> User:
        u = User(name=name, email=f"{name}@uni.example")
        self.s.add(u)
        self.s.flush()
        self.s.add(Enrollment(user_id=u.id, course_id=(course or self.course).id, role=role))
        return u

    def assignment(self, slug: str, counts: str = "latest", version: int = 1) -> Assignment:
        a = Assignment(
            slug=slug,
            version=version,
            manifest_hash=f"{slug}-{version}".ljust(64, "0"),
            title=slug.title(),
            path=f"/assignments/{slug}",
            max_score=10.0,
            due=DUE,
            course_id=self.course.id,
            counts=counts,
        )
        self.s.add(a)
        self.s.flush()
        return a

    def submit(
        self,
        user: User,
        a: Assignment,
        score: float | None,
        at: datetime,
        penalty: float = 0.0,
        status: str = "graded",
    ) -> Submission:
        sub = Submission(
            assignment_id=a.id,
            user_id=user.id,
            sha256="0" * 64,
            size=10,
            filename="activations.py",
            submitted_at=at,
            late=penalty > 0,
            late_penalty=penalty,
        )
        self.s.add(sub)
        self.s.flush()
        run = GradeRun(
            submission_id=sub.id,
            user_id=user.id,
            queue="cpu",
            status="done" if score is not None else "queued",
        )
        self.s.add(run)
        self.s.flush()
        if score is not None:
            self.report(run, score, status, a.manifest_hash)
        self.s.flush()
        return sub

    def regrade(self, sub: Submission, score: float, status: str = "graded") -> None:
        """A second run of ``sub`` and its report: the newer report is the one that counts."""
        run = GradeRun(submission_id=sub.id, user_id=sub.user_id, queue="cpu", status="done")
        self.s.add(run)
        self.s.flush()
        self.report(run, score, status, "0" * 64)
        self.s.flush()

    def report(self, run: GradeRun, score: float, status: str, manifest_hash: str) -> None:
        self.s.add(
            GradeReport(
                run_id=run.id,
                submission_id=run.submission_id,
                status=status,
                score=score,
                max_score=10.0,
                report={},
                manifest_hash=manifest_hash,
                worker="test",
            )
        )


def test_cells_hold_the_score_that_counts(db: Session) -> None:
    w = World(db)
    act, mlp = w.assignment("activations"), w.assignment("mlp", counts="best")
    act2 = w.assignment("activations", version=2)  # checks edited: same column
    alice, bob, carol = w.user("alice"), w.user("bob"), w.user("carol")
    ta = w.user("tina", role="ta")
    stranger = w.user("sam", course=w.other)
    t = DUE - timedelta(days=2)
    w.submit(alice, act, 8.0, t)
    w.submit(alice, act2, 6.0, t + timedelta(hours=1))  # latest counts: 6, not 8
    w.submit(alice, mlp, 3.0, t)
    w.submit(alice, mlp, 7.0, t + timedelta(hours=1))
    w.submit(alice, mlp, 5.0, t + timedelta(hours=2))  # best counts: 7
    w.submit(bob, act, 10.0, DUE + timedelta(hours=3), penalty=0.2)  # late: 8
    w.submit(bob, mlp, None, t)  # still queued
    w.submit(carol, act, 2.0, t - timedelta(hours=1))  # older and worse
    graded = w.submit(carol, act, 4.0, t)
    db.add(
        ScoreOverride(
            submission_id=graded.id, original_score=4.0, score=9.5, by_user_id=ta.id, comment="ok"
        )
    )
    w.submit(carol, mlp, 10.0, t, status="platform_error")  # our fault: no grade
    w.submit(stranger, act, 10.0, t)
    db.commit()

    book = build_gradebook(db, w.course.id)
    assert [c.slug for c in book.columns] == ["activations", "mlp"]
    assert book.columns[0].title == "Activations"
    rows = {r.name: r for r in book.rows}
    assert set(rows) == {"alice", "bob", "carol"}  # no TA, no student of another course
    assert rows["alice"].cells["activations"].score == 6.0
    assert rows["alice"].cells["activations"].submissions == 2
    assert rows["alice"].cells["mlp"].score == 7.0
    bob_act = rows["bob"].cells["activations"]
    assert (bob_act.score, bob_act.late, bob_act.overridden) == (pytest.approx(8.0), True, False)
    assert rows["bob"].cells["mlp"].score is None and rows["bob"].cells["mlp"].pending
    carol_act = rows["carol"].cells["activations"]
    assert (carol_act.score, carol_act.overridden) == (9.5, True)
    assert rows["carol"].cells["mlp"].score is None
    assert rows["alice"].total == 13.0

    assert [r.name for r in select_rows(book, only="late")] == ["bob"]
    assert [r.name for r in select_rows(book, only="overridden")] == ["carol"]
    assert [r.name for r in select_rows(book, only="missing", slug="mlp")] == ["bob", "carol"]
    assert [r.name for r in select_rows(book, only="pending")] == ["bob"]
    assert [r.name for r in select_rows(book, query="CAR")] == ["carol"]
    by_act = sort_rows(book.rows, "activations", descending=True)
    assert [r.name for r in by_act] == ["carol", "bob", "alice"]
    assert [r.name for r in sort_rows(book.rows, "mlp")] == ["alice", "bob", "carol"]
    assert [r.name for r in sort_rows(book.rows, "total", descending=True)] == [
        "alice",
        "carol",
        "bob",
    ]


def test_five_queries_whatever_the_class_size(db: Session) -> None:
    """The assignments, the students, their submissions with the newest report, the
    overrides, the runs in flight: never a query per student or per cell."""
    w = World(db)
    slugs = [w.assignment(f"hw{i}") for i in range(4)]
    for n in range(25):
        u = w.user(f"student{n:02d}")
        for a in slugs:
            w.submit(u, a, float(n % 10), DUE - timedelta(hours=n))
    db.commit()
    statements: list[str] = []
    engine = get_engine(str(db.get_bind().url))

    def count(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT"):  # not SQLite's BEGIN IMMEDIATE
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        book = build_gradebook(db, w.course.id)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(book.rows) == 25 and len(book.columns) == 4
    assert len(statements) == 5


def test_the_gradebook_agrees_with_the_students_own_page(db: Session) -> None:
    """Staff and students read one number: web.grades' rule, cell by cell."""
    from web.grades import counting, student_history

    w = World(db)
    act, mlp = w.assignment("activations"), w.assignment("mlp", counts="best")
    people = [w.user(f"s{n}") for n in range(4)]
    t = DUE - timedelta(days=1)
    for n, u in enumerate(people):
        for k in range(3):
            penalty = 0.1 * k if n % 2 else 0.0
            w.submit(u, act, float((n + k) % 4), t + timedelta(hours=k), penalty=penalty)
            w.submit(u, mlp, float((n * k) % 5), t + timedelta(hours=k))
    w.submit(people[1], mlp, 2.0, t + timedelta(hours=5))  # ties the best: the newer one counts
    db.commit()
    book = build_gradebook(db, w.course.id)
    for row in book.rows:
        for col in book.columns:
            history = student_history(db, row.user_id, w.course.id, col.slug)
            theirs = counting(history, col.counts)
            cell = row.cells[col.slug]
            assert cell.score == (theirs.final_score if theirs else None)
            assert (cell.counted.submission_id if cell.counted else None) == (
                theirs.submission.id if theirs else None
            )


# -- the page, cell by cell ---------------------------------------------------------------

ROW = re.compile(r"<tr>\s*<td class=\"student\">(.*?)</tr>", re.S)
CELL = re.compile(r"<td class=\"num( total)?\">(.*?)</td>", re.S)
LINK = re.compile(r'^<a href="/staff/courses/(\d+)/submissions/(\d+)">([^<]*)</a>')


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database of each kind."""
    if request.param == "sqlite":
        return fresh_sqlite(tmp_path)
    url = request.getfixturevalue("postgres_base")
    empty_postgres(url)
    return url


def test_the_page_shows_what_the_students_own_pages_say(any_db: str, tmp_path: Path) -> None:
    """Every cell of the rendered page against web.grades, the per-student way, computed
    separately: the score that counts (latest or best, late penalties, overrides, a
    platform error, two versions of one assignment), its link, its marks, the totals."""
    from web.grades import counting, student_history

    with session_factory(any_db)() as db:
        w = World(db)
        act, mlp = w.assignment("activations"), w.assignment("mlp", counts="best")
        conv = w.assignment("conv", counts="best")
        act2 = w.assignment("activations", version=2)
        ta = w.user("tina", role="ta")
        ta.password_hash = "never checked: the test signs in by session"
        people = [w.user(f"s{n}") for n in range(6)]
        t = DUE - timedelta(days=1)
        for n, u in enumerate(people):
            for k in range(n % 4):  # s0 and s4 hand in nothing: missing cells
                penalty = (0.1, 0.25, 0.0)[(n + k) % 3]
                w.submit(u, act if k < 2 else act2, 7.456 - n + k, t + timedelta(hours=k), penalty)
                w.submit(u, mlp, float((n * k) % 5) + 0.125, t + timedelta(hours=k), penalty)
            if n % 2:
                w.submit(u, conv, 3.333, t)
                w.submit(u, conv, 3.333, t + timedelta(hours=1))  # ties the best: newer counts
        w.submit(people[1], mlp, None, t + timedelta(hours=6))  # queued: pending mark
        w.submit(people[2], act2, 10.0, t + timedelta(hours=7), status="platform_error")
        w.submit(people[4], conv, None, t)  # only a queued one: missing and pending
        # Regraded: the newer report counts, whether its score is higher, lower or none.
        w.regrade(w.submit(people[5], mlp, 1.5, t + timedelta(hours=9)), 9.75)
        w.regrade(w.submit(people[1], conv, 9.0, t + timedelta(hours=9)), 0.5)
        w.regrade(w.submit(people[3], mlp, 8.0, t + timedelta(hours=9)), 6.0, "platform_error")
        overridden = w.submit(people[3], act, 1.0, t + timedelta(hours=8), penalty=0.5)
        db.add(
            ScoreOverride(
                submission_id=overridden.id,
                original_score=0.5,
                score=4.2,
                by_user_id=ta.id,
                comment="regraded by hand",
            )
        )
        db.commit()
        course_id, ta_id = w.course.id, ta.id

        expected: dict[str, list[tuple[str, float | None, int | None, set[str]]]] = {}
        for u in people:
            cells = []
            # The columns as the page orders them: by due date (all the same here), then slug.
            for slug, counts in (("activations", "latest"), ("conv", "best"), ("mlp", "best")):
                history = student_history(db, u.id, course_id, slug)
                theirs = counting(history, counts)
                marks = set()
                if theirs is not None and theirs.submission.late:
                    marks.add(f"late: penalty {round(theirs.submission.late_penalty * 100)}%")
                if theirs is not None and theirs.override is not None:
                    marks.add("overridden by staff")
                if any(h.status in ("queued", "running") for h in history):
                    marks.add("grading in progress")
                score = theirs.final_score if theirs else None
                sub_id = theirs.submission.id if theirs else None
                cells.append((slug, score, sub_id, marks))
            expected[u.name] = cells

    folder = tmp_path / "data"
    folder.mkdir()
    settings = Settings(database_url=any_db, broker_url=default_broker_url(folder), data_dir=folder)
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "t", "DLGRADE_SETTINGS": settings, "DLGRADE_PUBLISH": None}
    )
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"] = f"{ta_id}:0"  # the account and its session version (web.access)
        sess["_fresh"] = True
    answer = client.get(f"/staff/courses/{course_id}/")
    assert answer.status_code == 200
    rows = ROW.findall(answer.get_data(as_text=True))
    assert [r.split("<", 1)[0].split(" ", 1)[0] for r in rows] == sorted(expected)

    seen = {"late": 0, "over": 0, "pending": 0, "missing": 0}
    for row in rows:
        name = row.split(" ", 1)[0]
        *cells, (is_total, total) = CELL.findall(row)
        assert is_total and not any(t for t, _ in cells)
        assert len(cells) == 3
        for (slug, score, sub_id, marks), (_, html) in zip(expected[name], cells, strict=True):
            found = LINK.match(html)
            if score is None:
                assert found is None and html.startswith('<span class="muted">—</span>'), html
                seen["missing"] += 1
            else:
                assert found is not None, (name, slug, html)
                assert (int(found[1]), int(found[2])) == (course_id, sub_id), (name, slug, html)
                assert float(found[3]) == round(score, 2), (name, slug, html)
            assert set(re.findall(r'class="mark [a-z]+" title="([^"]*)"', html)) == marks
            seen["late"] += any(m.startswith("late") for m in marks)
            seen["over"] += "overridden by staff" in marks
            seen["pending"] += "grading in progress" in marks
        assert float(total) == round(sum(c[1] or 0.0 for c in expected[name]), 2)
    # The course holds each case the page marks, so the comparison above met them all.
    assert all(seen.values()), seen
