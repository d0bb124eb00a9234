"""The student's journey in a real headless Chromium (Debian's, driven by Playwright).

Sign in, hand in through the plain file input, watch the status change without
reloading (queued with its position, running with its progress, graded), read
the report; hidden checks hidden before their release and shown after.

The portal runs in a thread of this process on a free loopback port; gradings
run in this process too (``grade_queued``), when the test says, so each state
is seen for certain. Set DLGRADE_SHOTS to a folder to keep a screenshot of each page.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from tests.web.conftest import ACTIVATIONS, PASSWORD, chromium_page, grade_queued
from tests.worker.conftest import SUBMISSIONS
from web.demo import DemoData
from worker.config import Settings
from worker.db import get_engine
from worker.models import Assignment, GradeRun, RunStatus, utcnow

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("DLGRADE_SHOTS")


@pytest.fixture
def page(portal: str) -> Iterator[object]:
    with chromium_page(1100) as (pg, errors):
        pg.errors = errors  # type: ignore[attr-defined]
        yield pg


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def sign_in(page, portal: str, name: str = "student") -> None:  # type: ignore[no-untyped-def]
    page.goto(portal + "/login")
    shot(page, "01-login")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(portal + "/courses")


def _run(settings: Settings, **values: object) -> None:
    with get_engine(settings.database_url).begin() as conn:
        conn.execute(update(GradeRun).values(**values))


def test_student_hands_in_watches_progress_and_reads_the_report(
    page, portal: str, demo: DemoData, web_settings: Settings, sandbox_envs: Path
) -> None:
    from playwright.sync_api import expect

    sign_in(page, portal)
    shot(page, "02-courses")
    page.click("text=Deep-learning foundations")
    shot(page, "03-course")
    page.click("text=Two small functions")
    # A wrong file through the plain input: refused at once, in words, nothing queued.
    page.set_input_files("#files", str(SUBMISSIONS.parent / "assignment.toml"))
    page.click("text=Submit for grading")
    expect(page.locator("#refusal")).to_contain_text("the upload has no tiny.py")
    shot(page, "04-refused")
    assert page.errors == [  # the refusal's own 400, and nothing else (no CSP complaint)
        "Failed to load resource: the server responded with a status of 400 (BAD REQUEST)"
    ]
    page.errors.clear()
    # Then the right one, dropped onto the form (upload.js puts it in the file input).
    page.evaluate(
        """(content) => {
            const dt = new DataTransfer();
            dt.items.add(new File([content], "tiny.py", {type: "text/x-python"}));
            document.getElementById("dropzone").dispatchEvent(
                new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true}));
        }""",
        (SUBMISSIONS / "good.py").read_text(),
    )
    expect(page.locator("#chosen li")).to_contain_text("tiny.py")
    shot(page, "04-assignment-dropped")
    page.click("text=Submit for grading")
    page.wait_for_url("**/submissions/*")
    expect(page.locator("#live-status")).to_have_text("queued")
    expect(page.locator("#live-detail")).to_have_text("(position 1 in the queue)")
    shot(page, "05-queued")

    page.evaluate("window.stillHere = true")  # gone if the page reloads
    _run(web_settings, status=RunStatus.RUNNING.value, progress="check 1/2: add")
    expect(page.locator("#live-status")).to_have_text("running")
    expect(page.locator("#live-detail")).to_have_text("check 1/2: add")
    assert page.evaluate("window.stillHere") is True
    assert page.eval_on_selector("#live-bar", "b => [b.value, b.max]") == [1, 2]
    shot(page, "06-running")

    page.reload()  # state lives on the server: a reload shows it and polling resumes
    expect(page.locator("#live-detail")).to_have_text("check 1/2: add")
    _run(web_settings, status=RunStatus.QUEUED.value, progress="")
    assert grade_queued(web_settings, sandbox_envs) == ["graded"]
    expect(page.locator("#report .score-big")).to_have_text("3 / 3")
    expect(page.locator("#live-status")).to_have_text("graded")
    expect(page.locator("table.checks tbody tr")).to_have_count(2)
    shot(page, "07-report")
    assert not page.errors, page.errors  # no CSP violations, no script errors


def test_hidden_checks_are_hidden_before_release_and_shown_after(
    page, portal: str, demo: DemoData, web_settings: Settings, sandbox_envs: Path
) -> None:
    from playwright.sync_api import expect

    activations = demo.assignments["activations"]
    with get_engine(web_settings.database_url).begin() as conn:
        conn.execute(
            update(Assignment)
            .where(Assignment.id == activations)
            .values(hidden_release=utcnow() + timedelta(days=2), due=utcnow() + timedelta(days=1))
        )
    sign_in(page, portal)
    page.goto(f"{portal}/courses/{demo.course_id}/a/activations")
    page.set_input_files("#files", str(ACTIVATIONS / "solution" / "activations.py"))
    page.click("text=Submit for grading")
    page.wait_for_url("**/submissions/*")
    assert grade_queued(web_settings, sandbox_envs) == ["graded"]
    expect(page.locator("#report")).to_be_visible()
    hidden = page.locator("tr.hidden-check")
    assert hidden.count() >= 4
    expect(hidden.first.locator("td").first).to_have_text("hidden check")
    body = page.content()
    assert "softmax_large_inputs" not in body and "Hidden checks show only their points" in body
    shot(page, "08-hidden-before-release")

    with get_engine(web_settings.database_url).begin() as conn:
        conn.execute(
            update(Assignment)
            .where(Assignment.id == activations)
            .values(hidden_release=utcnow() - timedelta(minutes=1))
        )
        names = conn.scalars(select(Assignment.slug)).all()
    assert "activations" in names
    page.reload()
    expect(page.locator("#report")).to_contain_text("softmax_large_inputs")
    expect(page.locator("tr.hidden-check td").first).not_to_have_text("hidden check")
    shot(page, "09-hidden-after-release")
    assert not page.errors, page.errors
