"""Uploading an assignment folder: validated by a worker's job, refused with its report when
invalid, published only when valid; a new version keeps the old one's settings and reports."""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update

from grader.scaffold import new_assignment
from tests.web.conftest import csrf_token, login, run_sent_validations
from web.demo import DemoData
from worker.config import Settings
from worker.db import get_engine
from worker.models import Assignment, AssignmentUpload, CourseAudit, GradeReport

SLUG = "mse-upload"


@pytest.fixture
def folder(tmp_path: Path, web_settings: Settings, sandbox_envs: Path) -> Path:
    (web_settings.data_dir / "envs").symlink_to(sandbox_envs)  # the local sandbox's numpy
    return new_assignment(SLUG, tmp_path)  # a scaffold validates as it is


def _zip(folder: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for f in sorted(folder.rglob("*")):
            if f.is_file():
                zf.write(f, f"{folder.name}/{f.relative_to(folder).as_posix()}")
    return buf.getvalue()


def _upload(client: FlaskClient, course_id: int, data: bytes):  # type: ignore[no-untyped-def]
    token = csrf_token(client, f"/instructor/courses/{course_id}/")
    return client.post(
        f"/instructor/courses/{course_id}/uploads",
        data={"csrf_token": token, "file": (io.BytesIO(data), "assignment.zip")},
        content_type="multipart/form-data",
    )


def _finished(client: FlaskClient, settings: Settings, upload_id: int) -> str:
    """Run the validation jobs the portal sent, as a worker would; the upload's status."""
    run_sent_validations(client.application, settings)
    with get_engine(settings.database_url).connect() as conn:
        return str(
            conn.scalar(select(AssignmentUpload.status).where(AssignmentUpload.id == upload_id))
        )


def _publish(client: FlaskClient, course_id: int, upload_id: int):  # type: ignore[no-untyped-def]
    url = f"/instructor/courses/{course_id}/uploads/{upload_id}"
    return client.post(url + "/publish", data={"csrf_token": csrf_token(client, url)})


def _rows(settings: Settings) -> list[tuple]:
    with get_engine(settings.database_url).connect() as conn:
        return conn.execute(
            select(Assignment.course_id, Assignment.counts)
            .where(Assignment.slug == SLUG)
            .order_by(Assignment.id)
        ).all()


def test_a_valid_upload_is_validated_in_the_background_then_published(
    client: FlaskClient, demo: DemoData, web_settings: Settings, folder: Path
) -> None:
    login(client, "instructor")
    answer = _upload(client, demo.course_id, _zip(folder))
    assert answer.status_code == 302
    upload_id = int(answer.headers["Location"].rsplit("/", 1)[1])
    assert _finished(client, web_settings, upload_id) == "valid"
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "VALID: 4 gradings agree with the manifest" in page
    assert "mutant mutants/grad_without_mean.py: 1/4" in page
    assert _rows(web_settings) == []  # nothing offered before it is published
    assert _publish(client, demo.course_id, upload_id).status_code == 302
    assert _rows(web_settings) == [(demo.course_id, "latest")]
    # a new version (an edited checks.py) keeps the course's settings
    with get_engine(web_settings.database_url).begin() as conn:
        conn.execute(update(Assignment).where(Assignment.slug == SLUG).values(counts="best"))
    checks = folder / "checks.py"
    checks.write_text(checks.read_text() + "\n# version 2: a clearer message\n")
    second = _upload(client, demo.course_id, _zip(folder))
    second_id = int(second.headers["Location"].rsplit("/", 1)[1])
    assert _finished(client, web_settings, second_id) == "valid"
    assert "Publish as a new version" in client.get(second.headers["Location"]).get_data(
        as_text=True
    )
    done = _publish(client, demo.course_id, second_id)
    assert "earlier reports are kept" in client.get(done.headers["Location"]).get_data(as_text=True)
    assert _rows(web_settings) == [(demo.course_id, "best"), (demo.course_id, "best")]
    with get_engine(web_settings.database_url).connect() as conn:
        actions = conn.scalars(select(CourseAudit.action).order_by(CourseAudit.id)).all()
    assert actions == ["assignment uploaded", "assignment published"] * 2


def test_an_invalid_upload_is_refused_with_its_validation_report(
    client: FlaskClient, demo: DemoData, web_settings: Settings, folder: Path
) -> None:
    # A starter that already does the work: validation must catch it (starter scores 0).
    shutil.copy(folder / "solution" / "mse_upload.py", folder / "starter" / "mse_upload.py")
    login(client, "instructor")
    answer = _upload(client, demo.course_id, _zip(folder))
    upload_id = int(answer.headers["Location"].rsplit("/", 1)[1])
    assert _finished(client, web_settings, upload_id) == "invalid"
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "starter scores 4, not 0" in page and "Only a valid assignment" in page
    refused = _publish(client, demo.course_id, upload_id)
    assert "only a valid assignment can be published" in client.get(
        refused.headers["Location"]
    ).get_data(as_text=True)
    assert _rows(web_settings) == []


def test_not_an_assignment_or_an_unsafe_archive_is_refused_at_once(
    client: FlaskClient, demo: DemoData, web_settings: Settings, folder: Path
) -> None:
    login(client, "instructor")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("notes.txt", "no manifest here")
    answer = _upload(client, demo.course_id, buf.getvalue())
    assert "no assignment.toml" in client.get(answer.headers["Location"]).get_data(as_text=True)
    evil = io.BytesIO()
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../../outside.py", "x = 1")
    answer = _upload(client, demo.course_id, evil.getvalue())
    assert "Assignment not accepted" in client.get(answer.headers["Location"]).get_data(
        as_text=True
    )
    assert not (web_settings.data_dir / "outside.py").exists()
    with get_engine(web_settings.database_url).connect() as conn:
        assert conn.scalar(select(AssignmentUpload.id)) is None


def test_only_the_courses_instructors_may_upload(
    client: FlaskClient, demo: DemoData, web_settings: Settings, folder: Path
) -> None:
    login(client, "ta")
    token = csrf_token(client, "/account/tokens")
    answer = client.post(
        f"/instructor/courses/{demo.course_id}/uploads",
        data={"csrf_token": token, "file": (io.BytesIO(_zip(folder)), "a.zip")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 404
    with get_engine(web_settings.database_url).connect() as conn:
        assert conn.scalar(select(AssignmentUpload.id)) is None


def test_a_validation_job_lost_on_the_way_is_run_again_from_the_page(
    client: FlaskClient, demo: DemoData, web_settings: Settings, folder: Path
) -> None:
    """A job lost on the way to the workers (a broker that lost its message) leaves the
    upload ``validating`` for ever; the page offers to validate again, which an instructor
    does, and it ends valid, logged."""
    login(client, "instructor")
    answer = _upload(client, demo.course_id, _zip(folder))
    url = answer.headers["Location"]
    upload_id = int(url.rsplit("/", 1)[1])
    page = client.get(url).get_data(as_text=True)
    assert "validating" in page and "Validate again" in page
    client.application.config["SENT_VALIDATIONS"].clear()  # the message is lost
    again = client.post(url + "/validate", data={"csrf_token": csrf_token(client, url)})
    assert again.status_code == 302
    assert _finished(client, web_settings, upload_id) == "valid"
    page = client.get(url).get_data(as_text=True)
    assert "VALID: 4 gradings agree" in page and "Validate again" not in page
    # A valid upload is not validated again (it is published, or left as it is).
    refused = client.post(url + "/validate", data={"csrf_token": csrf_token(client, url)})
    assert "only an upload that is validating or invalid" in client.get(
        refused.headers["Location"]
    ).get_data(as_text=True)
    with get_engine(web_settings.database_url).connect() as conn:
        actions = conn.scalars(select(CourseAudit.action).order_by(CourseAudit.id)).all()
    assert actions == ["assignment uploaded", "assignment validated again"]


def test_an_assignment_folder_is_uploaded_validated_and_published_through_the_api(
    client: FlaskClient, demo: DemoData, web_settings: Settings, folder: Path
) -> None:
    from tests.web.test_api import bearer, token_for

    base = f"/api/v1/courses/{demo.course_id}/uploads"
    teacher = bearer(token_for(web_settings, demo, "instructor", "staff"))
    ta = bearer(token_for(web_settings, demo, "ta", "staff"))

    def upload(data: bytes, headers):  # type: ignore[no-untyped-def]
        files = {"file": (io.BytesIO(data), "assignment.zip")}
        return client.post(base, data=files, headers=headers, content_type="multipart/form-data")

    assert upload(_zip(folder), ta).status_code == 404  # a TA may not, as on the pages
    refused = upload(b"not a zip", teacher)
    assert refused.status_code == 400 and "not accepted" in refused.get_json()["error"]
    # Its job lost (a broker that lost the message): it stays validating, and cannot be
    # published.
    answer = upload(_zip(folder), teacher)
    client.application.config["SENT_VALIDATIONS"].clear()
    assert (answer.status_code, answer.get_json()["status"]) == (202, "validating")
    upload_id = answer.get_json()["id"]
    too_soon = client.post(f"{base}/{upload_id}/publish", headers=teacher)
    assert too_soon.status_code == 409
    assert "only a valid assignment" in too_soon.get_json()["error"]
    assert client.post(f"{base}/{upload_id}/validate", headers=teacher).status_code == 202
    assert _finished(client, web_settings, upload_id) == "valid"
    shown = client.get(f"{base}/{upload_id}", headers=teacher).get_json()
    assert shown["status"] == "valid" and "VALID: 4 gradings agree" in shown["report"]
    done = client.post(f"{base}/{upload_id}/publish", headers=teacher)
    assert done.status_code == 201 and done.get_json()["status"] == "published"
    assert _rows(web_settings) == [(demo.course_id, "latest")]
    listed = client.get(f"/api/v1/courses/{demo.course_id}/assignments", headers=teacher)
    assert SLUG in listed.get_data(as_text=True)
    again = client.post(f"{base}/{upload_id}/validate", headers=teacher)
    assert again.status_code == 409  # published: nothing to validate again
    assert client.get(f"{base}/999999", headers=teacher).status_code == 404
    with get_engine(web_settings.database_url).connect() as conn:
        actions = conn.scalars(select(CourseAudit.action).order_by(CourseAudit.id)).all()
    assert actions == ["assignment uploaded", "assignment validated again", "assignment published"]


def test_a_worker_on_another_host_validates_and_grades_an_upload_from_the_database(
    client: FlaskClient, demo: DemoData, web_settings: Settings, folder: Path, tmp_path: Path
) -> None:
    """The portal's disk is the portal's: a worker elsewhere (another container, another
    host) has only the database, from which it unpacks the uploaded archive into its own
    cache, validates it, and grades a student's submission with it."""
    from tests.web.conftest import grade_queued, hand_in

    login(client, "instructor")
    answer = _upload(client, demo.course_id, _zip(folder))
    upload_id = int(answer.headers["Location"].rsplit("/", 1)[1])
    with get_engine(web_settings.database_url).connect() as conn:
        row = conn.execute(select(AssignmentUpload).where(AssignmentUpload.id == upload_id)).one()
    portal_folder = Path(row.path)
    assert (portal_folder / "checks.py").is_file() and row.archive_sha256 is not None
    # The worker's host: another data folder, and no portal disk (the folder is hidden).
    elsewhere = web_settings.with_(data_dir=tmp_path / "worker-host")
    (elsewhere.data_dir).mkdir()
    (elsewhere.data_dir / "envs").symlink_to(web_settings.data_dir / "envs")
    hidden = portal_folder.with_name(portal_folder.name + ".on-the-portal-only")

    def on_the_worker_host():  # type: ignore[no-untyped-def]
        """While the worker works, the portal's folder is out of its reach."""
        return _Hidden(portal_folder, hidden)

    with on_the_worker_host():
        assert _finished(client, elsewhere, upload_id) == "valid"
    cached = elsewhere.data_dir / "assignment-cache" / row.archive_sha256
    assert (cached / "folder").is_dir()
    assert _publish(client, demo.course_id, upload_id).status_code == 302
    with get_engine(web_settings.database_url).connect() as conn:
        (path,) = conn.scalars(select(Assignment.path).where(Assignment.slug == SLUG)).all()
    assert path == str(portal_folder)  # recorded as the portal has it; found by it

    client.delete_cookie("session")
    login(client, "student")
    solution = next((portal_folder / "solution").glob("*.py"))
    hand_in(client, demo.course_id, SLUG, [(solution.read_bytes(), solution.name)])
    with on_the_worker_host():
        assert grade_queued(elsewhere, elsewhere.data_dir / "envs") == ["graded"]
    with get_engine(web_settings.database_url).connect() as conn:
        report = conn.scalar(select(GradeReport.report))
    assert report["score"] == report["max_score"] > 0, report


class _Hidden:
    def __init__(self, folder: Path, away: Path) -> None:
        self.folder, self.away = folder, away

    def __enter__(self) -> None:
        self.folder.rename(self.away)

    def __exit__(self, *exc: object) -> None:
        self.away.rename(self.folder)
