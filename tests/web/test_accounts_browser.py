"""The account pages in headless Chromium, on a desktop and on a phone's width.

A site administrator with a one-time password chooses their own, creates a
course with a new instructor; an instructor issues a one-time password to a
student from the course's People page; the student replaces it at sign-in.
No console error (the CSP forbids inline scripts and styles), and nothing wider
than the screen. Set DLGRADE_SHOTS to a folder to keep a screenshot of each page.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import update

from tests.web.conftest import PASSWORD, add_site_admin, chromium_page
from web.demo import DemoData
from worker.config import Settings
from worker.db import get_engine
from worker.models import User

SHOTS = os.environ.get("DLGRADE_SHOTS")
NEW_PASSWORD = "a much longer passphrase of mine"


def _fits(page, name: str, width: int) -> None:  # type: ignore[no-untyped-def]
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"accounts-{width}-{name}.png"), full_page=True)
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= width, f"{name}: the page is {wide} px wide on a {width} px screen"


def _sign_in(page, portal: str, name: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(portal + "/login")
    page.fill("#name", name)
    page.fill("#password", password)
    page.click("button[type=submit]")


def _choose(page, portal: str, current: str) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_url(portal + "/account/password")
    page.fill("#current", current)
    page.fill("#new", NEW_PASSWORD)
    page.fill("#repeated", NEW_PASSWORD)
    page.click("main button[type=submit]")  # the header's "Sign out" is a button too
    page.wait_for_url(portal + "/courses")


@pytest.mark.parametrize("width", [1280, 390])
def test_the_account_pages_in_a_browser(
    portal: str, demo: DemoData, web_settings: Settings, width: int
) -> None:
    from playwright.sync_api import expect

    boss = add_site_admin(web_settings, "boss")
    with get_engine(web_settings.database_url).begin() as conn:
        conn.execute(update(User).where(User.id == boss).values(must_change_password=True))
    with chromium_page(width, script_errors=True) as (page, errors):
        _sign_in(page, portal, "boss", PASSWORD)
        page.wait_for_url(portal + "/account/password")
        expect(page.locator("h1")).to_have_text("Choose your password")
        _fits(page, "01-one-time-password", width)
        _choose(page, portal, PASSWORD)

        page.goto(portal + "/admin/")
        expect(page.locator("h1")).to_have_text("Site administration")
        _fits(page, "02-admin", width)
        page.fill("#slug", "dl-2027")
        page.fill("#title", "Deep Learning, Spring 2027")
        page.fill("#instructor", "prof")
        page.fill("#full_name", "New Prof")
        page.click("text=Create course")
        expect(page.locator("code.one-time")).to_be_visible()
        _fits(page, "03-course-created", width)

        page.goto(portal + "/account/password")
        expect(page.locator("h1")).to_have_text("Change password")
        _fits(page, "04-change-password", width)
        page.click("text=Sign out")

        _sign_in(page, portal, "instructor", PASSWORD)
        page.goto(f"{portal}/instructor/courses/{demo.course_id}/")
        page.click("text=People")
        expect(page.locator("#people")).to_contain_text("student")
        _fits(page, "05-people", width)
        row = page.locator("#people tr", has_text="other")
        row.locator("text=New one-time password").click()
        one_time = page.locator("code.one-time").inner_text()
        _fits(page, "06-one-time-issued", width)
        page.click("text=Sign out")

        _sign_in(page, portal, "other", one_time)
        _choose(page, portal, one_time)
        expect(page.locator("p.flash")).to_contain_text("Password changed")
        assert not errors, errors
