"""The judging API (compare, accuracy), the report the CLI prints, and determinism.

Expected messages are written by hand from the inputs each test builds: the
worst element is the one furthest past its own tolerance, relative errors leave
out zeros, float32 answers get 100 float32 epsilons (relative to the data's
scale), and nothing a submission can return makes compare raise anything but
CheckFailed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from grader.assignment import load_assignment
from grader.checks import CheckFailed, Student, accuracy, compare
from grader.engine import grade
from grader.messages import CheckStatus
from grader.session import StudentError

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
FIXTURE = HERE / "redteam" / "assignment"
SOLUTION = FIXTURE / "solution" / "redteam.py"
STARTER = FIXTURE / "starter" / "redteam.py"
ZEROS = HERE / "redteam" / "attacks" / "forged_stdout.py"  # prints a lot, answers zeros

CHECK_KEYS = {"name", "score", "max_score", "status", "message", "hidden", "seconds", "function",
              "not_run", "hint", "training"}  # fmt: skip
REPORT_KEYS = {"assignment", "score", "max_score", "status", "message", "checks", "output",
               "environment", "hidden_output", "hidden_release"}  # fmt: skip


# -- compare -------------------------------------------------------------------------------


def test_compare_passes_and_says_so() -> None:
    expected = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    verdict = compare(expected.copy(), expected, rtol=1e-7, atol=1e-9)
    assert verdict.passed and verdict.credit == 1.0
    assert verdict.message == "output: all 6 values within rtol=1e-07, atol=1e-09"


def test_compare_locates_the_worst_element() -> None:
    expected = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    got = expected.copy()
    got[0, 1] = 2.1  # off by 0.1 (relative 0.05)
    got[1, 2] = 6.5  # off by 0.5 (relative 0.0833...): the worst
    verdict = compare(got, expected, rtol=1e-7, atol=1e-9, name="relu(x)")
    assert not verdict.passed and verdict.credit == 0.0
    assert verdict.message == (
        "relu(x): 2 of 6 values differ; worst at index [1, 2]: got 6.5, expected 6 "
        "(max abs error 0.5, max rel error 0.0833; rtol=1e-07, atol=1e-09)"
    )


def test_compare_worst_is_measured_against_each_tolerance() -> None:
    """0.5 off 1000 is within rtol=1e-3 (allowed 1.0); 0.4 off 1 is not (allowed 0.001)."""
    verdict = compare(np.array([1000.5, 1.4]), np.array([1000.0, 1.0]), rtol=1e-3, atol=0.0)
    assert verdict.message == (
        "output: 1 of 2 values differ; worst at index [1]: got 1.4, expected 1 "
        "(max abs error 0.5, max rel error 0.4; rtol=0.001, atol=0)"
    )


def test_compare_relative_error_leaves_out_zeros() -> None:
    verdict = compare(np.array([0.25, 0.0]), np.array([0.0, 0.0]))
    assert verdict.message == (
        "output: 1 of 2 values differ; worst at index [0]: got 0.25, expected 0 "
        "(max abs error 0.25, max rel error n/a: every expected value is 0; "
        "rtol=1e-07, atol=1e-09)"
    )


def test_compare_finds_the_first_nan() -> None:
    expected = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    got = expected.copy()
    got[1, 0] = np.nan
    got[0, 2] = np.inf
    message = compare(got, expected).message
    assert message.startswith(
        "output: 2 non-finite value(s); first at index [0, 2]: got +inf, expected 3 "
        "(1 NaN, 1 inf, where every expected value is finite; NaN comes from inf - inf, "
    )


def test_compare_matching_non_finite_values_agree() -> None:
    """Where the reference itself is inf or NaN, the same value is right."""
    expected = np.array([np.inf, -np.inf, np.nan, 1.0])
    assert compare(expected.copy(), expected).passed
    wrong_sign = np.array([-np.inf, -np.inf, np.nan, 1.0])
    verdict = compare(wrong_sign, expected)
    assert not verdict.passed
    assert verdict.message.startswith("output: 1 of 4 values differ; worst at index [0]: got -inf")


@pytest.mark.parametrize(
    ("got", "expected", "message"),
    [
        (np.zeros((3, 2)), np.zeros((2, 3)), "output: shape (3, 2), expected (2, 3)"),
        (np.zeros(6), np.zeros((2, 3)), "output: shape (6,), expected (2, 3)"),
        (np.zeros((1, 3)), np.zeros(3), "output: shape (1, 3), expected (3,)"),
        (2.0, np.zeros(3), "output: shape (), expected (3,)"),
    ],
)
def test_compare_shape_mismatch(got: object, expected: np.ndarray, message: str) -> None:
    verdict = compare(got, expected)
    assert (verdict.passed, verdict.message) == (False, message)


def test_compare_broadcasting_only_when_asked() -> None:
    assert compare(5.0, np.full(3, 5.0), check_shape=False).passed
    verdict = compare(np.zeros(2), np.zeros(3), check_shape=False)
    assert verdict.message == "output: shape (2,), expected (3,)"


def test_compare_widens_tolerance_for_float32() -> None:
    """100 float32 epsilons, relative to the largest expected magnitude (100 here)."""
    expected = np.array([1.0, 100.0, -3.0])
    off = expected * (1 + 2e-6)  # float32 cannot do better than ~6e-8; 2e-6 is still fine
    verdict = compare(off.astype(np.float32), expected, rtol=1e-7, atol=1e-9)
    # rtol = 100 * 2**-23 = 1.19209e-05; atol = rtol * 100 (the scale) = 0.00119209
    assert verdict.passed
    assert verdict.message == "output: all 3 values within rtol=1.19209e-05, atol=0.00119209"
    # The same answer in float64 is held to the float64 tolerance, and fails.
    assert not compare(off, expected, rtol=1e-7, atol=1e-9).passed
    # And float32 does not excuse a real error (1e-3 relative).
    assert not compare((expected * 1.001).astype(np.float32), expected, rtol=1e-7).passed


def test_compare_refuses_float16() -> None:
    verdict = compare(np.ones(3, dtype=np.float16), np.ones(3))
    assert verdict.message == "output: float16 results are too imprecise to grade; use float64"


def test_compare_accepts_lists_ints_and_bools() -> None:
    assert compare([[1.0, 2.0], [3.0, 4.0]], np.array([[1.0, 2.0], [3.0, 4.0]])).passed
    assert compare(np.array([1, 2, 3]), np.array([1.0, 2.0, 3.0])).passed
    assert compare(np.array([True, False]), np.array([1.0, 0.0])).passed
    assert compare(np.zeros((0, 3)), np.zeros((0, 3))).passed


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "y: your code returned None (is a `return` missing?)"),
        ("1.0", "y: expected a NumPy array, got str"),
        ({"a": 1.0}, "y: expected a NumPy array, got dict"),
        ([1.0, "2"], "y: expected a NumPy array, got list"),
        ((np.zeros(2), np.zeros(2)), "y: expected a NumPy array, got tuple"),
        ([2**70], "y: expected numbers, got an array of dtype object"),
        (
            [[1.0, 2.0], [3.0]],
            "y: the nested lists returned are ragged (rows of different lengths)",
        ),
        ([1.0, [2.0]], "y: the nested lists returned are ragged (rows of different lengths)"),
    ],
)
def test_compare_non_numbers_fail_the_check(value: object, message: str) -> None:
    """Whatever plain data comes back, the verdict is the student's, never the grader's crash."""
    with pytest.raises(CheckFailed) as err:
        compare(value, np.zeros(2), name="y")
    assert str(err.value) == message


# -- accuracy --------------------------------------------------------------------------------


def test_accuracy_of_class_predictions() -> None:
    labels = np.array([0, 1, 2, 1])
    verdict = accuracy(np.array([0, 1, 1, 1]), labels, 0.7)
    assert verdict.passed
    assert verdict.message == "test accuracy 75.00% (3/4) meets the 70% threshold"
    below = accuracy(np.array([0, 1, 1, 1]), labels, 0.8, name="held-out")
    assert not below.passed
    assert below.message == "held-out accuracy 75.00% (3/4) is below the 80% threshold"


def test_accuracy_of_scores_takes_the_argmax() -> None:
    scores = np.array([[0.9, 0.1, 0.0], [0.2, 0.3, 0.5], [0.0, 1.0, 0.0]])
    verdict = accuracy(scores, np.array([0, 2, 0]), 0.5)
    assert verdict.message == "test accuracy 66.67% (2/3) meets the 50% threshold"


def test_accuracy_wrong_shape_and_non_finite() -> None:
    labels = np.array([0, 1, 2])
    assert accuracy(np.array([0, 1]), labels, 0.5).message == (
        "predictions: shape (2,), expected (3,) "
        "(one class per image, or one row of scores per image)"
    )
    assert accuracy(np.array([0.0, np.nan, 2.0]), labels, 0.5).message == (
        "predictions contain NaN or inf"
    )
    with pytest.raises(CheckFailed):
        accuracy("0 1 2", labels, 0.5)


# -- a forged object handle is the submission's fault ------------------------------------------


class _ForgedSession:
    """A session whose sandbox answers every request with the same (forged) value."""

    def __init__(self, value: object) -> None:
        self.value = value

    def request(self, request: dict, seconds: float) -> object:
        return self.value

    def ensure_loaded(self) -> object:
        return {"handle": self.value, "global": "net"}


@pytest.mark.parametrize("value", ["abc", [1], 1.5, None, True])
def test_forged_handles_are_crashes_not_grader_errors(value: object) -> None:
    student = Student(_ForgedSession(value), call_seconds=1.0)  # type: ignore[arg-type]
    with pytest.raises(StudentError) as err:
        student.new("Net")
    assert err.value.status == CheckStatus.CRASH
    if value is None:  # no handle at all: the script left no network behind
        with pytest.raises(CheckFailed):
            student.trained()
    else:
        with pytest.raises(StudentError) as err:
            student.trained()
        assert err.value.status == CheckStatus.CRASH


# -- the CLI's report ------------------------------------------------------------------------


def _cli(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "grader.cli", *args], capture_output=True, cwd=REPO, timeout=120
    )


def _grade_json(submission: Path, *extra: str) -> dict:
    done = _cli("grade", str(FIXTURE), str(submission), "--sandbox", "local", "--json", *extra)
    assert done.returncode == 0, done.stderr.decode()
    lines = done.stdout.decode().splitlines()
    assert len(lines) == 1  # exactly one JSON object, nothing else on stdout
    return json.loads(lines[0])


def test_cli_json_report_shape() -> None:
    report = _grade_json(SOLUTION)
    assert set(report) == REPORT_KEYS
    assert (report["assignment"], report["score"], report["max_score"]) == ("redteam", 6.0, 6.0)
    assert (report["status"], report["message"], report["output"]) == ("graded", "", "")
    assert (report["hidden_output"], report["hidden_release"]) == ("", None)
    assert [c["name"] for c in report["checks"]] == [
        "square", "add", "center", "total", "square_hidden",
    ]  # fmt: skip
    for c in report["checks"]:
        assert set(c) == CHECK_KEYS
        assert c["status"] == "passed" and c["score"] == c["max_score"]
        assert c["training"] is None  # a training check's runs only
        assert isinstance(c["seconds"], float) and c["seconds"] >= 0
    assert [c["hidden"] for c in report["checks"]] == [False] * 4 + [True]
    env = report["environment"]
    assert env["sandbox"].startswith("local") and env["environment"] == "numpy"
    assert env["seed"] == 0 and 0 < env["wall_seconds"] < 60
    assert isinstance(env["hidden_seed"], int) and env["hidden_seed"] != 0


def test_cli_zero_score_is_still_success() -> None:
    report = _grade_json(STARTER)
    assert (report["score"], report["status"]) == (0.0, "graded")
    assert {c["status"] for c in report["checks"]} == {"error"}


def test_cli_fails_when_the_grader_cannot_run(tmp_path: Path) -> None:
    done = _cli("grade", str(tmp_path / "no-such-assignment"), str(SOLUTION), "--json")
    assert done.returncode == 2
    assert done.stdout == b""
    assert b"is not an assignment folder" in done.stderr


def test_cli_student_view_hides_hidden_messages() -> None:
    full = _grade_json(ZEROS)
    hidden = full["checks"][-1]
    assert hidden["name"] == "square_hidden" and "expected" in hidden["message"]
    view = _grade_json(ZEROS, "--student-view")
    shown = view["checks"][-1]
    assert (shown["name"], shown["message"], shown["hidden"]) == ("hidden check", "", True)
    assert (shown["score"], shown["max_score"]) == (0.0, 2.0)
    visible = [(c["name"], c["score"], c["status"], c["message"]) for c in full["checks"][:-1]]
    assert [(c["name"], c["score"], c["status"], c["message"]) for c in view["checks"][:-1]] == (
        visible
    )
    assert view["score"] == full["score"] == 0.0


# -- determinism -----------------------------------------------------------------------------


def _results(seed: int) -> list[tuple[str, float, str, str]]:
    report = grade(load_assignment(FIXTURE), ZEROS, sandbox="local", seed=seed)
    return [(c.name, c.score, str(c.status), c.message) for c in report.checks]


def test_grading_is_deterministic() -> None:
    """Same seed, same inputs, same messages (which quote expected values); another seed differs."""
    first = _results(seed=0)
    assert _results(seed=0) == first
    other = _results(seed=1)
    assert [r[:3] for r in other] == [r[:3] for r in first]
    assert [r[3] for r in other] != [r[3] for r in first]
