"""A TA's journey in a real headless Chromium (Debian's, driven by Playwright).

The TA signs in, opens the gradebook, follows a student's score to the
submission, overrides it with a comment, and sees the audit log and the
gradebook's override mark; then visits the assignment's other staff pages.
The browser reports any script error or Content-Security-Policy violation on
its console: there must be none. Set DLGRADE_SHOTS to a folder to keep a
screenshot of each staff page (``staff-*.png``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

# portal: the shared fixture, also imported from here by test_instructor_browser.
from tests.web.conftest import PASSWORD, chromium_page, portal  # noqa: F401
from tests.web.test_staff_pages import SLUG, SOLUTION, Class, _submit_code, klass  # noqa: F401

SHOTS = os.environ.get("DLGRADE_SHOTS")


@pytest.fixture
def browser_page(portal: str) -> Iterator[object]:  # noqa: F811  (the fixture imported above)
    """Console errors and uncaught script errors (CSP violations among them) in page.problems."""
    with chromium_page(1400, script_errors=True) as (page, problems):
        page.problems = problems  # type: ignore[attr-defined]
        yield page


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"staff-{name}.png"), full_page=True)


def finish_queued_runs(k: Class) -> None:
    """What workers would do to the batch's runs, as far as its progress can tell."""
    from worker.db import get_engine
    from worker.models import GradeRun

    with get_engine(k.settings.database_url).begin() as conn:
        conn.execute(
            GradeRun.__table__.update().where(GradeRun.batch.is_not(None)).values(status="done")
        )


def test_a_ta_overrides_a_score_with_a_comment_and_sees_the_audit(
    portal: str,  # noqa: F811  (the fixture imported above)
    browser_page,
    klass: Class,  # noqa: F811  (the fixture imported above)
) -> None:
    page = browser_page
    original = (SOLUTION / "activations.py").read_text()
    _submit_code(klass, "student", original)
    copied = _submit_code(klass, "other", re.sub(r"\bx\b", "z", original))
    c = klass.course_id

    page.goto(f"{portal}/login")
    page.fill("input[name=name]", "ta")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{portal}/staff/")
    shot(page, "courses")
    page.click("text=Deep-learning foundations")
    page.wait_for_selector("table.gradebook")
    shot(page, "gradebook")

    # other's submission that counts is the copied one (score 1): follow it
    row = page.locator("table.gradebook tr", has_text="other")
    row.locator(f"a[href$='/submissions/{copied}']").click()
    page.wait_for_selector("text=Submitted code")
    shot(page, "submission")
    page.fill("#score", "4.5")
    page.fill("#comment", "Softmax right up to a transposed axis: half marks back.")
    page.click("text=Save override")
    page.wait_for_selector("table.audit")
    audit = page.locator("table.audit tbody tr")
    assert audit.count() == 1
    text = audit.first.inner_text()
    assert "ta" in text and "4.5" in text and "half marks back" in text
    assert page.locator(".score-big").inner_text().startswith("4.5")
    shot(page, "submission-overridden")

    page.goto(f"{portal}/staff/courses/{c}/")
    cell = page.locator("table.gradebook tr", has_text="other").locator("td.num").first
    assert cell.inner_text().startswith("4.5") and cell.locator(".mark.over").count() == 1

    # regrade everything: the batch's bar moves as runs finish, without a reload
    page.goto(f"{portal}/staff/courses/{c}/assignments/{SLUG}/")
    # It asks first, saying how many; declined, nothing is queued.
    asked: list[str] = []
    page.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    page.click("text=Regrade all 4 submissions")
    assert len(asked) == 1 and asked[0].startswith("Regrade all 4 submissions of ")
    assert page.locator(".batch-label").count() == 0
    page.once("dialog", lambda d: d.accept())
    page.click("text=Regrade all 4 submissions")
    label = page.locator(".batch-label").first
    assert "0 / 4 done" in label.inner_text()
    page.evaluate("window.notReloaded = true")
    finish_queued_runs(klass)
    from playwright.sync_api import expect  # polls the element (the page's CSP forbids eval)

    expect(label).to_contain_text("4 / 4 done", timeout=20_000)
    assert page.evaluate("window.notReloaded") is True
    assert page.locator(".batch progress").first.get_attribute("value") == "4"

    for name, path in (
        ("assignment", f"/staff/courses/{c}/assignments/{SLUG}/"),
        ("analytics", f"/staff/courses/{c}/assignments/{SLUG}/analytics"),
        ("similarity", f"/staff/courses/{c}/assignments/{SLUG}/similarity"),
    ):
        page.goto(portal + path)
        shot(page, name)
    # the analytics pictures loaded (an <img> that failed has no natural width)
    page.goto(f"{portal}/staff/courses/{c}/assignments/{SLUG}/analytics")
    widths = page.eval_on_selector_all("figure img", "imgs => imgs.map(i => i.naturalWidth)")
    assert len(widths) == 3 and all(w > 0 for w in widths)
    page.goto(f"{portal}/staff/courses/{c}/assignments/{SLUG}/similarity")
    page.click("text=side by side")
    page.wait_for_selector(".side-by-side .hll")
    shot(page, "similarity-pair")
    assert page.problems == []  # type: ignore[attr-defined]
