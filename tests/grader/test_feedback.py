"""What a report teaches: one message for a file that does not load, the line a time-out
stopped at, NaN and inf named, checks grouped by function failing first, and hints from
the assignment's known mistakes (its mutants), withheld on hidden checks until release.

The fixture assignment (tests/grader/teach) has four functions, a hidden check and a
check across two functions; its mutants are three known mistakes.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from grader.assignment import Assignment, load_assignment
from grader.engine import grade
from grader.feedback import groups, load_failed
from grader.hints import hint_text
from grader.messages import CheckStatus, GradeReport, ReportStatus
from grader.report import render_text
from grader.validate import validate

FOLDER = Path(__file__).resolve().parent / "teach"
SOLUTION = (FOLDER / "solution" / "teach.py").read_text()


@pytest.fixture(scope="module")
def assignment() -> Assignment:
    return load_assignment(FOLDER)


def _grade(assignment: Assignment, tmp_path: Path, source: str) -> GradeReport:
    path = tmp_path / "teach.py"
    path.write_text(source)
    return grade(assignment, path, sandbox="local")


def _mutant(name: str) -> str:
    return SOLUTION + "\n\n" + (FOLDER / "mutants" / name).read_text()


def _by_name(report: GradeReport) -> dict:
    return {c.name: c for c in report.checks}


def test_a_file_that_does_not_load_gets_one_message_with_its_own_lines(assignment, tmp_path):
    broken = SOLUTION.replace("def relu(x):", "def relu(x)\n    return 1 +\ndef _relu(x):")
    report = _grade(assignment, tmp_path, broken)
    assert report.status == ReportStatus.GRADED and report.score == 0
    assert all(c.not_run for c in report.checks) and load_failed(report)
    # The student's own lines, one per line (not flattened), with the caret.
    lines = report.message.splitlines()
    at = SOLUTION.splitlines().index("def relu(x):") + 1
    assert lines[0] == f"could not load teach.py: SyntaxError: expected ':' (teach.py, line {at})"
    assert f'  File "teach.py", line {at}' in lines
    assert "    def relu(x)" in lines
    assert any(re.fullmatch(r" +\^", line) for line in lines)
    text = render_text(report)
    assert text.count("SyntaxError: expected ':'") == 2  # the summary line and the last line
    assert "6 of 6 checks not run: the file did not load" in text
    assert "teach.py could not be loaded" not in text and "[  ERROR]" not in text  # no rows


def test_a_time_out_names_the_students_line(assignment, tmp_path):
    looping = SOLUTION.replace(
        "def relu(x):\n",
        "def relu(x):\n    spins = 0\n    while x is not None:\n        spins += 1\n",
    )
    report = _grade(assignment, tmp_path, looping)
    # A host too busy to give the loop its CPU gives no verdict at all (a platform fault).
    assert report.status == ReportStatus.GRADED, report.message
    relu = _by_name(report)["relu"]
    assert relu.status == CheckStatus.TIMEOUT
    # "... limit (2.0 s of CPU time); when it was stopped ...", the clock's own words first.
    assert relu.message.startswith("took longer than the 2 s limit")
    assert "; when it was stopped, your code was here (most recent call last):\n" in relu.message
    line = SOLUTION.splitlines().index("def relu(x):") + 3  # the loop's body, 1-based
    assert f'  File "teach.py", line {line}, in relu' in relu.message.splitlines()
    assert relu.message.splitlines()[-1].strip() in ("spins += 1", "while x is not None:")
    # A later call starts a fresh runner: the other functions are still graded.
    assert _by_name(report)["mean_square"].status == CheckStatus.PASSED


def test_nan_and_inf_are_named(assignment, tmp_path):
    report = _grade(assignment, tmp_path, _mutant("relu_by_exp.py"))
    message = _by_name(report)["relu_large_inputs"].message
    assert "got NaN, expected" in message and "3 NaN, 0 inf" in message
    assert "inf / inf" in message


def test_failing_checks_first_grouped_by_function(assignment, tmp_path):
    wrong = _mutant("one_over_n_twice.py") + "\n\ndef relu(x):\n    return np.abs(x)\n"
    report = _grade(assignment, tmp_path, wrong)
    found = groups(report.checks)
    assert [g.function for g in found] == [
        "mean_square_grad", "relu", "mean_square", "relu_grad", "",
    ]  # fmt: skip
    assert [c.name for c in found[1].failing] == ["relu", "relu_large_inputs"]
    assert [g.title for g in found][-1] == "checks across several functions"
    # A student sees hidden checks in a group of their own until release.
    view = groups(report.student_view(now=datetime.now(UTC)).checks)
    assert "hidden checks" in [g.title for g in view]
    text = render_text(report)
    assert text.index("mean_square_grad: 0/2") < text.index("mean_square: 1/1, all 1 check(s)")


@pytest.mark.parametrize("name", ["one_over_n_twice.py", "relu_by_exp.py", "relu_grad_kink.py"])
def test_each_known_mistake_gets_its_own_hint(assignment, tmp_path, name):
    (mutant,) = [m for m in assignment.mutants if m.file == f"mutants/{name}"]
    report = _grade(assignment, tmp_path, _mutant(name))
    hinted = {c.name: c.hint for c in report.checks if c.hint}
    assert hinted == {check: hint_text(mutant) for check in mutant.fails}
    assert hint_text(mutant).startswith("These failures match a known mistake: ")


def test_two_mistakes_get_both_hints_and_a_wrong_everything_gets_none(assignment, tmp_path):
    both = _mutant("one_over_n_twice.py") + (FOLDER / "mutants" / "relu_grad_kink.py").read_text()
    hinted = {c.name for c in _grade(assignment, tmp_path, both).checks if c.hint}
    assert hinted == {"mean_square_grad", "kinks"}
    zeros = "import numpy as np\n" + "".join(
        f"def {f}(x):\n    return np.zeros_like(x) + 7.0\n"
        for f in ("mean_square", "mean_square_grad", "relu", "relu_grad")
    )
    report = _grade(assignment, tmp_path, zeros)
    assert report.score == 0 and not any(c.hint for c in report.checks)
    # relu broken as a whole: relu's other checks fail too, so no one mistake is named.
    broken_relu = _mutant("relu_by_exp.py") + "\n\ndef relu(x):\n    return -x\n"
    assert not any(c.hint for c in _grade(assignment, tmp_path, broken_relu).checks)


def test_a_hidden_checks_hint_is_withheld_until_release(assignment, tmp_path):
    report = _grade(assignment, tmp_path, _mutant("relu_by_exp.py"))
    hidden = _by_name(report)["relu_large_inputs"]
    assert hidden.hidden and hidden.hint
    before = report.student_view(now=datetime.now(UTC))
    assert not any(c.hint for c in before.checks)
    released = GradeReport.from_dict(
        {**report.to_dict(), "hidden_release": (datetime.now(UTC) - timedelta(hours=1)).isoformat()}
    )
    after = released.student_view()
    assert [c.hint for c in after.checks if c.hidden] == [hidden.hint]
    assert '"hint": "These failures match a known mistake' in __import__("json").dumps(
        after.to_dict()
    )


def test_validate_proves_each_mutant_gets_its_hint_and_correct_files_none(assignment):
    outcome = validate(assignment, sandbox="local", log=lambda _: None, examples=True)
    assert outcome.ok, outcome.summary
    assert not any(c.hint for c in outcome.reports["solution"].checks)
    example = outcome.reports["example float32.py"]
    assert example.score == assignment.max_score and not any(c.hint for c in example.checks)


def test_validate_fails_a_mutant_that_gets_no_hint(tmp_path):
    """A mistake that fails by raising is no signature: validate says so."""
    import shutil

    copy = tmp_path / "teach"
    shutil.copytree(FOLDER, copy)
    (copy / "mutants" / "raises.py").write_text(
        "def mean_square(x):\n    raise ValueError('not written yet')\n"
    )
    manifest = copy / "assignment.toml"
    manifest.write_text(
        manifest.read_text()
        + '\n[[mutants]]\nfile = "mutants/raises.py"\nwhy = "raises"\nfails = ["mean_square"]\n'
    )
    outcome = validate(load_assignment(copy), sandbox="local", log=lambda _: None)
    assert not outcome.ok
    assert outcome.problems == [
        "mutant mutants/raises.py does not receive its own hint (its failures must be wrong "
        "answers, time-outs or memory, not code that raised; docs/AUTHORING.md, 'Hints'); "
        "hints received: none"
    ]


def test_the_command_lines_report_says_how_training_went() -> None:
    """A training check's runs in words under the checks: the curve's ends, the test
    accuracy and the commonest confusions (numbers written here by hand)."""
    from grader.messages import CheckResult, CheckStatus, GradeReport, ReportStatus
    from grader.report import render_text

    confusion = [[50 if d == a else 0 for a in range(10)] for d in range(10)]
    confusion[7][1] = 9
    training = {
        "threshold": 0.97,
        "median": 0.975,
        "runs": [
            {"run": 1, "accuracy": 0.975, "confusion": confusion,
             "epochs": [{"epoch": 0, "loss": 2.3, "accuracy": 0.11},
                        {"epoch": 10, "loss": 0.05, "accuracy": 0.98}]},
        ],
    }  # fmt: skip
    check = CheckResult("mnist_accuracy", 20, 20, CheckStatus.PASSED, "ok", training=training)
    report = GradeReport("mnist-torch-mlp", 20, 20, ReportStatus.GRADED, checks=(check,))
    text = render_text(report, show_output=False)
    assert (
        "  training (mnist_accuracy):\n"
        "    Run 1: validation accuracy 11.0% at epoch 0, 98.0% after epoch 10; training loss "
        "2.300 to 0.050; test accuracy 97.50%.\n"
        "    Most common confusions of run 1's network: 7 answered as 1 (9 times)."
    ) in text
