"""A submission graded more than once shows what changed per check and why: the checks'
version, the seed, a staff override's comment."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import insert

from tests.web.conftest import add_graded, login, report_doc
from web.demo import DemoData
from worker.config import Settings
from worker.db import get_engine
from worker.models import GradeReport, GradeRun, RunStatus, ScoreOverride, utcnow


def _regrade(settings: Settings, submission: int, user: int, report: dict, checks: str) -> None:
    with get_engine(settings.database_url).begin() as conn:
        run = conn.scalar(
            insert(GradeRun)
            .values(submission_id=submission, user_id=user, queue="cpu",
                    status=RunStatus.DONE.value, attempt=1, finished_at=utcnow())
            .returning(GradeRun.id)
        )  # fmt: skip
        conn.execute(
            insert(GradeReport).values(
                run_id=run, submission_id=submission, status=report["status"],
                score=report["score"], max_score=report["max_score"], report=report,
                manifest_hash=checks, worker="test",
            )
        )  # fmt: skip


def test_the_page_says_what_each_regrade_changed_and_why(
    client: FlaskClient, demo: DemoData, web_settings: Settings
) -> None:
    student = demo.user_ids["student"]
    first = report_doc(
        [
            {"name": "add", "score": 0.0, "max_score": 1.0, "status": "failed", "message": "x"},
            {"name": "scale", "score": 2.0, "max_score": 2.0, "status": "passed"},
        ]
    )
    sub = add_graded(web_settings, demo.assignments["worker-tiny"], student, first)
    # The staff fixed a check: the new version passes add; same seed.
    second = report_doc(
        [
            {"name": "add", "score": 1.0, "max_score": 1.0, "status": "passed"},
            {"name": "scale", "score": 2.0, "max_score": 2.0, "status": "passed"},
        ]
    )
    _regrade(web_settings, sub, student, second, "b" * 64)
    # Graded again as it is: nothing changes.
    _regrade(web_settings, sub, student, second, "b" * 64)
    with get_engine(web_settings.database_url).begin() as conn:
        conn.execute(
            insert(ScoreOverride).values(
                submission_id=sub, original_score=3.0, score=2.5, by_user_id=demo.user_ids["ta"],
                comment="copied from the notes", created_at=utcnow(),
            )
        )  # fmt: skip
    login(client, "student")
    page = client.get(f"/submissions/{sub}").get_data(as_text=True)
    assert "What changed since the first grading" in page
    assert "new checks (version xxxxxxxx → bbbbbbbb). Score 2 → 3." in page
    assert "<code>add</code>: wrong answer → passed (+1 points)" in page
    assert "the same checks and seed, graded again. Score 3 → 3." in page
    assert "No check changed." in page
    assert (
        "Score set to 2.5 by the staff" in page
        and "(the grader's was 3): copied from the notes" in page
    )
    assert "<code>scale</code>" not in page  # unchanged checks are not listed
