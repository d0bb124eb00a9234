"""Many courses on one portal: each course's assignments, submissions and reports are its own.

Two courses, each with its own instructor, TA and students, offer the same
assignment folders at once, through the pages and the API a browser or the CLI
uses; neither sees, moves or is limited by the other's rows.
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from grader.config import REPO_ROOT
from tests.web.conftest import PASSWORD, cheap_hash, csrf_token, grade_queued, hand_in, login
from tests.web.test_api import GOOD, bearer, token_for
from web import create_app
from web.demo import DemoData, add_course, add_user
from worker.config import Settings
from worker.db import get_engine
from worker.models import Assignment, Role, SubmissionBlob, utcnow

SOLUTION = (REPO_ROOT / "assignments/activations/solution/activations.py").read_bytes()


@pytest.fixture
def second(demo: DemoData, web_settings: Settings) -> int:
    """Next term's course: instructor2, ta_b and student_b, none of them in the demo course."""
    course_id = add_course(web_settings, "dl-next", "Deep learning, next term")
    for name, role in (("instructor2", Role.INSTRUCTOR), ("ta_b", Role.TA),
                       ("student_b", Role.STUDENT)):  # fmt: skip
        demo.user_ids[name] = add_user(
            web_settings, name, PASSWORD, course_id=course_id, role=role, hasher=cheap_hash
        )
    return course_id


def _signed_in(app: Flask, name: str) -> FlaskClient:
    client = app.test_client()
    login(client, name)
    return client


def _stored_blobs(settings: Settings) -> list[str]:
    """The digests of every upload's bytes the portal keeps (``submission_blobs``)."""
    with get_engine(settings.database_url).connect() as conn:
        return sorted(conn.scalars(select(SubmissionBlob.sha256)))


def _add_built_in(client: FlaskClient, course_id: int, slug: str) -> None:
    token = csrf_token(client, f"/instructor/courses/{course_id}/")
    added = client.post(
        f"/instructor/courses/{course_id}/assignments", data={"csrf_token": token, "slug": slug}
    )
    assert added.headers["Location"].endswith(f"/courses/{course_id}/assignments/{slug}/settings")


def _set(client: FlaskClient, course_id: int, slug: str, **fields: str) -> None:
    url = f"/instructor/courses/{course_id}/assignments/{slug}/settings"
    form = {"csrf_token": csrf_token(client, url), "accept_late": "1", "counts": "latest"}
    answer = client.post(url, data=form | fields)
    assert answer.status_code == 302, answer.get_data(as_text=True)[-500:]


def _when(delta: timedelta) -> str:
    return f"{utcnow() + delta:%Y-%m-%d %H:%M}"


def _submission_id(answer) -> int:  # type: ignore[no-untyped-def]
    assert answer.status_code == 302, answer.get_data(as_text=True)[-800:]
    return int(answer.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def test_two_courses_grade_the_same_built_in_at_once_and_neither_sees_the_other(
    app: Flask, demo: DemoData, second: int, web_settings: Settings, sandbox_envs: Path
) -> None:
    first = demo.course_id
    teacher, teacher2 = _signed_in(app, "instructor"), _signed_in(app, "instructor2")
    _add_built_in(teacher2, second, "activations")
    # Course 1: due next week, hidden checks already released. Course 2: due 23 hours
    # ago (late by part of a day: 10%), hidden checks released only next week.
    _set(teacher, first, "activations", due=_when(timedelta(days=7)),
         hidden_release=_when(-timedelta(hours=1)))  # fmt: skip
    _set(teacher2, second, "activations", due=_when(-timedelta(hours=23)),
         hidden_release=_when(timedelta(days=7)), late_penalty_per_day="10%")  # fmt: skip
    ann, bob = _signed_in(app, "student"), _signed_in(app, "student_b")
    mine = _submission_id(hand_in(ann, first, "activations", [(SOLUTION, "activations.py")]))
    theirs = _submission_id(hand_in(bob, second, "activations", [(SOLUTION, "activations.py")]))
    assert grade_queued(web_settings, sandbox_envs) == ["graded", "graded"]

    # Each student: their own report, under their own course's dates.
    page = ann.get(f"/submissions/{mine}").get_data(as_text=True)
    assert "kinks" in page and "Hidden checks show only their points" not in page
    page = bob.get(f"/submissions/{theirs}").get_data(as_text=True)
    assert "kinks" not in page and "Hidden checks show only their points" in page
    assert ann.get(f"/submissions/{mine}/status.json").get_json()["late"] is False
    late = bob.get(f"/submissions/{theirs}/status.json").get_json()
    assert late["late"] is True and late["late_penalty"] == pytest.approx(0.1)
    assert ann.get(f"/submissions/{theirs}").status_code == 404
    assert bob.get(f"/submissions/{mine}").status_code == 404

    # Each course's staff: their own submissions, reports, analytics and exports only.
    ta, ta_b = _signed_in(app, "ta"), _signed_in(app, "ta_b")
    for staff, course, own, other, name, not_name in (
        (ta, first, mine, theirs, "student", "student_b"),
        (ta_b, second, theirs, mine, "student_b", "student"),
    ):
        base = f"/staff/courses/{course}"
        assert staff.get(f"{base}/submissions/{own}").status_code == 200
        assert staff.get(f"{base}/submissions/{other}").status_code == 404
        listing = staff.get(f"{base}/assignments/activations/").get_data(as_text=True)
        assert f"/submissions/{own}" in listing and f"/submissions/{other}" not in listing
        analytics = staff.get(f"{base}/assignments/activations/analytics")
        assert analytics.status_code == 200
        book = list(csv.reader(io.StringIO(staff.get(f"{base}/gradebook.csv").text)))
        logins = {cell for row in book for cell in row}
        assert name in logins and not_name not in logins
        archive = zipfile.ZipFile(
            io.BytesIO(staff.get(f"{base}/assignments/activations/submissions.zip").data)
        )
        uploads = [n for n in archive.namelist() if n.endswith(".py")]
        assert uploads == [f"activations/{name}/{own}-activations.py"]
    for who, course, own, other in (("ta", first, mine, theirs), ("ta_b", second, theirs, mine)):
        token = bearer(token_for(web_settings, demo, who, scope="staff"))
        api = f"/api/v1/courses/{course}"
        listed = app.test_client().get(
            f"{api}/assignments/activations/all-submissions", headers=token
        )
        assert [s["id"] for s in listed.get_json()["submissions"]] == [own]
        report = app.test_client().get(f"{api}/submissions/{other}", headers=token)
        assert report.status_code == 404

    with get_engine(web_settings.database_url).connect() as conn:
        rows = dict(
            conn.execute(
                select(Assignment.course_id, Assignment.due).where(Assignment.slug == "activations")
            ).all()
        )
    assert set(rows) == {first, second} and rows[first] != rows[second]


def test_a_refused_upload_stores_nothing(
    client: FlaskClient, demo: DemoData, web_settings: Settings
) -> None:
    """The course's rate limit refuses the second hand-in: no bytes of it reach the disk."""
    teacher = client
    login(teacher, "instructor")
    _set(teacher, demo.course_id, "worker-tiny", rate_limit="1/3600", max_in_flight="")
    student = client.application.test_client()
    login(student, "student")
    _submission_id(hand_in(student, demo.course_id, "worker-tiny", [(GOOD, "tiny.py")]))
    stored = _stored_blobs(web_settings)
    assert len(stored) == 1
    for n in range(3):
        other_bytes = GOOD + f"\n# attempt {n}\n".encode()
        refused = hand_in(student, demo.course_id, "worker-tiny", [(other_bytes, "tiny.py")])
        assert refused.status_code == 429 and "at most 1" in refused.get_data(as_text=True)
    assert _stored_blobs(web_settings) == stored


def test_the_in_flight_cap_refuses_before_storing(
    client: FlaskClient, demo: DemoData, web_settings: Settings
) -> None:
    login(client, "instructor")
    _set(client, demo.course_id, "worker-tiny", max_in_flight="1")
    student = client.application.test_client()
    login(student, "student")
    _submission_id(hand_in(student, demo.course_id, "worker-tiny", [(GOOD, "tiny.py")]))
    stored = _stored_blobs(web_settings)
    refused = hand_in(student, demo.course_id, "worker-tiny", [(GOOD + b"\n#2\n", "tiny.py")])
    assert refused.status_code == 429 and "waiting to be graded" in refused.get_data(as_text=True)
    assert _stored_blobs(web_settings) == stored


def test_a_student_past_the_storage_quota_is_refused_with_the_figures(
    demo: DemoData, web_settings: Settings
) -> None:
    quota = len(GOOD) * 2 + 10  # room for two uploads of this size, not three
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test secret",
            "DLGRADE_SETTINGS": web_settings.with_(student_quota_bytes=quota),
            "DLGRADE_PUBLISH": None,
        }
    )
    student = _signed_in(app, "student")
    for n in range(2):
        upload = GOOD + f"#{n}\n".encode()
        _submission_id(hand_in(student, demo.course_id, "worker-tiny", [(upload, "tiny.py")]))
    stored = _stored_blobs(web_settings)
    refused = hand_in(student, demo.course_id, "worker-tiny", [(GOOD + b"#3\n", "tiny.py")])
    text = refused.get_data(as_text=True)
    assert refused.status_code == 429
    assert "each student may store" in text and "ask the course staff" in text
    assert _stored_blobs(web_settings) == stored
    token = token_for(web_settings, demo, "other")  # another student still has room
    other = app.test_client().post(
        f"/api/v1/courses/{demo.course_id}/assignments/worker-tiny/submissions",
        headers=bearer(token),
        data={"files": [(io.BytesIO(GOOD), "tiny.py")]},
        content_type="multipart/form-data",
    )
    assert other.status_code == 201
