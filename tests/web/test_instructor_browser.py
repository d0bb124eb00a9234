"""An instructor's journey in headless Chromium: create a course, import its roster (preview,
then apply), add a built-in assignment and set its due date; a new student of that course
signs in with the password shown once and submits to it. No console or CSP error on the way.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from grader.config import REPO_ROOT
from tests.web.conftest import PASSWORD, run_sent_validations
from tests.web.test_staff_browser import browser_page, portal, shot  # noqa: F401  (fixtures)
from web.demo import DemoData
from worker.config import Settings
from worker.db import get_engine
from worker.models import Assignment, Submission, User

pytestmark = pytest.mark.browser
SOLUTION = REPO_ROOT / "assignments" / "losses" / "solution" / "losses.py"
ROSTER = (
    "Name,Email,Student ID,Section,Role\n"
    "Ada Lovelace,ada@uni.edu,s-100,A,student\n"
    "Alan Turing,alan@uni.edu,s-101,A,student\n"
    "Alan Turing,alan@uni.edu,s-101,A,student\n"  # the export repeated a row
)


def test_an_instructor_sets_up_a_course_and_a_student_submits_to_it(
    portal: str,  # noqa: F811
    browser_page,  # noqa: F811
    demo: DemoData,
    web_settings: Settings,
    tmp_path: Path,
) -> None:
    page = browser_page
    page.goto(f"{portal}/login")
    page.fill("input[name=name]", "instructor")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.click("text=Instructor")
    page.fill("input[name=slug]", "dl-2027")
    page.fill("input[name=title]", "Deep Learning, Spring 2027")
    page.click("text=Create course")
    page.wait_for_selector("text=Course dl-2027 created")

    page.click("text=Import the roster")
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER)
    page.set_input_files("input[name=file]", str(roster))
    page.click("text=Preview")
    counts = page.locator("#plan-counts").inner_text()
    assert counts.startswith("2 to add, 0 to update, 0 to drop")
    page.click("text=Apply these changes")
    page.wait_for_selector("#passwords")
    row = page.locator("#passwords tr", has_text="ada@uni.edu").inner_text()
    password = re.split(r"\s+", row.strip())[-1]

    page.click("text=Back to the course")
    page.select_option("select[name=slug]", "losses")
    page.click("button:text('Add')")
    page.fill("input[name=due]", "2099-03-01 23:59")
    page.click("text=Save")
    page.wait_for_selector("text=Saved (due)")
    with get_engine(web_settings.database_url).connect() as conn:
        due = conn.scalar(select(Assignment.due).where(Assignment.slug == "losses"))
    assert f"{due:%Y-%m-%d %H:%M}" == "2099-03-01 23:59"
    page.click("text=Back to the course")
    # The audit log's newest entry, as a sentence.
    newest = page.locator("ol.audit-log li").first.inner_text()
    assert "assignment settings (assignment losses): due from" in newest, newest
    assert "2099-03-01 23:59 UTC" in newest
    page.click("text=Sign out")

    page.fill("input[name=name]", "ada@uni.edu")
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    # The import's password is a one-time one: she chooses her own before anything opens.
    page.wait_for_selector("text=Choose your password")
    page.fill("#current", password)
    page.fill("#new", "ada-chose-this-one")
    page.fill("#repeated", "ada-chose-this-one")
    page.click("button:has-text('Change password')")
    page.click("text=Deep Learning, Spring 2027")
    page.click("text=Loss functions and their gradients")
    page.set_input_files("input[name=files]", str(SOLUTION))
    page.click("button[type=submit]:has-text('Submit')")
    page.wait_for_url(re.compile(r"/submissions/\d+$"))
    sub = int(page.url.rsplit("/", 1)[1])
    with get_engine(web_settings.database_url).connect() as conn:
        owner = conn.scalar(
            select(User.name)
            .join(Submission, Submission.user_id == User.id)
            .where(Submission.id == sub)
        )
    assert owner == "ada@uni.edu"
    assert "queued" in page.content()
    assert page.problems == []  # type: ignore[attr-defined]


def test_an_instructor_uploads_an_assignment_watches_it_validate_and_publishes_it(
    portal: str,  # noqa: F811
    browser_page,  # noqa: F811
    demo: DemoData,
    web_settings: Settings,
    sandbox_envs: Path,
    tmp_path: Path,
    app: Flask,
) -> None:
    from playwright.sync_api import expect

    from grader.scaffold import new_assignment
    from tests.web.test_instructor_uploads import _zip

    (web_settings.data_dir / "envs").symlink_to(sandbox_envs)
    folder = new_assignment("mse-browser", tmp_path / "src")
    archive = tmp_path / "mse-browser.zip"
    archive.write_bytes(_zip(folder))
    page = browser_page
    page.goto(f"{portal}/login")
    page.fill("input[name=name]", "instructor")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{portal}/instructor/courses/{demo.course_id}/")
    page.set_input_files("input[name=file][accept='.zip']", str(archive))
    page.click("text=Upload and validate")
    status = page.locator("#upload-status")
    assert status.inner_text().startswith(("validating", "valid"))
    shot(page, "instructor-upload-validating")
    assert run_sent_validations(app, web_settings) == ["valid"]  # a worker's job
    expect(page.locator("#upload-status")).to_have_text("valid", timeout=120_000)  # refreshes
    shot(page, "instructor-upload-valid")
    assert "VALID: 4 gradings agree" in page.locator("#validation-report").inner_text()
    page.click("button:text('Publish')")
    page.wait_for_selector("text=Published: students of the course see it now")
    page.click("text=Sign out")

    page.fill("input[name=name]", "student")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{portal}/courses/{demo.course_id}/a/mse-browser")
    page.set_input_files("input[name=files]", str(folder / "solution" / "mse_browser.py"))
    page.click("button[type=submit]:has-text('Submit')")
    page.wait_for_url(re.compile(r"/submissions/\d+$"))
    assert page.problems == []  # type: ignore[attr-defined]
