"""Fixtures of the portal tests: an app on a fresh SQLite database, a client, the demo course.

- ``app``: ``create_app`` on this test's own database and data folder, CSRF
  ON (the forms' tokens are real), runs left queued in the database (no broker);
  ``grade_queued(settings)`` grades them in this process when a test needs a report;
  validation jobs are kept in a list, ``run_sent_validations(app, settings)`` runs them.
- ``demo``: the demo course with the ``tiny`` worker assignment and the
  built-in ``activations``; a student, a TA and an instructor; plus ``other``,
  a second student of the same course, a second course with its own TA, and
  ``admin``, a site administrator enrolled in no course.
- ``login(client, name)``: signs in through the real form (token included).
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import insert, select, update

from grader.config import REPO_ROOT
from tests.conftest import require
from tests.worker.conftest import TINY, fresh_sqlite, sandbox_envs  # noqa: F401
from web import create_app
from web.auth.views import hash_password
from web.demo import DemoData, add_course, add_user, seed_demo
from worker.config import Settings, default_broker_url
from worker.db import get_engine
from worker.models import GradeReport, GradeRun, Role, RunStatus, Submission, User, utcnow

ACTIVATIONS = REPO_ROOT / "assignments" / "activations"
PASSWORD = "correct horse battery staple"
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


@functools.cache
def cheap_hash(password: str) -> str:
    """scrypt once per password per session: each test seeds five users."""
    return hash_password(password)


@pytest.fixture
def web_data_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """This test's DLGRADE_DATA_DIR (0755: the local sandbox's user must traverse it)."""
    folder = Path(tempfile.mkdtemp(prefix="dlgrade-web-test-"))
    folder.chmod(0o755)
    monkeypatch.setenv("DLGRADE_DATA_DIR", str(folder))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def web_settings(web_data_dir: Path) -> Settings:
    return Settings(
        database_url=fresh_sqlite(web_data_dir),
        broker_url=default_broker_url(web_data_dir),
        data_dir=web_data_dir,
        sandbox="local",
    )


@pytest.fixture
def app(web_settings: Settings) -> Flask:
    sent: list[tuple[int, str, float]] = []  # validation jobs, as the broker would get them
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test secret",
            "DLGRADE_SETTINGS": web_settings,
            "DLGRADE_PUBLISH": None,
            "DLGRADE_VALIDATE": lambda *job: sent.append(job),
        }
    )
    app.config["SENT_VALIDATIONS"] = sent
    return app


def run_sent_validations(app: Flask, settings: Settings) -> list[str]:
    """Run, in this process, the validation jobs the portal sent (what a worker would do);
    each one's outcome. A test that loses a job (a broker that lost it) clears the list."""
    from worker.validation import validate_upload

    sent = app.config["SENT_VALIDATIONS"]
    jobs, sent[:] = list(sent), []
    return [validate_upload(settings, upload_id) for upload_id, _, _ in jobs]


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def demo(web_settings: Settings) -> DemoData:
    people = {"student": PASSWORD, "ta": PASSWORD, "instructor": PASSWORD}
    data = seed_demo(web_settings, [TINY, ACTIVATIONS], passwords=people, hasher=cheap_hash)
    data.user_ids["other"] = add_user(
        web_settings, "other", PASSWORD, course_id=data.course_id, hasher=cheap_hash
    )
    elsewhere = add_course(web_settings, "elsewhere", "Another course")
    data.user_ids["ta2"] = add_user(
        web_settings, "ta2", PASSWORD, course_id=elsewhere, role=Role.TA, hasher=cheap_hash
    )
    data.user_ids["admin"] = add_site_admin(web_settings, "admin")
    return data


def add_site_admin(settings: Settings, name: str) -> int:
    """A site administrator (what ``dlgrade users admin`` makes), enrolled in no course."""
    user_id = add_user(settings, name, PASSWORD, hasher=cheap_hash)
    with get_engine(settings.database_url).begin() as conn:
        conn.execute(update(User).where(User.id == user_id).values(is_admin=True))
    return user_id


def csrf_token(client: FlaskClient, url: str) -> str:
    page = client.get(url)
    found = CSRF.search(page.get_data(as_text=True))
    assert found, f"no CSRF token on {url} ({page.status_code})"
    return found.group(1)


def login(client: FlaskClient, name: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/login")
    return client.post("/login", data={"name": name, "password": password, "csrf_token": token})


def hand_in(client: FlaskClient, course_id: int, slug: str, files: list[tuple[bytes, str]]):  # type: ignore[no-untyped-def]
    """Submit ``files`` (content, name) through the assignment page's form."""
    import io

    page = f"/courses/{course_id}/a/{slug}"
    token = csrf_token(client, page)
    data = {"csrf_token": token, "files": [(io.BytesIO(b), n) for b, n in files]}
    return client.post(page + "/submit", data=data, content_type="multipart/form-data")


def add_graded(
    settings: Settings,
    assignment_id: int,
    user_id: int,
    report: dict,
    *,
    filename: str = "tiny.py",
    late_penalty: float = 0.0,
    data: bytes | None = None,
) -> int:
    """A submission with a finished run and ``report`` (its engine's JSON), written directly.

    ``data``: the stored file's bytes (default: one comment line naming ``filename``).
    """
    from worker.storage import store_blob

    if data is None:
        data = f"# {filename}\n".encode()
    now = utcnow()
    with get_engine(settings.database_url).begin() as conn:
        sha, size = store_blob(conn, data)
        sub = conn.scalar(
            insert(Submission)
            .values(
                assignment_id=assignment_id,
                user_id=user_id,
                sha256=sha,
                size=size,
                filename=filename,
                submitted_at=now,
                late=late_penalty > 0,
                late_penalty=late_penalty,
            )
            .returning(Submission.id)
        )
        run = conn.scalar(
            insert(GradeRun)
            .values(
                submission_id=sub,
                user_id=user_id,
                queue="cpu",
                status=RunStatus.DONE.value,
                attempt=1,
                finished_at=now,
            )
            .returning(GradeRun.id)
        )
        conn.execute(
            insert(GradeReport).values(
                run_id=run,
                submission_id=sub,
                status=report["status"],
                score=report["score"],
                max_score=report["max_score"],
                report=report,
                manifest_hash="x" * 64,
                worker="test",
            )
        )
    return int(sub)


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_HOW = "apt-get install chromium (scripts/bootstrap.sh --test) and pip install playwright"


def browser_available() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return os.access(CHROMIUM, os.X_OK)


@pytest.fixture
def portal(app: Flask) -> Iterator[str]:
    """The portal served on a free loopback port by a thread of this process (for a browser)."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@contextmanager
def chromium_page(width: int, *, script_errors: bool = False) -> Iterator[tuple[Any, list[str]]]:
    """(page, errors): a page of a fresh headless Chromium ``width`` x 900, 20 s per action,
    and the list its console's errors go to (and, with ``script_errors``, uncaught script
    errors too). Skips (fails under CI) where Chromium or Playwright is missing."""
    require(browser_available(), "headless Chromium with Playwright", CHROMIUM_HOW)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        page.set_default_timeout(20_000)
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        if script_errors:
            page.on("pageerror", lambda e: errors.append(str(e)))
        yield page, errors
        browser.close()


def grade_queued(settings: Settings, envs_dir: Path) -> list[str]:
    """Grade, in this process, every run still queued (what a worker would do)."""
    from worker.grading import execute_run

    envs = settings.data_dir / "envs"
    if not envs.exists():
        envs.symlink_to(envs_dir)  # the local sandbox's built numpy environment

    with get_engine(settings.database_url).begin() as conn:
        ids = conn.scalars(
            select(GradeRun.id).where(GradeRun.status == RunStatus.QUEUED.value)
        ).all()
    return [execute_run(run_id, settings, None) for run_id in ids]


def report_doc(
    checks: list[dict], *, output: str = "", hidden_output: str = "", status: str = "graded"
) -> dict:
    """An engine report (``GradeReport.to_dict()``) made of ``checks``' dicts."""
    from grader.messages import CheckResult, GradeReport, ReportStatus

    results = tuple(
        CheckResult.from_dict({"message": "", "hidden": False, "seconds": 0.1} | c) for c in checks
    )
    return GradeReport(
        assignment="worker-tiny",
        score=sum(c.score for c in results),
        max_score=sum(c.max_score for c in results),
        status=ReportStatus(status),
        checks=results,
        output=output,
        hidden_output=hidden_output,
        environment={"seed": 7, "numpy": "2.0", "sandbox": "local", "hidden_seed": "s3cr3t"},
    ).to_dict()
