"""What a student reads of a report, in a real headless Chromium, at 1280 and 390 px.

A file that does not load: one message with the student's own traceback lines,
the checks it stopped folded and counted. A homework with three known mistakes
(the activations sample): failing checks first, grouped by function, each with
its hint where it is not hidden, NaN named; the passing functions folded. A
call that runs out of time: the line the code was at. No page scrolls sideways
on a phone. Set DLGRADE_SHOTS to a folder to keep a screenshot of each page.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.web.conftest import ACTIVATIONS, chromium_page, grade_queued
from tests.web.test_browser import sign_in
from web.demo import DemoData
from worker.config import Settings

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("DLGRADE_SHOTS")
SOLUTION = (ACTIVATIONS / "solution" / "activations.py").read_text()


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


# The elements reaching past the window's right edge, innermost first (what to fix).
WIDE = """() => [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
    .filter(e => !e.closest('.table-wrap, pre, .formula'))
    .reverse().slice(0, 5)
    .map(e => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}.${e.className}`)"""


def no_sideways_scroll(page) -> None:  # type: ignore[no-untyped-def]
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.evaluate("window.innerWidth")
    assert width <= viewport, (
        f"{page.url} is {width} px wide in a {viewport} px window: {page.evaluate(WIDE)}"
    )


def hand_in(page, portal: str, course: int, slug: str, path: Path) -> str:  # type: ignore[no-untyped-def]
    page.goto(f"{portal}/courses/{course}/a/{slug}")
    page.set_input_files("#files", str(path))
    page.click("text=Submit for grading")
    page.wait_for_url("**/submissions/*")
    return page.url


def settled(page) -> None:  # type: ignore[no-untyped-def]
    """Wait until the status page has reloaded itself with the report.

    Its script reloads the page once it sees the grade; a test that navigated away
    first would race that reload and Chromium would drop one of the two navigations.
    """
    page.wait_for_selector('#live[data-status="graded"]')


@pytest.mark.parametrize("width", [1280, 390])
def test_a_report_that_teaches(
    portal: str,
    demo: DemoData,
    web_settings: Settings,
    sandbox_envs: Path,
    tmp_path: Path,
    width: int,
) -> None:
    from playwright.sync_api import expect

    broken = tmp_path / "broken" / "activations.py"
    broken.parent.mkdir()
    broken.write_text(SOLUTION.replace("def relu(x):", "def relu(x)\n    return 1 +\ndef _r(x):"))
    looping = tmp_path / "tiny.py"
    looping.write_text(
        "def add(x, y):\n    total = 0\n    while True:\n        total += 1\n\n\n"
        "def scale(x, a):\n    return a * x\n"
    )
    with chromium_page(width) as (page, errors):
        sign_in(page, portal)
        course = demo.course_id

        # 1. A syntax error: one message, the student's lines as they wrote them.
        url = hand_in(page, portal, course, "activations", broken)
        assert grade_queued(web_settings, sandbox_envs) == ["graded"]
        settled(page)
        page.goto(url)
        box = page.locator("#load-failure")
        expect(box).to_contain_text("activations.py did not load")
        expect(box).to_contain_text("none of the 45 checks below could run")
        pre = box.locator("pre").inner_text().splitlines()
        at = SOLUTION.splitlines().index("def relu(x):") + 1
        assert f'  File "activations.py", line {at}' in pre and "    def relu(x)" in pre
        assert pre[-1] == "SyntaxError: expected ':'"
        expect(page.locator("#not-run summary")).to_have_text(
            "45 checks not run (the file did not load)"
        )
        expect(page.locator("#not-run li").first).not_to_be_visible()  # folded
        assert page.locator("table.checks").count() == 0
        assert page.get_by_text("your code raised an error").count() == 0
        no_sideways_scroll(page)
        shot(page, f"report-load-failure-{width}")

        # 2. Three known mistakes: failing groups first, hints, NaN named, the rest folded.
        url = hand_in(page, portal, course, "activations", ACTIVATIONS / "examples" /
                      "sample_submission.py")  # fmt: skip
        assert grade_queued(web_settings, sandbox_envs) == ["graded"]
        settled(page)
        page.goto(url)
        groups = page.locator("section.group.failing h3")
        titles = [t.split(" ·")[0] for t in groups.all_inner_texts()]
        # Visible failures by function (softmax_jacobian), then the hidden checks' group.
        assert titles == ["softmax_jacobian", "hidden checks"], titles
        jacobian = page.locator("section.group.failing").first
        expect(jacobian.locator(".hint")).to_have_text(
            "Hint: These failures match a known mistake: diag(s) + s s^T instead of "
            "diag(s) - s s^T."
        )
        # Hidden checks' hints (the naive sigmoid, relu'(0)) are withheld until release.
        assert page.locator(".hint").count() == 1
        passing = page.locator("details#passing")
        summary = passing.locator(":scope > summary")
        expect(summary).to_contain_text("functions with every check passed")
        assert passing.get_attribute("open") is None
        expect(passing.locator("tr").first).not_to_be_visible()
        no_sideways_scroll(page)
        shot(page, f"report-known-mistakes-{width}")

        # 3. A call that never returns: the report names the line it was stopped at.
        url = hand_in(page, portal, course, "worker-tiny", looping)
        assert grade_queued(web_settings, sandbox_envs) == ["graded"]
        settled(page)
        page.goto(url)
        row = page.locator("tr.check.failing", has_text="add")
        expect(row).to_contain_text("ran past its time limit")
        expect(row.locator("pre")).to_contain_text(
            "when it was stopped, your code was here (most recent call last):"
        )
        # The loop's test or its body, wherever the sample found it.
        expect(row.locator("pre")).to_contain_text(re.compile(r'File "tiny.py", line [34], in add'))
        no_sideways_scroll(page)
        shot(page, f"report-time-out-{width}")
        assert not errors, errors


def test_nan_is_named_in_a_released_report(
    portal: str, demo: DemoData, web_settings: Settings, sandbox_envs: Path
) -> None:
    """After the release, the hidden checks' hints and messages show: NaN by name."""
    from datetime import timedelta

    from playwright.sync_api import expect
    from sqlalchemy import update

    from worker.db import get_engine
    from worker.models import Assignment, utcnow

    with get_engine(web_settings.database_url).begin() as conn:
        conn.execute(
            update(Assignment)
            .where(Assignment.id == demo.assignments["activations"])
            .values(hidden_release=utcnow() - timedelta(minutes=1))
        )
    with chromium_page(1280) as (page, errors):
        sign_in(page, portal)
        url = hand_in(page, portal, demo.course_id, "activations",
                      ACTIVATIONS / "examples" / "sample_submission.py")  # fmt: skip
        assert grade_queued(web_settings, sandbox_envs) == ["graded"]
        settled(page)
        page.goto(url)
        sigmoid = page.locator("section.group.failing", has_text="sigmoid_large_inputs").first
        expect(sigmoid.locator("pre").first).to_contain_text("got NaN, expected")
        expect(sigmoid.locator(".hint")).to_contain_text("exp(x) / (1 + exp(x)) is inf / inf")
        kinks = page.locator("section.group.failing", has_text="kinks")
        expect(kinks.locator(".hint")).to_contain_text("relu'(0) = 1 instead of the notes' 0")
        assert page.locator(".hint").count() == 5  # jacobian, 3 overflows, the kink
        shot(page, "report-released-1280")
        assert not errors, errors
