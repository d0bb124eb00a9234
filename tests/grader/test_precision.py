"""Correct in any precision: a float32 answer is judged at float32's resolution, a float64
answer at the tolerances asked for (issue 9).

The float32 answers here are built by rounding a right (or wrong) float64 answer to
float32, as a homework computed in float32 would return it: as float32, converted to
float64 at the end, or as a list of Python floats. Expected values are the float64
reference; the errors are worked out by hand from how far the answers were pushed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from grader.assignment import load_assignment
from grader.checks import compare, grad_check, is_float32_answer
from grader.engine import grade
from grader.messages import CheckStatus
from grader.sandbox.local import bwrap_path
from reference import activations as ref
from tests.conftest import require

FOLDER = Path(__file__).resolve().parents[2] / "assignments" / "activations"
FLOAT32_EXAMPLE = FOLDER / "examples" / "float32_throughout.py"
OUT_FLOAT32 = "def _out(y):\n    return np.asarray(y, dtype=F)\n"

# gelu near its zero crossing, where float32's rounding is largest relative to the value.
X = np.array([-0.31, -0.05, 0.02, 0.4, 1.3, -2.2])
EXPECTED = ref.gelu(X)


def as_float32_values(values: np.ndarray) -> np.ndarray:
    """A float32 result converted to float64 at the end (what ``.astype(float)`` returns)."""
    return values.astype(np.float32).astype(np.float64)


def test_float32_values_in_float64_clothing_are_judged_as_float32() -> None:
    """Rounding to float32 errs by up to 6e-8 relative: past rtol=1e-7 once pushed by 3e-7."""
    got = as_float32_values(EXPECTED * (1 + 3e-7))
    assert got.dtype == np.float64 and is_float32_answer(got)
    assert compare(got, EXPECTED, rtol=1e-7, atol=1e-9).passed
    assert compare(got.tolist(), EXPECTED, rtol=1e-7, atol=1e-9).passed
    assert compare(got.astype(np.float32), EXPECTED, rtol=1e-7, atol=1e-9).passed


@pytest.mark.parametrize(
    "form",
    [
        lambda a: a.astype(np.float32),
        as_float32_values,
        lambda a: as_float32_values(a).tolist(),
    ],
    ids=["float32", "float32 converted to float64", "list of float32 values"],
)
def test_a_wrong_float32_answer_still_fails(form) -> None:
    wrong = EXPECTED * (1 + 1e-3)  # 1e-3 relative: 8,000 float32 epsilons
    verdict = compare(form(wrong), EXPECTED, rtol=1e-7, atol=1e-9)
    assert not verdict.passed
    # 100 float32 epsilons = 1.19209e-05; the data's scale is gelu(1.3) = 1.17393, so the
    # absolute tolerance is 1.19209e-05 * 1.17393 = 1.39943e-05.
    assert "rtol=1.19209e-05, atol=1.39943e-05 for a float32 answer)" in verdict.message


def test_float64_answers_keep_the_float64_tolerances() -> None:
    """The same 3e-7 error in a float64 answer (not float32 numbers) fails at rtol=1e-7."""
    got = EXPECTED * (1 + 3e-7)
    assert not is_float32_answer(got)
    verdict = compare(got, EXPECTED, rtol=1e-7, atol=1e-9)
    assert not verdict.passed
    assert verdict.message.endswith("rtol=1e-07, atol=1e-09)")


@pytest.mark.parametrize("got", [[0.0, 1.0, 1.0], [0.25, 1.5, 3.0], [70000.0, 0.0, 2.0]], ids=str)
def test_short_values_say_nothing_about_precision(got: list[float]) -> None:
    """0, 1, 0.25, 1.5 are float32 numbers too (integers and float16 numbers, exact in any
    precision): a float64 answer made only of them keeps the float64 tolerances."""
    assert not is_float32_answer(np.array(got))
    expected = np.array(got) + np.array([0.0, 0.0, 1e-6])
    verdict = compare(got, expected, rtol=1e-7, atol=1e-9)
    assert not verdict.passed and "float32" not in verdict.message


def test_grad_check_judges_a_float32_gradient_at_float32_resolution() -> None:
    x = X.reshape(2, 3)
    dout = np.ones_like(x)
    right32 = as_float32_values(ref.gelu_grad(x) * (1 + 3e-7))
    assert grad_check(right32, ref.gelu, x, dout, rtol=1e-7, atol=1e-9).passed
    wrong32 = as_float32_values(ref.gelu_grad(x) * (1 + 1e-3))
    assert not grad_check(wrong32, ref.gelu, x, dout, rtol=1e-7, atol=1e-9).passed


def test_values_derived_from_a_float32_answer_are_judged_at_its_precision() -> None:
    """Row sums of a float32 softmax, summed in float64 on the trusted side, are no
    float32 numbers; ``computed_from`` names the answer whose precision they carry."""
    probs = as_float32_values(ref.softmax(np.array([[0.3, -1.2, 2.0, 0.7]] * 3)))
    sums = np.sum(probs, axis=-1)
    assert not is_float32_answer(sums)
    # Each float32 probability is off by up to 6e-8 relative: the sums miss 1 by more
    # than 1e-12 (here by 3.7e-9).
    assert abs(sums[0] - 1.0) > 1e-12
    assert not compare(sums, np.ones(3), rtol=0, atol=1e-12).passed
    assert compare(sums, np.ones(3), rtol=0, atol=1e-12, computed_from=probs).passed
    # A float32 softmax that does not sum to 1 still fails.
    off = as_float32_values(probs * 1.001)
    assert not compare(off.sum(-1), np.ones(3), rtol=0, atol=1e-12, computed_from=off).passed


# -- the activations homework computed in float32 throughout ------------------------------------


@pytest.fixture(scope="module")
def activations():
    require(bwrap_path() is not None, "bubblewrap", "apt-get install bubblewrap")
    return load_assignment(FOLDER)


def _variant(tmp_path: Path, out: str, extra: str = "") -> Path:
    source = FLOAT32_EXAMPLE.read_text()
    assert OUT_FLOAT32 in source
    sub = tmp_path / "activations.py"
    sub.write_text(source.replace(OUT_FLOAT32, out) + extra)
    return sub


@pytest.mark.parametrize(
    "out",
    [
        OUT_FLOAT32,
        "def _out(y):\n    return np.asarray(y, dtype=F).astype(np.float64)\n",
    ],
    ids=["returns float32", "converts to float64 at the end"],
)
def test_float32_throughout_scores_full_marks(activations, tmp_path: Path, out: str) -> None:
    report = grade(activations, _variant(tmp_path, out), sandbox="local")
    assert [(c.name, c.message) for c in report.checks if c.status != CheckStatus.PASSED] == []
    assert report.score == activations.max_score == 40.5


def test_float32_throughout_with_gelu_off_by_1e_3_loses_the_gelu_checks(
    activations, tmp_path: Path
) -> None:
    wrong_gelu = (
        "\n\n_right_gelu = gelu\n\n\n"
        "def gelu(x):\n"
        "    return _out(np.asarray(_right_gelu(x), dtype=F) * F(1.001))\n"
    )
    out64 = "def _out(y):\n    return np.asarray(y, dtype=F).astype(np.float64)\n"
    report = grade(activations, _variant(tmp_path, out64, wrong_gelu), sandbox="local")
    failed = {c.name for c in report.checks if c.status != CheckStatus.PASSED}
    assert failed == {"gelu", "gelu_large_inputs", "shapes"}
    assert report.score == 40.5 - 1 - 0.5 - 1
