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
from grader.checks import compare, grad_check, is_float32_answer, reference_at
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
    said = (
        "for a float32 answer)"
        if np.asarray(form(wrong)).dtype == np.float32
        else "for float64 values that are all float32 numbers (a float32 result converted))"
    )
    assert f"rtol=1.19209e-05, atol=1.39943e-05 {said}" in verdict.message


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


# -- answers from inputs rounded to float32 ----------------------------------------------


def torch_gelu_tanh(x: np.ndarray) -> np.ndarray:
    """PyTorch's tanh-approximated GELU in float64: the notes' gelu, computed by another hand."""
    import torch

    return torch.nn.functional.gelu(torch.from_numpy(x), approximate="tanh").numpy()


def test_an_answer_from_inputs_rounded_to_float32_is_judged_at_those_inputs() -> None:
    """A homework that rounds x to float32 and computes GELU in float64 answers the numbers it
    worked with: PyTorch's value there passes against reference_at, and would fail against the
    reference at the unrounded x alone (float64 tolerances, and no float32 numbers to see)."""
    x = np.random.default_rng(3).uniform(-4.0, 4.0, size=(6, 5))
    rounded = x.astype(np.float32).astype(np.float64)
    got = torch_gelu_tanh(rounded)
    assert not is_float32_answer(got)
    assert not compare(got, ref.gelu(x), rtol=1e-7, atol=1e-9).passed
    expected = reference_at(ref.gelu, x)
    np.testing.assert_allclose(expected.at_float32_inputs, got, rtol=1e-13, atol=1e-15)
    verdict = compare(got, expected, rtol=1e-7, atol=1e-9)
    assert verdict.passed, verdict.message
    assert verdict.message.endswith("of the reference at the inputs rounded to float32")
    # Right at the rounded inputs is no licence to be wrong: 1e-6 off fails either way, and
    # the message is the one against the exact inputs.
    verdict = compare(got * (1 + 1e-6), expected, rtol=1e-7, atol=1e-9)
    assert not verdict.passed
    assert verdict.message == compare(got * (1 + 1e-6), ref.gelu(x), rtol=1e-7, atol=1e-9).message


def test_a_softmax_near_1000_from_rounded_inputs_is_right_at_them() -> None:
    """Inputs near 1000 move by up to 3e-5 when rounded to float32, and so does the softmax;
    PyTorch's float64 softmax of the rounded rows is the right answer for them."""
    import torch

    x = 1000.0 + np.random.default_rng(4).normal(0.0, 2.0, size=(3, 6))
    rounded = x.astype(np.float32).astype(np.float64)
    got = torch.softmax(torch.from_numpy(rounded), dim=-1).numpy()
    assert not compare(got, ref.softmax(x), rtol=1e-7, atol=1e-9).passed
    assert compare(got, reference_at(ref.softmax, x), rtol=1e-7, atol=1e-9).passed


def test_reference_at_rounds_float_arrays_only() -> None:
    """Labels, numbers (a hyperparameter such as swish's beta) and strings pass as they are;
    inputs already float32 numbers leave nothing to judge twice."""
    seen = []

    def reference(x, labels, beta, mode):
        seen.append((x.copy(), labels.copy(), beta, mode))
        return x * beta

    x = np.array([0.1, 1.0 / 3.0])
    labels = np.array([3, 1])
    reference_at(reference, x, labels, 1.7, "train")
    (_, _, _, _), (x32, labels32, beta32, mode32) = seen
    assert np.array_equal(x32, np.array([0.1, 1.0 / 3.0], dtype=np.float32).astype(np.float64))
    assert labels32.dtype == labels.dtype and np.array_equal(labels32, labels)
    assert (beta32, mode32) == (1.7, "train")
    assert reference_at(np.negative, np.array([0.5, 0.25])).at_float32_inputs is None


def test_the_activations_homework_from_rounded_inputs_scores_full_marks(
    activations, tmp_path: Path
) -> None:
    """The instructor's solution with every input array rounded to float32 on entry (its own
    calls between functions left alone): on main it lost 8 points (gelu, gelu_grad, softmax,
    the softmax at |x| ~ 1000, shapes, ...)."""
    sub = tmp_path / "activations.py"
    sub.write_text((FOLDER / "solution" / "activations.py").read_text() + ROUNDED_ON_ENTRY)
    report = grade(activations, sub, sandbox="local")
    assert [(c.name, c.message) for c in report.checks if c.status != CheckStatus.PASSED] == []
    assert report.score == activations.max_score == 40.5


ROUNDED_ON_ENTRY = """

# --- every input array rounded to float32 on entry, everything after in float64 ---
_depth = [0]


def _rounding(fn):
    def rounded(x, *args, **kwargs):
        if _depth[0] == 0 and isinstance(x, np.ndarray):
            x = x.astype(np.float32).astype(np.float64)
        _depth[0] += 1
        try:
            return fn(x, *args, **kwargs)
        finally:
            _depth[0] -= 1

    return rounded


for _name, _fn in list(globals().items()):
    if callable(_fn) and not _name.startswith("_") and not isinstance(_fn, type):
        globals()[_name] = _rounding(_fn)
"""


# -- what a failing comparison says --------------------------------------------------------


def test_no_max_rel_error_of_0_where_a_value_expected_to_be_0_is_wrong() -> None:
    """Expected [0, 2, -1], got [0.5, 2, -1]: the only error is where 0 was expected, where
    relative error means nothing; "max rel error 0" would read as if all were right."""
    verdict = compare([0.5, 2.0, -1.0], [0.0, 2.0, -1.0], rtol=1e-7, atol=1e-9)
    assert not verdict.passed
    assert "max rel error 0;" not in verdict.message
    assert "max abs error 0.5, max rel error 0 where the expected value is not 0;" in (
        verdict.message
    )
    verdict = compare([0.5, 0.0], [0.0, 0.0], rtol=1e-7, atol=1e-9)
    assert "max rel error n/a: every expected value is 0;" in verdict.message
    # Where the relative error is defined it is given as before: 2.2 against 2 is 0.1.
    verdict = compare([0.0, 2.2], [0.0, 2.0], rtol=1e-7, atol=1e-9)
    assert "max rel error 0.1;" in verdict.message


def test_a_float64_answer_is_not_called_a_float32_one() -> None:
    """A float64 answer whose values are float32 numbers is judged at float32's resolution,
    and the message says what was seen, not that a float32 array came back."""
    wrong = EXPECTED * (1 + 1e-3)
    as64 = compare(as_float32_values(wrong), EXPECTED, rtol=1e-7, atol=1e-9)
    assert "for a float32 answer" not in as64.message
    assert "for float64 values that are all float32 numbers" in as64.message
    as32 = compare(wrong.astype(np.float32), EXPECTED, rtol=1e-7, atol=1e-9)
    assert as32.message.endswith("for a float32 answer)")
    plain = compare(wrong, EXPECTED, rtol=1e-7, atol=1e-9)
    assert "float32" not in plain.message
