"""The handout: the assignment page a student reads, and the maths it renders.

MathML expected values are written out by hand from the MathML specification's
elements (mfrac, msubsup, munderover...), not produced by the renderer.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from grader.assignment import load_assignment
from grader.config import REPO_ROOT
from tests.web.conftest import ACTIVATIONS, chromium_page
from tests.web.test_browser import sign_in
from tests.web.test_report_browser import no_sideways_scroll, shot
from web.demo import DemoData
from web.handout import read_handout
from web.mathml import MathError, to_mathml

SHOTS = os.environ.get("DLGRADE_SHOTS")


def _body(mathml: str) -> str:
    return mathml.split("<semantics>")[1].split("<annotation")[0]


def test_fractions_scripts_and_sums_render_as_mathml() -> None:
    assert _body(to_mathml(r"\frac{1}{N}")) == "<mfrac><mn>1</mn><mi>N</mi></mfrac>"
    assert _body(to_mathml("x_i^2")) == "<msubsup><mi>x</mi><mi>i</mi><mn>2</mn></msubsup>"
    assert _body(to_mathml(r"\sum_{i=1}^{N} x_i")) == (
        '<mrow><munderover><mo largeop="true">\u2211</mo>'
        "<mrow><mi>i</mi><mo>=</mo><mn>1</mn></mrow><mi>N</mi></munderover>"
        "<msub><mi>x</mi><mi>i</mi></msub></mrow>"
    )
    assert _body(to_mathml(r"\sqrt{\alpha}")) == "<msqrt><mi>\u03b1</mi></msqrt>"
    assert _body(to_mathml(r"\left( a \right)")) == (
        '<mrow><mo stretchy="true">(</mo><mi>a</mi><mo stretchy="true">)</mo></mrow>'
    )


def test_text_is_escaped_and_unknown_commands_refused() -> None:
    out = to_mathml(r"\text{<script>alert(1)</script>} < 1")
    assert "<script>" not in out and "&lt;script&gt;" in out and "<mo>&lt;</mo>" in out
    assert "<mtext>\u00a0if\u00a0</mtext>" in to_mathml(r"1 \text{ if } x")  # spaces kept
    with pytest.raises(MathError, match=r"\\href is not in the subset"):
        to_mathml(r"\href{javascript:alert(1)}{x}")
    with pytest.raises(MathError, match="ends too early"):
        to_mathml(r"\frac{1}")
    with pytest.raises(MathError, match="'x' is not a delimiter"):
        to_mathml(r"\left( a \right x")


@pytest.mark.parametrize("folder", sorted((REPO_ROOT / "assignments").iterdir()))
def test_every_shipped_handout_renders(folder: Path) -> None:
    """Every formula of every shipped assignment is inside the subset, every check is counted
    once, and the points add up to the assignment's."""
    spec = load_assignment(folder)
    handout = read_handout(spec)
    assert handout.functions and handout.files
    assert not [f.formula_error for f in handout.functions if f.formula_error]
    counted = [c.name for f in handout.functions for c in f.checks] + [
        c.name for c in handout.across
    ]
    assert sorted(counted) == sorted(c.name for c in spec.checks)
    total = sum(f.points for f in handout.functions) + sum(c.points for c in handout.across)
    assert total == pytest.approx(spec.max_score)


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 390])
def test_a_student_reads_the_handout_and_downloads_the_starter(
    portal: str, demo: DemoData, width: int
) -> None:
    from playwright.sync_api import expect

    with chromium_page(width) as (page, errors):
        sign_in(page, portal)
        page.goto(f"{portal}/courses/{demo.course_id}/a/activations")
        handout = page.locator("#handout")
        # Every starter function, with its signature and docstring.
        sigmoid = handout.locator("#fn-sigmoid")
        expect(sigmoid.locator("h4 code")).to_have_text("def sigmoid(x)")
        expect(sigmoid.locator("pre.doc")).to_contain_text("1 / (1 + exp(-x))")
        expect(handout.locator("#fn-leaky_relu h4 code")).to_have_text(
            "def leaky_relu(x, alpha=0.01)"
        )
        assert handout.locator("article.function").count() == 28 + 1  # and the "across" group
        # Its formula as MathML, drawn by the browser (no script: the page has none of it).
        formula = sigmoid.locator(".formula math")
        expect(formula).to_have_count(1)
        assert formula.locator("mfrac").count() == 1
        assert formula.bounding_box()["height"] > 20  # laid out as a fraction, not a line
        # Points per function, and the total.
        expect(page.locator("#points tr", has_text="softmax_jacobian")).to_contain_text("2")
        expect(page.locator("#points tr.total")).to_contain_text("40.5")
        sigmoid_row = page.locator("#points tbody tr").filter(has_text="sigmoid").first
        expect(sigmoid_row).to_contain_text("1.5")
        expect(sigmoid_row).to_contain_text("1 visible, 1 hidden")
        # Which checks are hidden, and until when.
        expect(page.locator("#hidden-note")).to_contain_text("Hidden checks (17, 10.5 points)")
        expect(page.locator("#hidden-note")).to_contain_text("UTC")
        # The limits.
        expect(page.locator("#limits")).to_contain_text("torch cannot be imported")
        expect(page.locator("#limits")).to_contain_text("10 s")
        expect(page.locator("#limits")).to_contain_text("512 MB")
        no_sideways_scroll(page)
        shot(page, f"handout-{width}")
        # The starter, downloaded as a student.
        with page.expect_download() as info:
            page.click("#starter-download")
        data = Path(info.value.path()).read_bytes()
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            assert zf.namelist() == ["activations/activations.py"]
            got = zf.read("activations/activations.py").decode()
        assert got == (ACTIVATIONS / "starter" / "activations.py").read_text()
        assert not errors, errors


def test_the_starter_is_for_the_course_only(app, demo: DemoData) -> None:  # type: ignore[no-untyped-def]
    from tests.web.conftest import login

    url = f"/courses/{demo.course_id}/a/activations/starter.zip"
    student, outsider = app.test_client(), app.test_client()
    assert student.get(url).status_code in (302, 401)  # signed out: to the sign-in page
    login(student, "student")
    assert student.get(url).status_code == 200
    assert student.get(f"/courses/{demo.course_id}/a/nothing/starter.zip").status_code == 404
    login(outsider, "ta2")  # staff of another course
    assert outsider.get(url).status_code == 404
