"""A grading that ends in error, as a student reads it: what happened and what to do, in
plain words; and a status that never goes back from running to queued when a fault of
ours sends the run round again."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import update

from tests.web.conftest import hand_in, login
from tests.worker.conftest import SUBMISSIONS
from web.demo import DemoData
from worker.config import Settings
from worker.db import get_engine
from worker.models import GradeRun, RunStatus

GOOD = (SUBMISSIONS / "good.py").read_bytes()


def _submit(client: FlaskClient, demo: DemoData) -> int:
    login(client, "student")
    response = hand_in(client, demo.course_id, "worker-tiny", [(GOOD, "tiny.py")])
    return int(response.headers["Location"].rsplit("/", 1)[1])


def _run(settings: Settings, submission: int, **values: object) -> None:
    with get_engine(settings.database_url).begin() as conn:
        conn.execute(update(GradeRun).where(GradeRun.submission_id == submission).values(**values))


def test_a_retry_after_our_fault_stays_running(
    client: FlaskClient, demo: DemoData, web_settings: Settings
) -> None:
    sub = _submit(client, demo)
    first = client.get(f"/submissions/{sub}/status.json").get_json()
    assert (first["status"], first["position"]) == ("queued", 1)  # never claimed yet
    _run(web_settings, sub, status=RunStatus.RUNNING.value, attempt=1, progress="check 1/2: add")
    assert client.get(f"/submissions/{sub}/status.json").get_json()["status"] == "running"
    # The worker gave the run back after a platform fault: queued again, attempt 1 done.
    _run(web_settings, sub, status=RunStatus.QUEUED.value, progress="")
    again = client.get(f"/submissions/{sub}/status.json").get_json()
    assert again["status"] == "running" and again["position"] is None
    assert again["progress"] == (
        "interrupted by a fault on our side, not your code; starting again (attempt 2)"
    )
    page = client.get(f"/submissions/{sub}").get_data(as_text=True)
    assert "starting again (attempt 2)" in page and 'aria-live="polite"' in page


def test_a_grading_that_ended_in_error_says_what_happened_and_what_to_do(
    client: FlaskClient, demo: DemoData, web_settings: Settings
) -> None:
    sub = _submit(client, demo)
    _run(
        web_settings,
        sub,
        status=RunStatus.ERROR.value,
        attempt=3,
        error="gave up after 3 attempts; last: DatasetError: mnist not found in /data",
    )
    status = client.get(f"/submissions/{sub}/status.json").get_json()
    assert status["status"] == "error"
    words = status["explanation"]
    assert words.startswith(
        "Your code was not judged: the grader could not find the data this homework is graded on"
    )
    assert "not your fault" in words and "submit the same file again" in words
    page = client.get(f"/submissions/{sub}").get_data(as_text=True)
    assert 'id="error-explanation"' in page and "ask your TA" in page
    # Any other fault of ours: the same advice, without naming data.
    _run(web_settings, sub, error="gave up after 3 attempts; last: the sandbox could not start")
    other = client.get(f"/submissions/{sub}/status.json").get_json()["explanation"]
    assert other.startswith("Your code was not judged: the grading stopped because of a fault")
