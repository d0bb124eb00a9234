"""The late policy, and the submit path computing it from the time the upload was stored."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from grader.assignment import load_assignment
from tests.worker.conftest import SUBMISSIONS, TINY
from worker.config import Settings
from worker.db import get_engine
from worker.late import LatePolicy, assess
from worker.models import Assignment, Course, Extension, Submission, User, utcnow
from worker.submit import SubmissionRefused, register_assignment, submit

DUE = datetime(2026, 12, 7, 23, 59)


def test_on_time_and_within_grace() -> None:
    policy = LatePolicy(due=DUE, grace_minutes=15, penalty_per_day=0.1)
    assert not assess(policy, DUE).late
    assert not assess(policy, DUE + timedelta(minutes=15)).late
    late = assess(policy, DUE + timedelta(minutes=16))
    assert (late.late, late.days_late, late.seconds_late) == (True, 1, 16 * 60)
    assert late.penalty == pytest.approx(0.1)


def test_each_day_or_part_of_one_costs_the_daily_penalty_up_to_the_cap() -> None:
    policy = LatePolicy(due=DUE, penalty_per_day=0.2, penalty_cap=0.5)
    assert assess(policy, DUE + timedelta(days=1)).penalty == pytest.approx(0.2)
    assert assess(policy, DUE + timedelta(days=1, seconds=1)).penalty == pytest.approx(0.4)
    assert assess(policy, DUE + timedelta(days=9)).penalty == pytest.approx(0.5)
    uncapped = LatePolicy(due=DUE, penalty_per_day=0.3)
    assert assess(uncapped, DUE + timedelta(days=5)).penalty == pytest.approx(1.0)


def test_an_extension_moves_the_due_date_and_no_late_work_refuses() -> None:
    policy = LatePolicy(due=DUE, accept_late=False)
    assert assess(policy, DUE + timedelta(hours=1)).refused
    assert not assess(policy, DUE + timedelta(hours=1), DUE + timedelta(days=2)).late
    assert LatePolicy(due=None).describe() == "No due date."
    assert "not accepted" in policy.describe()
    assert (
        "20% of their score per day late, at most 50%"
        in LatePolicy(due=DUE, penalty_per_day=0.2, penalty_cap=0.5).describe()
    )


def _course_assignment(settings: Settings, **policy: object) -> int:
    with get_engine(settings.database_url).begin() as conn:
        course = conn.scalar(
            Course.__table__.insert().values(slug="c", title="C").returning(Course.id)
        )
    aid = register_assignment(load_assignment(TINY), settings, course)
    with get_engine(settings.database_url).begin() as conn:
        conn.execute(update(Assignment).where(Assignment.id == aid).values(**policy))
    return course


def test_submit_records_lateness_and_penalty_from_the_stored_time(settings: Settings) -> None:
    due = utcnow() - timedelta(days=1, hours=1)  # two days (one and a bit) late
    course = _course_assignment(settings, due=due, late_penalty_per_day=0.25)
    spec = load_assignment(TINY)
    accepted = submit(spec, SUBMISSIONS / "good.py", "alice", settings, None, course_id=course)
    with get_engine(settings.database_url).connect() as conn:
        sub = conn.execute(select(Submission).where(Submission.id == accepted.submission_id)).one()
    assert accepted.late and sub.late
    assert sub.late_penalty == pytest.approx(0.5)
    assert sub.seconds_late >= 25 * 3600


def test_submit_refuses_late_work_when_the_policy_says_so_but_honours_extensions(
    settings: Settings,
) -> None:
    course = _course_assignment(settings, due=utcnow() - timedelta(hours=1), accept_late=False)
    spec = load_assignment(TINY)
    with get_engine(settings.database_url).begin() as conn:
        alice = conn.scalar(User.__table__.insert().values(name="alice").returning(User.id))
    with pytest.raises(SubmissionRefused, match="late submissions are not accepted"):
        submit(spec, SUBMISSIONS / "good.py", "alice", settings, None, course_id=course)
    with get_engine(settings.database_url).begin() as conn:
        assert conn.scalar(select(Submission.id)) is None  # nothing recorded
        conn.execute(
            Extension.__table__.insert().values(
                course_id=course,
                assignment_slug=spec.slug,
                user_id=alice,
                due=utcnow() + timedelta(days=1),
                comment="ill",
                created_at=utcnow(),
            )
        )
    accepted = submit(spec, SUBMISSIONS / "good.py", "alice", settings, None, course_id=course)
    assert not accepted.late


def test_a_new_version_of_the_checks_keeps_the_course_settings(
    settings: Settings, tmp_path: Path
) -> None:
    due = datetime(2030, 1, 1)
    course = _course_assignment(settings, due=due, grace_minutes=30, counts="best")
    edited = tmp_path / "tiny"
    edited.mkdir()
    (edited / "assignment.toml").write_text((TINY / "assignment.toml").read_text())
    (edited / "checks.py").write_text((TINY / "checks.py").read_text() + "\n# edited\n")
    spec = load_assignment(edited)
    submit(spec, SUBMISSIONS / "good.py", "alice", settings, None, course_id=course)
    with get_engine(settings.database_url).connect() as conn:
        rows = conn.execute(
            select(Assignment).where(Assignment.slug == spec.slug).order_by(Assignment.id)
        ).all()
    assert len(rows) == 2 and rows[0].manifest_hash != rows[1].manifest_hash
    new = rows[1]
    assert (new.course_id, new.due, new.grace_minutes, new.counts) == (course, due, 30, "best")
    # The command line's submission of it (no course) takes none of the course's settings.
    submit(spec, SUBMISSIONS / "good.py", "bob", settings, None)
    with get_engine(settings.database_url).connect() as conn:
        mine = conn.execute(
            select(Assignment.course_id, Assignment.due, Assignment.counts).where(
                Assignment.slug == spec.slug, Assignment.course_id.is_(None)
            )
        ).all()
    assert mine == [(None, None, "latest")]
