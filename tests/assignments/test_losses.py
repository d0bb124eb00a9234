"""The losses assignment is sound: the solution, float32 and other stable forms score full
marks, the starter scores zero, and every mutant loses exactly the checks it declares."""

from __future__ import annotations

import pytest

from grader.engine import grade
from grader.messages import CheckStatus, ReportStatus
from tests.assignments import kit
from tests.assignments.kit import CONVERTED_AT_THE_END, grade_source, not_passed

FOLDER = kit.ASSIGNMENTS / "losses"
MUTANTS = kit.mutant_files(FOLDER)
SOLUTION = (FOLDER / "solution" / "losses.py").read_text()

assignment = kit.assignment_fixture(FOLDER)


validated = kit.validated_fixture()


def test_validate_passes(assignment, validated):
    kit.assert_validates(assignment, 22, validated)


def test_mae_sign_of_zero_fails_at_every_seed(validated):
    """The starter: "the gradient uses sign(0) = 0"; pred == target at two places, every seed."""
    kit.assert_rule_enforced(
        validated, "mutants/mae_sign_zero_positive.py", "mae_loss_grad", "d loss / d pred"
    )


def test_bce_with_logits_overflowing_below_fails_at_every_seed(validated):
    """Logits past exp's range on both sides at every seed: (1 - t) z + log(1 + exp(-z)) is
    inf for z < -709.78 (a random draw of 8 logits from 40 to 1000 reached there 1 time in 3)."""
    kit.assert_rule_enforced(
        validated,
        "mutants/bce_logits_overflows_below.py",
        "bce_with_logits_loss_stable",
        "non-finite value",
    )


def test_every_loss_has_a_value_a_gradient_and_extremes_are_hidden(assignment):
    names = {c.name: c for c in assignment.checks}
    for loss in ("mse", "mae", "smooth_l1", "bce", "bce_with_logits", "cross_entropy", "nll"):
        assert {f"{loss}_loss", f"{loss}_loss_grad"} <= set(names)
    for loss in ("bce", "bce_with_logits", "cross_entropy", "focal"):
        assert names[f"{loss}_loss_stable"].hidden


def test_float32_throughout_scores_full_marks(assignment, tmp_path):
    """Every function computes in float32 and returns float32: judged at float32's resolution."""
    src = SOLUTION.replace("FLOAT = np.float64", "FLOAT = np.float32")
    assert src != SOLUTION
    report = grade_source(assignment, tmp_path, src)
    assert not_passed(report) == []
    assert report.score == assignment.max_score


OTHER_FORMS = '''

import math


def bce_with_logits_loss(logits, target, reduction="mean"):
    z, t = _f(logits), _f(target)
    # softplus(z) - t z with logaddexp, and the sigmoid through tanh: other stable forms
    per, grad = np.logaddexp(0.0, z) - t * z, 0.5 * (1 + np.tanh(z / 2)) - t
    if reduction == "none":
        return per, grad
    if reduction == "sum":
        return float(per.sum()), grad
    return float(np.mean(per)), grad / z.size


def cross_entropy_loss(logits, labels, reduction="mean"):
    """Row by row with math's exp and log, as a loop."""
    z = np.asarray(logits, dtype=float)
    n, c = z.shape
    losses, grad = [], np.zeros((n, c))
    for i in range(n):
        m = max(z[i])
        s = sum(math.exp(v - m) for v in z[i])
        losses.append(-(z[i, labels[i]] - m - math.log(s)))
        for j in range(c):
            grad[i, j] = math.exp(z[i, j] - m) / s - (j == labels[i])
    if reduction == "none":
        return losses, grad  # a list of NumPy floats: numbers in a list are answers too
    scale = 1.0 / n if reduction == "mean" else 1.0
    return sum(losses) * scale, grad * scale


def mae_loss(pred, target, reduction="mean"):
    d = np.asarray(pred, dtype=float) - np.asarray(target, dtype=float)
    sign = np.where(d > 0, 1.0, np.where(d < 0, -1.0, 0.0))
    k = {"mean": 1.0 / d.size, "sum": 1.0}.get(reduction)
    return (np.abs(d), sign) if k is None else (np.abs(d).sum() * k, sign * k)


def bce_loss(prob, target, reduction="mean"):
    p, t = np.asarray(prob, dtype=float), np.asarray(target, dtype=float)
    with np.errstate(divide="ignore"):
        per = -(t * np.clip(np.log(p), -100, None) + (1 - t) * np.clip(np.log(1 - p), -100, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        grad = -t / p + (1 - t) / (1 - p)
    return _reduce(per, grad, reduction, p.size)
'''


def test_other_stable_forms_and_loops_score_full_marks(assignment, tmp_path):
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
    """A gradient without its 1/N: the report names the loss, the index, expected vs got, and
    says the slopes of the student's own loss disagree too."""
    src = SOLUTION + "\n\n" + (FOLDER / "mutants" / "mse_grad_missing_mean.py").read_text()
    report = grade_source(assignment, tmp_path, src)
    (failed,) = [c for c in report.checks if c.status != CheckStatus.PASSED]
    assert failed.name == "mse_loss_grad"
    message = failed.message
    assert "mse_loss(pred (4, 3)): d loss / d pred: 12 of 12 values differ; worst at index [" in (
        message
    )
    assert "grad vs slopes of your own mse_loss" in message
    assert "(expected: finite differences of your loss)" in message


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
        "mae_loss_grad",
        "cross_entropy_loss_stable",
    }
    assert report.score == 20
    assert "debug: cross_entropy_loss on (5, 4)" in report.output + report.hidden_output


def test_reductions_locate_the_term(assignment, tmp_path):
    """Every reduction read as a mean: the message names the loss, the reduction and, for
    'none', the term whose value is wrong."""
    src = SOLUTION + "\n\n" + (FOLDER / "mutants" / "reduction_ignored.py").read_text()
    report = grade_source(assignment, tmp_path, src)
    (failed,) = [c for c in report.checks if c.status != CheckStatus.PASSED]
    assert failed.name == "reductions"
    assert "mse_loss(pred (4, 3)) reduction='sum': loss: 1 of 1 values differ" in failed.message
    assert "mse_loss(pred (4, 3)) reduction='none': loss: shape (), expected (4, 3)" in (
        failed.message
    )
    assert "focal_loss(logits (5, 4), " in failed.message


def test_inputs_follow_the_seed(assignment):
    """Two submission seeds (so two secret hidden seeds): the same mistake is found on other
    inputs, so what one report shows says nothing about the next one's inputs."""
    sample = FOLDER / "examples" / "sample_submission.py"
    messages = []
    for seed in (1, 2):
        report = grade(assignment, sample, sandbox="local", seed=seed)
        (failed,) = [c for c in report.checks if c.name == "cross_entropy_loss_stable"]
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
