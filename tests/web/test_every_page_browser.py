"""Every page of the portal, as each role reaches it by following links, in Chromium at 390 px.

A phone never scrolls sideways: each page's width stays within the window
(tables and code scroll inside their own boxes). Every input a person fills in
has a label a screen reader reads out. The pages are found by following the
links each role sees from its home page, not from a list kept here, so a new
page is checked the day it is linked. Set DLGRADE_SHOTS to keep a screenshot of
each page.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.web.conftest import ACTIVATIONS, chromium_page, grade_queued
from tests.web.test_browser import sign_in
from tests.web.test_report_browser import hand_in, no_sideways_scroll, settled, shot
from web.demo import DemoData
from worker.config import Settings

pytestmark = pytest.mark.browser

# Pages a crawl must not open: they end the session, download a file, or change state on GET.
SKIP = re.compile(r"/logout|\.zip$|\.csv$|\.png$|\.svg$|/download|/export|\.json$|/api/")
MOST_PAGES = 80

# Form fields without a label a screen reader can read (hidden fields and buttons need none).
UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
    .filter(e => !e.hidden && !['hidden', 'submit', 'button', 'reset'].includes(e.type))
    .filter(e => e.labels.length === 0 && !e.getAttribute('aria-label')
                 && !e.getAttribute('aria-labelledby') && !e.title)
    .map(e => `${e.tagName.toLowerCase()}[name=${e.name}]`)"""

# Boxes a destructive choice is made in: none may come ticked.
TICKED_DESTRUCTIVE = """() => [...document.querySelectorAll('input[type=checkbox]:checked')]
    .filter(e => /drop|delete|remove|purge|reset/i.test(e.name + ' ' +
                 ((e.labels[0] && e.labels[0].innerText) || '')))
    .map(e => e.name)"""


def crawl(page, portal: str, starts: list[str], role: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Open every page reachable from ``starts`` by links; check each. The paths seen."""
    seen: list[str] = []
    todo = list(starts)
    while todo and len(seen) < MOST_PAGES:
        path = todo.pop(0)
        if path in seen:
            continue
        seen.append(path)
        response = page.goto(portal + path)
        status = response.status if response is not None else None
        assert status == 200, (role, path, status)
        no_sideways_scroll(page)
        assert page.evaluate(UNLABELLED) == [], (role, path)
        assert page.evaluate(TICKED_DESTRUCTIVE) == [], (role, path)
        shot(page, f"390-{role}-{len(seen):02d}-" + re.sub(r"\W+", "-", path).strip("-"))
        for href in page.eval_on_selector_all("a[href]", "as => as.map(a => a.href)"):
            parts = urlsplit(href)
            if not href.startswith(portal) or SKIP.search(parts.path):
                continue
            link = parts.path + (f"?{parts.query}" if parts.query else "")
            if link not in seen and link not in todo:
                todo.append(link)
    return seen


def test_no_page_scrolls_sideways_at_390_px_and_every_input_is_labelled(
    portal: str, demo: DemoData, web_settings: Settings, sandbox_envs: Path
) -> None:
    with chromium_page(390) as (page, errors):
        # A graded submission and a failing one, so that the report pages have rows.
        sign_in(page, portal)
        hand_in(page, portal, demo.course_id, "activations", ACTIVATIONS / "examples" /
                "sample_submission.py")  # fmt: skip
        assert grade_queued(web_settings, sandbox_envs) == ["graded"]
        settled(page)
        student = crawl(page, portal, ["/", "/account/password"], "student")
        page.context.clear_cookies()

        sign_in(page, portal, "instructor")
        staff = crawl(page, portal, ["/staff/", "/instructor/"], "instructor")
        page.context.clear_cookies()

        sign_in(page, portal, "admin")
        admin = crawl(page, portal, ["/admin/"], "admin")
        assert not errors, errors

    # The crawl reached each kind of page, not just the front doors.
    c = demo.course_id
    assert any(p.startswith(f"/courses/{c}/a/activations") for p in student), student
    assert any("/submissions/" in p for p in student), student
    for wanted in (
        f"/staff/courses/{c}/",
        f"/staff/courses/{c}/assignments/activations/",
        f"/staff/courses/{c}/assignments/activations/analytics",
        f"/instructor/courses/{c}/",
    ):
        assert wanted in staff, (wanted, staff)
    assert any(re.fullmatch(rf"/staff/courses/{c}/submissions/\d+", p) for p in staff), staff
    assert "/admin/" in admin
