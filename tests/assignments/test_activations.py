"""The activations assignment is sound, and the validator would notice if it were not."""

from __future__ import annotations

import re
import shutil
import tomllib
from pathlib import Path

import pytest

from grader.assignment import load_assignment
from grader.engine import grade
from grader.messages import CheckStatus, ReportStatus
from grader.sandbox.local import bwrap_path
from grader.validate import validate
from tests.assignments import kit
from tests.conftest import require

FOLDER = Path(__file__).resolve().parents[2] / "assignments" / "activations"
MUTANTS = [m["file"] for m in tomllib.loads((FOLDER / "assignment.toml").read_text())["mutants"]]


@pytest.fixture(scope="module")
def assignment():
    require(bwrap_path() is not None, "bubblewrap", "apt-get install bubblewrap")
    return load_assignment(FOLDER)


validated = kit.validated_fixture()


def test_validate_passes(assignment, validated):
    """At each of 5 seeds: the solution full, every mutant exactly the points of the checks it
    names less; the starter 0."""
    kit.assert_validates(assignment, 40.5, validated)


def test_a_function_that_fails_for_a_number_fails_at_every_seed(validated):
    """The starter: "an array x of any shape (or a number)": a number in, a number out."""
    kit.assert_rule_enforced(
        validated,
        "mutants/relu_copy_mask.py",
        "shapes",
        "relu(x) for the number x = ",
        "shape (1,)",
    )


def test_validate_catches_a_wrong_manifest(assignment, tmp_path):
    copy = tmp_path / "activations"
    shutil.copytree(FOLDER, copy)
    manifest = copy / "assignment.toml"
    text = manifest.read_text()
    # Claim the tanh mutant fails only tanh_grad and shapes: it also fails tanh_large_inputs.
    manifest.write_text(
        text.replace(
            'fails = ["tanh_grad", "tanh_large_inputs", "shapes"]',
            'fails = ["tanh_grad", "shapes"]',
        ).replace('fails = ["kinks"]', 'fails = ["relu_grad"]')
    )
    outcome = validate(load_assignment(copy), sandbox="local", log=lambda _: None)
    assert not outcome.ok
    # Two wrong entries: the tanh mutant's checks, and the kink mutant's, whose hint then
    # goes on no check it names (its one failing check, kinks, is not relu_grad).
    assert len(outcome.problems) == 3
    assert any("tanh_grad_wrong" in p and "tanh_large_inputs" in p for p in outcome.problems)
    assert any("relu_grad_kink" in p and "expected to fail" in p for p in outcome.problems)
    assert any(
        p.startswith("mutant mutants/relu_grad_kink.py does not receive its own hint")
        for p in outcome.problems
    )


def test_validate_catches_a_starter_that_scores(assignment, tmp_path):
    copy = tmp_path / "activations"
    shutil.copytree(FOLDER, copy)
    shutil.copyfile(FOLDER / "solution" / "activations.py", copy / "starter" / "activations.py")
    outcome = validate(load_assignment(copy), sandbox="local", log=lambda _: None)
    assert not outcome.ok
    assert any(p.startswith("starter scores 40.5") for p in outcome.problems)


def test_sample_submission_report_locates_each_mistake(assignment):
    report = grade(assignment, FOLDER / "examples" / "sample_submission.py", sandbox="local")
    assert report.status == ReportStatus.GRADED
    failed = {c.name: c for c in report.checks if c.status != CheckStatus.PASSED}
    assert set(failed) == {
        "sigmoid_large_inputs",
        "swish_large_inputs",
        "softplus_large_inputs",
        "kinks",
        "softmax_jacobian",
    }
    assert report.score == 40.5 - 0.5 * 3 - 1 - 2
    # exp(x) / (1 + exp(x)) is inf / inf at x > 709.78: judged by the NaN it returns.
    overflow = failed["sigmoid_large_inputs"]
    assert overflow.status == CheckStatus.FAILED
    assert "sigmoid at |x| up to 1000: 2 non-finite value(s); first at index [" in overflow.message
    assert "got NaN, expected 1 (2 NaN, 0 inf, where every expected value is finite; " in (
        overflow.message
    )
    # The zeros sit at random places (hidden inputs are drawn, not constants).
    kink = failed["kinks"].message
    assert re.match(
        r"relu_grad at 0: 3 of 8 values differ; worst at index \[\d\]: got 1, expected 0 ", kink
    )
    # The Jacobian's diagonal entry: s1 + s1^2 instead of s1 - s1^2.
    assert "softmax_jacobian(z): 25 of 25 values differ" in failed["softmax_jacobian"].message
    assert "debug: softmax_jacobian called with (5,)" in report.output


def test_float32_answers_are_not_false_fails(assignment, tmp_path):
    """A correct submission computing in float32 and returning float32 scores full marks."""
    src = (FOLDER / "solution" / "activations.py").read_text()
    src = src.replace("np.asarray(x, dtype=np.float64)", "np.asarray(x, dtype=np.float32)")
    # Every public function returns float32 (the relu, say, of a student who never said float64).
    src += (
        "\n\ndef _as_float32(fn):\n"
        "    return lambda *a, **k: np.asarray(fn(*a, **k), dtype=np.float32)\n\n\n"
        "for _name, _fn in list(globals().items()):\n"
        "    if callable(_fn) and not _name.startswith('_'):\n"
        "        globals()[_name] = _as_float32(_fn)\n"
    )
    sub = tmp_path / "activations.py"
    sub.write_text(src)
    report = grade(assignment, sub, sandbox="local")
    bad = [(c.name, c.message) for c in report.checks if c.status != CheckStatus.PASSED]
    assert bad == []
    assert report.score == assignment.max_score


def test_starter_tells_students_what_is_missing(assignment):
    report = grade(assignment, FOLDER / "starter", sandbox="local")
    assert report.score == 0
    assert all(c.status == CheckStatus.ERROR for c in report.checks)
    assert all("NotImplementedError" in c.message for c in report.checks)


def test_differently_written_stable_functions_score_full_marks(assignment, tmp_path):
    """A log-sum-exp softmax and a tanh-form sigmoid are as right as the solution's."""
    src = (FOLDER / "solution" / "activations.py").read_text()
    src += """

def sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=np.float64)))


def softmax(x, axis=-1):
    x = np.asarray(x, dtype=np.float64)
    m = np.max(x, axis=axis, keepdims=True)
    return np.exp(x - m - np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)))
"""
    sub = tmp_path / "activations.py"
    sub.write_text(src)
    report = grade(assignment, sub, sandbox="local")
    assert [(c.name, c.message) for c in report.checks if c.status != CheckStatus.PASSED] == []
    assert report.score == assignment.max_score


QUIET = """

# --- every function under np.errstate(all="ignore"): no warning can become an error ---
def _quiet(fn):
    def quiet(*args, **kwargs):
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs)

    return quiet


for _name, _fn in list(globals().items()):
    if callable(_fn) and not _name.startswith("_") and not isinstance(_fn, type):
        globals()[_name] = _quiet(_fn)
"""


@pytest.mark.parametrize("file", MUTANTS)
def test_mutants_under_errstate_ignore_lose_what_they_declare(assignment, tmp_path, file):
    """Switching NumPy's error state off inside the sandbox earns no point a mutant must lose."""
    (mutant,) = [m for m in assignment.mutants if m.file == file]
    src = (FOLDER / "solution" / "activations.py").read_text()
    src += "\n\n" + (FOLDER / mutant.file).read_text() + QUIET
    sub = tmp_path / "activations.py"
    sub.write_text(src)
    report = grade(assignment, sub, sandbox="local")
    failed = {c.name for c in report.checks if c.status != CheckStatus.PASSED}
    assert failed == set(mutant.fails)
    lost = sum(c.max_score for c in report.checks if c.name in mutant.fails)
    assert report.score == pytest.approx(assignment.max_score - lost)


def test_a_naive_form_with_right_values_is_right(assignment, tmp_path):
    """1 / (1 + exp(-x)) overflows inside (exp(1000) = inf) but returns 1 / inf = 0, the right
    value: the grader judges values, not warnings it would have to trust the sandbox for."""
    src = (FOLDER / "solution" / "activations.py").read_text()
    src += """

def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))
"""
    sub = tmp_path / "activations.py"
    sub.write_text(src)
    report = grade(assignment, sub, sandbox="local")
    assert [(c.name, c.message) for c in report.checks if c.status != CheckStatus.PASSED] == []
    assert report.score == assignment.max_score
    assert "RuntimeWarning: overflow encountered in exp" in report.hidden_output
