"""Students' pages: courses, hand-in (checked at once), live status, report, history, lateness."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from tests.web.conftest import (
    ACTIVATIONS,
    add_graded,
    grade_queued,
    hand_in,
    login,
    report_doc,
)
from tests.worker.conftest import SUBMISSIONS
from web.demo import DemoData
from worker.config import Settings
from worker.db import get_engine
from worker.models import (
    Assignment,
    Extension,
    GradeRun,
    RunStatus,
    Submission,
    SubmissionBlob,
    utcnow,
)

GOOD = (SUBMISSIONS / "good.py").read_bytes()


def _set(settings: Settings, assignment_id: int, **values: object) -> None:
    with get_engine(settings.database_url).begin() as conn:
        conn.execute(update(Assignment).where(Assignment.id == assignment_id).values(**values))


def _count(settings: Settings, table) -> int:  # type: ignore[no-untyped-def]
    with get_engine(settings.database_url).connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(table)))


def _blobs(settings: Settings) -> list[bytes]:
    """The stored uploads' bytes, in the order they were first submitted."""
    with get_engine(settings.database_url).connect() as conn:
        first = (
            select(Submission.sha256, func.min(Submission.id).label("first"))
            .group_by(Submission.sha256)
            .subquery()
        )
        return [
            bytes(d)
            for d in conn.scalars(
                select(SubmissionBlob.data)
                .outerjoin(first, first.c.sha256 == SubmissionBlob.sha256)
                .order_by(first.c.first)
            )
        ]


def test_course_page_lists_each_assignment_with_its_facts(
    client: FlaskClient, demo: DemoData, web_settings: Settings
) -> None:
    tiny = demo.assignments["worker-tiny"]
    _set(web_settings, tiny, due=utcnow() + timedelta(days=3), late_penalty_per_day=0.1)
    me = demo.user_ids["student"]
    add_graded(
        web_settings,
        tiny,
        me,
        report_doc(
            [
                {"name": "add", "score": 1.0, "max_score": 1.0, "status": "passed"},
                {"name": "scale", "score": 0.0, "max_score": 2.0, "status": "failed"},
            ]
        ),
    )
    add_graded(
        web_settings,
        tiny,
        me,
        report_doc(
            [
                {"name": "add", "score": 1.0, "max_score": 1.0, "status": "passed"},
                {"name": "scale", "score": 2.0, "max_score": 2.0, "status": "passed"},
            ]
        ),
    )
    add_graded(
        web_settings,
        tiny,
        me,
        report_doc(
            [
                {"name": "add", "score": 0.0, "max_score": 1.0, "status": "failed"},
                {"name": "scale", "score": 2.0, "max_score": 2.0, "status": "passed"},
            ]
        ),
    )
    login(client, "student")
    html = client.get(f"/courses/{demo.course_id}").get_data(as_text=True)
    assert "Two small functions" in html and "add(x, y) and scale(x, a)" in html  # title, summary
    assert "Activation functions and their derivatives" in html
    assert "lose 10% of their score per day late" in html
    # The card of this assignment, wherever the course's order puts it.
    card = next(c for c in html.split('<section class="card assignment">') if "Two small" in c)
    best = card.split("Best score</dt><dd>")[1].split("<")[0]
    latest = card.split("Latest score</dt><dd>")[1].split("<")[0]
    assert (best, latest) == ("3", "2")
    assert "27 of 30 in any 1 h" in card  # the default 30/3600 rate limit, 3 used


def test_the_demo_dates_each_built_in_from_the_day_it_starts(web_settings: Settings) -> None:
    """Due a week apart from the day the demo is first seeded, hidden checks released
    after the due date; a second seeding keeps the dates it has."""
    from web.demo import DEMO_WEEKS, built_in_assignments, seed_demo

    folders = [f for f in built_in_assignments() if f.name in ("activations", "losses")]
    start = utcnow()
    first = seed_demo(web_settings, folders, hasher=str)
    with get_engine(web_settings.database_url).connect() as conn:
        dates = {
            slug: conn.execute(
                select(Assignment.due, Assignment.hidden_release).where(Assignment.id == i)
            ).one()
            for slug, i in first.assignments.items()
        }
    for slug, (due, release) in dates.items():
        weeks = timedelta(weeks=DEMO_WEEKS[slug])
        assert start + weeks < due < start + weeks + timedelta(days=1), slug
        assert release > due
    assert dates["activations"].due < dates["losses"].due
    _set(web_settings, first.assignments["losses"], due=start + timedelta(days=40))
    seed_demo(web_settings, folders, hasher=str)
    with get_engine(web_settings.database_url).connect() as conn:
        again = conn.scalar(
            select(Assignment.due).where(Assignment.id == first.assignments["losses"])
        )
    assert again == start + timedelta(days=40)


def test_hand_in_one_file_then_watch_it_queued(
    client: FlaskClient, demo: DemoData, web_settings: Settings
) -> None:
    login(client, "student")
    response = hand_in(client, demo.course_id, "worker-tiny", [(GOOD, "tiny.py")])
    assert response.status_code == 302
    sub_id = int(response.headers["Location"].rsplit("/", 1)[1])
    status = client.get(f"/submissions/{sub_id}/status.json").get_json()
    assert status["status"] == "queued" and status["position"] == 1
    assert status["score"] is None
    page = client.get(f"/submissions/{sub_id}").get_data(as_text=True)
    assert "position 1 in the queue" in page and "tiny.py" in page
    assert len(_blobs(web_settings)) == 1


def test_several_files_are_zipped_and_a_zip_is_kept(
    client: FlaskClient, demo: DemoData, web_settings: Settings
) -> None:
    login(client, "student")
    response = hand_in(
        client, demo.course_id, "worker-tiny", [(GOOD, "tiny.py"), (b"# notes\n", "notes.py")]
    )
    assert response.status_code == 302
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("hw/tiny.py", GOOD)
    assert (
        hand_in(client, demo.course_id, "worker-tiny", [(buf.getvalue(), "hw.zip")]).status_code
        == 302
    )
    with get_engine(web_settings.database_url).connect() as conn:
        names = conn.scalars(select(Submission.filename).order_by(Submission.id)).all()
    assert names == ["files.zip", "hw.zip"]
    stored = _blobs(web_settings)
    with zipfile.ZipFile(io.BytesIO(stored[0])) as zf:
        assert sorted(zf.namelist()) == ["notes.py", "tiny.py"]


def _bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("tiny.py", GOOD)
        zf.writestr("padding.py", b"#" * (4 * 1024 * 1024))
    return buf.getvalue()


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("files", "says"),
    [
        ([(b"#" * 5000, "tiny.py")], "larger than the"),
        ([(_bomb(), "hw.zip")], "more than 100 times (a zip bomb?)"),
        ([(_zip({"../evil.py": b"x", "tiny.py": GOOD}), "hw.zip")], "escapes the submission"),
        ([(b"print(1)\n", "notes.txt")], "the upload has no tiny.py"),
        ([(GOOD, ".hidden.py")], "hidden files"),
        ([(GOOD, "a.py"), (GOOD, "a.py")], "same name"),
        ([(_zip({f"f{i}.py": b"" for i in range(201)}), "many.zip")], "more than 200 files"),
        ([], "choose a file"),
    ],
    ids=["size", "ratio", "traversal", "missing", "dotfile", "duplicate", "count", "empty"],
)
def test_bad_uploads_are_refused_at_once_and_nothing_is_stored(
    app, client: FlaskClient, demo: DemoData, web_settings: Settings, files, says: str
) -> None:
    app.config["DLGRADE_SETTINGS"] = web_settings.with_(
        max_upload_bytes=4096 if says == "larger than the" else web_settings.max_upload_bytes
    )
    login(client, "student")
    response = hand_in(client, demo.course_id, "worker-tiny", files)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Not accepted:" in html and says in html, html[html.find("refusal") :][:400]
    assert _count(web_settings, Submission) == 0 and _count(web_settings, GradeRun) == 0
    assert _blobs(web_settings) == []


def test_the_rate_limit_refuses_with_a_clear_message(
    app, client: FlaskClient, demo: DemoData, web_settings: Settings
) -> None:
    app.config["DLGRADE_SETTINGS"] = web_settings.with_(rate_limit="2/3600")
    login(client, "student")
    for _ in range(2):
        assert (
            hand_in(client, demo.course_id, "worker-tiny", [(GOOD, "tiny.py")]).status_code == 302
        )
    page = client.get(f"/courses/{demo.course_id}/a/worker-tiny").get_data(as_text=True)
    assert "0 of 2 in any 1 h" in page
    refused = hand_in(client, demo.course_id, "worker-tiny", [(GOOD, "tiny.py")])
    assert refused.status_code == 429
    assert "submitted worker-tiny 2 times" in refused.get_data(as_text=True)
    assert _count(web_settings, Submission) == 2


def test_late_policy_is_shown_before_submitting_and_applied_from_the_stored_time(
    client: FlaskClient, demo: DemoData, web_settings: Settings
) -> None:
    tiny = demo.assignments["worker-tiny"]
    _set(
        web_settings,
        tiny,
        due=utcnow() - timedelta(hours=30),
        late_penalty_per_day=0.2,
        grace_minutes=10,
    )
    login(client, "student")
    page = client.get(f"/courses/{demo.course_id}/a/worker-tiny").get_data(as_text=True)
    assert "If you submit now it is late (2 days), penalty 40%" in page
    assert hand_in(client, demo.course_id, "worker-tiny", [(GOOD, "tiny.py")]).status_code == 302
    with get_engine(web_settings.database_url).connect() as conn:
        sub = conn.execute(select(Submission)).one()
    assert sub.late and sub.late_penalty == pytest.approx(0.4)
    history = client.get(f"/courses/{demo.course_id}/a/worker-tiny").get_data(as_text=True)
    assert "late, −40%" in history


def test_no_late_work_refuses_unless_the_student_has_an_extension(
    client: FlaskClient, demo: DemoData, web_settings: Settings
) -> None:
    tiny = demo.assignments["worker-tiny"]
    _set(web_settings, tiny, due=utcnow() - timedelta(hours=1), accept_late=False)
    login(client, "student")
    page = client.get(f"/courses/{demo.course_id}/a/worker-tiny").get_data(as_text=True)
    assert "late: not accepted" in page
    refused = hand_in(client, demo.course_id, "worker-tiny", [(GOOD, "tiny.py")])
    assert refused.status_code == 403 and "late submissions are not accepted" in refused.get_data(
        as_text=True
    )
    assert (
        _count(web_settings, Submission) == 0
        and not (web_settings.data_dir / "submissions").exists()
    )
    with get_engine(web_settings.database_url).begin() as conn:
        conn.execute(
            Extension.__table__.insert().values(
                course_id=demo.course_id, assignment_slug="worker-tiny",
                user_id=demo.user_ids["student"], due=utcnow() + timedelta(days=2),
                comment="medical", created_at=utcnow(),
            )
        )  # fmt: skip
    page = client.get(f"/courses/{demo.course_id}/a/worker-tiny").get_data(as_text=True)
    assert "Your extension" in page and "Submitting now is on time" in page
    assert hand_in(client, demo.course_id, "worker-tiny", [(GOOD, "tiny.py")]).status_code == 302


def test_status_follows_the_run_queued_running_graded(
    client: FlaskClient, demo: DemoData, web_settings: Settings
) -> None:
    login(client, "student")
    first = hand_in(client, demo.course_id, "worker-tiny", [(GOOD, "tiny.py")])
    second = hand_in(client, demo.course_id, "worker-tiny", [(GOOD, "tiny.py")])
    sub1 = int(first.headers["Location"].rsplit("/", 1)[1])
    sub2 = int(second.headers["Location"].rsplit("/", 1)[1])
    assert client.get(f"/submissions/{sub2}/status.json").get_json()["position"] == 2
    with get_engine(web_settings.database_url).begin() as conn:
        conn.execute(
            update(GradeRun)
            .where(GradeRun.submission_id == sub1)
            .values(status=RunStatus.RUNNING.value, progress="check 7/45: relu")
        )
    running = client.get(f"/submissions/{sub1}/status.json").get_json()
    assert (running["status"], running["progress"]) == ("running", "check 7/45: relu")
    assert "check 7/45: relu" in client.get(f"/submissions/{sub1}").get_data(as_text=True)
    assert client.get(f"/submissions/{sub2}/status.json").get_json()["position"] == 1


def test_a_real_grading_reaches_the_report_page(
    client: FlaskClient, demo: DemoData, web_settings: Settings, sandbox_envs: Path
) -> None:
    login(client, "student")
    response = hand_in(client, demo.course_id, "worker-tiny", [(GOOD, "tiny.py")])
    sub_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert grade_queued(web_settings, sandbox_envs) == ["graded"]
    status = client.get(f"/submissions/{sub_id}/status.json").get_json()
    assert (status["status"], status["score"], status["max_score"]) == ("graded", 3.0, 3.0)
    html = client.get(f"/submissions/{sub_id}").get_data(as_text=True)
    assert '<p class="score-big">3 / 3</p>' in html
    assert "<details>" in html and "Environment" in html


def test_report_shows_each_check_in_plain_words(
    client: FlaskClient, demo: DemoData, web_settings: Settings
) -> None:
    doc = report_doc(
        [
            {"name": "add", "score": 1.0, "max_score": 1.0, "status": "passed"},
            {"name": "scale", "score": 0.0, "max_score": 2.0, "status": "failed",
             "message": "scale(x, 2.5): wrong at index (1, 2): expected 5.0, got 2.0"},
            {"name": "slow", "score": 0.0, "max_score": 1.0, "status": "timeout",
             "message": "scale did not return within 2 s"},
            {"name": "big", "score": 0.0, "max_score": 1.0, "status": "memory",
             "message": "the 256 MB memory limit"},
        ],
        output="hello from the student\n",
    )  # fmt: skip
    sub_id = add_graded(
        web_settings, demo.assignments["worker-tiny"], demo.user_ids["student"], doc
    )
    login(client, "student")
    html = client.get(f"/submissions/{sub_id}").get_data(as_text=True)
    assert "wrong answer" in html and "ran past its time limit" in html
    assert "ran out of memory" in html
    assert "expected 5.0, got 2.0" in html and "hello from the student" in html
    assert "1 / 5" in html
    assert "s3cr3t" not in html  # the hidden seed is staff's only


def test_history_marks_the_submission_that_counts(
    client: FlaskClient, demo: DemoData, web_settings: Settings
) -> None:
    tiny, me = demo.assignments["worker-tiny"], demo.user_ids["student"]
    good = report_doc([{"name": "add", "score": 3.0, "max_score": 3.0, "status": "passed"}])
    poor = report_doc([{"name": "add", "score": 1.0, "max_score": 3.0, "status": "failed"}])
    best_id = add_graded(web_settings, tiny, me, good)
    latest_id = add_graded(web_settings, tiny, me, poor)
    login(client, "student")

    def counted() -> int:
        html = client.get(f"/courses/{demo.course_id}/a/worker-tiny").get_data(as_text=True)
        row = [r for r in html.split("<tr>") if "counts</span>" in r]
        assert len(row) == 1
        return int(row[0].split("submissions/")[1].split('"')[0])

    assert counted() == latest_id
    _set(web_settings, tiny, counts="best")
    assert counted() == best_id


HIDDEN = [
    {"name": "add", "score": 1.0, "max_score": 1.0, "status": "passed"},
    {"name": "secret_edge_case", "score": 0.0, "max_score": 2.0, "status": "failed",
     "message": "scale(x, 2.5) at the secret input 123.456", "hidden": True},
]  # fmt: skip


@pytest.mark.parametrize("route", ["", "/report.json"])
def test_hidden_checks_show_only_points_until_release(
    client: FlaskClient, demo: DemoData, web_settings: Settings, route: str
) -> None:
    tiny = demo.assignments["worker-tiny"]
    doc = report_doc(HIDDEN, output="visible print\n", hidden_output="printed 123.456 in hidden\n")
    sub_id = add_graded(web_settings, tiny, demo.user_ids["student"], doc)
    _set(web_settings, tiny, hidden_release=utcnow() + timedelta(days=1))
    login(client, "student")
    body = client.get(f"/submissions/{sub_id}{route}").get_data(as_text=True)
    for secret in ("secret_edge_case", "123.456", "s3cr3t"):
        assert secret not in body
    assert "hidden check" in body and "visible print" in body
    _set(web_settings, tiny, hidden_release=utcnow() - timedelta(minutes=1))
    body = client.get(f"/submissions/{sub_id}{route}").get_data(as_text=True)
    assert "secret_edge_case" in body and "123.456" in body
    assert "s3cr3t" not in body


def test_a_rejected_upload_and_a_fault_of_ours_read_differently(
    client: FlaskClient, demo: DemoData, web_settings: Settings
) -> None:
    tiny, me = demo.assignments["worker-tiny"], demo.user_ids["student"]
    rejected = report_doc([], status="rejected")
    rejected["message"] = "the submission has no tiny.py (found: notes.txt)"
    ours = report_doc([], status="platform_error")
    ours["message"] = "the sandbox could not start"
    rejected_id = add_graded(web_settings, tiny, me, rejected)
    ours_id = add_graded(web_settings, tiny, me, ours)
    login(client, "student")
    html = client.get(f"/submissions/{rejected_id}").get_data(as_text=True)
    assert "Your upload could not be graded: the submission has no tiny.py" in html
    html = client.get(f"/submissions/{ours_id}").get_data(as_text=True)
    assert "Grading failed on our side, not because of your code" in html
    status = client.get(f"/submissions/{ours_id}/status.json").get_json()
    assert status["status"] == "error" and status["final_score"] is None


def test_the_manifests_own_rate_limit_is_the_one_shown_and_enforced(
    client: FlaskClient, demo: DemoData, web_settings: Settings
) -> None:
    import shutil

    from grader.assignment import load_assignment
    from tests.worker.conftest import TINY
    from worker.submit import register_assignment

    folder = web_settings.data_dir / "tiny-limited"
    shutil.copytree(TINY, folder)
    manifest = folder / "assignment.toml"
    manifest.write_text(
        manifest.read_text().replace('module = "tiny"', 'module = "tiny"\nrate_limit = "2/600"')
    )
    register_assignment(load_assignment(folder), web_settings, demo.course_id)
    login(client, "student")
    page = client.get(f"/courses/{demo.course_id}/a/worker-tiny").get_data(as_text=True)
    assert "2 of 2 in any 10 min" in page
    for _ in range(2):
        assert (
            hand_in(client, demo.course_id, "worker-tiny", [(GOOD, "tiny.py")]).status_code == 302
        )
    refused = hand_in(client, demo.course_id, "worker-tiny", [(GOOD, "tiny.py")])
    assert refused.status_code == 429 and "0 of 2 in any 10 min" in refused.get_data(as_text=True)


def test_hidden_checks_are_never_named_in_the_progress_students_poll(
    app, client: FlaskClient, demo: DemoData, web_settings: Settings, sandbox_envs: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """A real grading of activations, polled through the page's status.json and the API
    at every step the worker writes: before the release time no hidden check's name."""
    from tests.web.test_api import bearer, token_for
    from worker import grading

    activations = demo.assignments["activations"]
    _set(web_settings, activations, hidden_release=utcnow() + timedelta(days=2))
    login(client, "student")
    solution = (ACTIVATIONS / "solution" / "activations.py").read_bytes()
    answer = hand_in(client, demo.course_id, "activations", [(solution, "activations.py")])
    sub = int(answer.headers["Location"].rsplit("/", 1)[1])
    api = app.test_client()
    token = token_for(web_settings, demo, "student")
    seen: list[str] = []
    real = grading.Heartbeat.on_progress

    def polled(self, k: int, n: int, text: str) -> None:  # type: ignore[no-untyped-def]
        real(self, k, n, text)
        assert self.grade_queue.heartbeat(self.claim, self.progress)  # written now, not later
        page = client.get(f"/submissions/{sub}/status.json").get_json()
        via_api = api.get(f"/api/v1/submissions/{sub}", headers=bearer(token)).get_json()
        seen.extend([page["progress"], via_api["progress"]])

    monkeypatch.setattr(grading.Heartbeat, "on_progress", polled)
    assert grade_queued(web_settings, sandbox_envs) == ["graded"]
    from grader.assignment import load_assignment

    spec = load_assignment(ACTIVATIONS)
    hidden = [c.name for c in spec.checks if c.hidden]
    visible = [c.name for c in spec.checks if not c.hidden]
    assert len(hidden) >= 4 and len(seen) >= 2 * len(spec.checks)
    assert not [p for p in seen for name in hidden if name in p]
    n = len(spec.checks)
    assert f"check {n}/{n}: hidden check" in seen
    assert f"check 1/{n}: {visible[0]}" in seen  # visible checks keep their names
