"""The regularization assignment is sound: the solution, float32 and other stable forms score full
marks, the starter scores zero, and every mutant loses exactly the checks it declares."""

from __future__ import annotations

import re

import pytest

from grader.engine import grade
from grader.messages import CheckStatus, ReportStatus
from tests.assignments import kit
from tests.assignments.kit import CONVERTED_AT_THE_END, grade_source, not_passed

FOLDER = kit.ASSIGNMENTS / "regularization"
MUTANTS = kit.mutant_files(FOLDER)
SOLUTION = (FOLDER / "solution" / "regularization.py").read_text()

assignment = kit.assignment_fixture(FOLDER)


validated = kit.validated_fixture()


def test_validate_passes(assignment, validated):
    kit.assert_validates(assignment, 13, validated)


def test_l1_sign_of_zero_fails_at_every_seed(validated):
    """The starter: "lam * sign(W) (sign(0) = 0)": a weight of each layer is exactly 0."""
    kit.assert_rule_enforced(validated, "mutants/l1_sign_zero_positive.py", "l1_penalty", "'W1'")
    kit.assert_rule_enforced(validated, "mutants/l1_sign_zero_positive.py", "penalties_hidden")


def test_weight_decay_into_the_callers_dict_fails_at_every_seed(validated):
    """The starter: "a NEW dict"; writing the new values into params changes the caller's."""
    kit.assert_rule_enforced(
        validated,
        "mutants/weight_decay_step_in_place.py",
        "weight_decay_step",
        "modified its input params in place",
    )


def test_float32_throughout_scores_full_marks(assignment, tmp_path):
    src = SOLUTION.replace("FLOAT = np.float64", "FLOAT = np.float32")
    assert src != SOLUTION
    report = grade_source(assignment, tmp_path, src)
    assert not_passed(report) == []
    assert report.score == assignment.max_score


OTHER_FORMS = """

def l2_penalty(params, lam):
    # a loop over the weights only, biases filled in with zeros afterwards
    weights = [k for k in params if k.startswith("W")]
    value = sum(0.5 * lam * float(np.sum(np.square(params[k]))) for k in weights)
    grads = {k: np.zeros_like(np.asarray(v, dtype=float)) for k, v in params.items()}
    for k in weights:
        grads[k] = lam * np.asarray(params[k], dtype=float)
    return value, grads


def l1_penalty(params, lam):
    value, grads = 0.0, {}
    for k, v in params.items():
        v = np.asarray(v, dtype=float)
        if k[0] == "W":
            value += lam * np.abs(v).sum()
            grads[k] = lam * np.where(v > 0, 1.0, np.where(v < 0, -1.0, 0.0))
        else:
            grads[k] = 0.0 * v
    return value, grads


class EarlyStopping:
    # counts from the best epoch rather than keeping a counter
    def __init__(self, patience, min_delta=0.0, mode="min"):
        self.patience, self.min_delta, self.sign = patience, min_delta, 1 if mode == "min" else -1
        self.best, self.best_epoch = self.sign * float("inf"), None
        self.epochs, self.should_stop = 0, False

    @property
    def num_bad_epochs(self):
        return self.epochs if self.best_epoch is None else self.epochs - 1 - self.best_epoch

    def step(self, metric):
        if self.sign * (self.best - metric) > self.min_delta:
            self.best, self.best_epoch = metric, self.epochs
        self.epochs += 1
        self.should_stop = self.should_stop or self.num_bad_epochs >= self.patience
        return self.should_stop
"""


def test_loops_and_another_early_stopping_design_score_full_marks(assignment, tmp_path):
    report = grade_source(assignment, tmp_path, SOLUTION + OTHER_FORMS)
    assert not_passed(report) == []
    assert report.score == assignment.max_score


@pytest.mark.parametrize("file", MUTANTS)
def test_mutants_lose_what_they_declare_under_another_seed_and_errstate_ignore(
    assignment, tmp_path, file
):
    """Another submission seed (so other hidden inputs), and NumPy's error state switched off
    inside the sandbox: a mutant still loses exactly the checks it declares."""
    kit.assert_mutant_loses_what_it_declares(assignment, tmp_path, SOLUTION, file)


def test_messages_locate_the_error(assignment, tmp_path):
    """A regularised bias is named as such; early stopping a call late names the attribute
    and the call where it differs."""
    src = SOLUTION + "\n\n" + (FOLDER / "mutants" / "l2_bias_regularised.py").read_text()
    src += "\n\n" + (FOLDER / "mutants" / "early_stopping_patience_off_by_one.py").read_text()
    report = grade_source(assignment, tmp_path, src)
    failed = {c.name: c.message for c in report.checks if c.status != CheckStatus.PASSED}
    assert set(failed) == {
        "l2_penalty",
        "penalties_hidden",
        "weight_decay_step",
        "early_stopping",
        "early_stopping_hidden",
    }
    l2 = failed["l2_penalty"]
    assert "grads['b1'] (a bias: never regularised): 3 of 3 values differ" in l2
    assert "grads['W1']" not in l2
    stop = failed["early_stopping"]
    assert "mode='min') fed [" in stop
    assert re.search(r": step\(\) returned after call index: \d+ of \d+ values differ", stop)
    assert ": should_stop after call index:" in stop


def test_starter_scores_zero_and_says_what_is_missing(assignment):
    report = grade(assignment, FOLDER / "starter", sandbox="local")
    assert report.score == 0
    assert all(c.status == CheckStatus.ERROR for c in report.checks)
    assert all("NotImplementedError" in c.message for c in report.checks)


def test_sample_submission_loses_the_checks_of_its_mistakes(assignment):
    """examples/sample_submission.py: mostly right, with the mistakes its docstring names."""
    report = grade(assignment, FOLDER / "examples" / "sample_submission.py", sandbox="local")
    assert report.status == ReportStatus.GRADED
    assert {c.name for c in report.checks if c.status != CheckStatus.PASSED} == {
        "l2_penalty",
        "penalties_hidden",
        "weight_decay_step",
        "early_stopping",
        "early_stopping_hidden",
    }
    assert report.score == 5
    assert "debug: l2_penalty over ['W1', 'b1', 'W2', 'b2']" in report.output + report.hidden_output


def test_inputs_follow_the_seed(assignment):
    """Two submission seeds (so two secret hidden seeds): the same mistake is found on other
    inputs, so what one report shows says nothing about the next one's inputs."""
    sample = FOLDER / "examples" / "sample_submission.py"
    messages = []
    for seed in (1, 2):
        report = grade(assignment, sample, sandbox="local", seed=seed)
        (failed,) = [c for c in report.checks if c.name == "penalties_hidden"]
        assert failed.status != CheckStatus.PASSED
        messages.append(failed.message)
    assert messages[0] != messages[1]


def test_float32_inside_float64_outside_scores_full_marks(assignment, tmp_path):
    """Computed in float32, handed back as float64 (or Python floats): judged at float32's
    resolution, finite differences of the student's own forward included."""
    src = SOLUTION.replace("FLOAT = np.float64", "FLOAT = np.float32") + CONVERTED_AT_THE_END
    report = grade_source(assignment, tmp_path, src)
    assert not_passed(report) == []
    assert report.score == assignment.max_score
