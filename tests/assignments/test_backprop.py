"""The backprop assignment is sound: the solution, float32 and other stable forms score full
marks, the starter scores zero, and every mutant loses exactly the checks it declares."""

from __future__ import annotations

import pytest

from grader.engine import grade
from grader.messages import CheckStatus, ReportStatus
from tests.assignments import kit
from tests.assignments.kit import CONVERTED_AT_THE_END, grade_source, not_passed

FOLDER = kit.ASSIGNMENTS / "backprop"
MUTANTS = kit.mutant_files(FOLDER)
SOLUTION = (FOLDER / "solution" / "backprop.py").read_text()

assignment = kit.assignment_fixture(FOLDER)


validated = kit.validated_fixture()


def test_validate_passes(assignment, validated):
    kit.assert_validates(assignment, 22, validated)


def test_sgd_update_in_place_fails_at_every_seed(validated):
    """The starter: "a NEW dict"; params[k] -= ... edits the caller's arrays."""
    messages = kit.assert_rule_enforced(
        validated,
        "mutants/sgd_update_in_place.py",
        "sgd_update",
        "sgd_update(params, grads, lr): modified its input params in place",
    )
    assert all("grads" not in m.split("modified its input")[1].split(";")[0] for m in messages)


def test_the_notes_worked_example_is_a_visible_check(assignment, tmp_path):
    """The solution reproduces the notes' digits; a step uphill misses w5 and says by how much."""
    (spec,) = [c for c in assignment.checks if c.name == "worked_example"]
    assert not spec.hidden
    src = SOLUTION + "\n\n" + (FOLDER / "mutants" / "sgd_ascent.py").read_text()
    report = grade_source(assignment, tmp_path, src)
    (check,) = [c for c in report.checks if c.name == "worked_example"]
    assert check.status == CheckStatus.FAILED
    # 0.40 + 0.5 * 0.082167041 = 0.44108352: only w5 is wrong, E_total and dE/dw5 are right.
    assert check.message.startswith("w5 after one step at lr 0.5 (notes: 0.35891648): 1 of 1")
    assert "got 0.4410835" in check.message
    assert "E_total" not in check.message


def test_float32_throughout_scores_full_marks(assignment, tmp_path):
    """Every layer computes in float32 and returns float32: judged at float32's resolution,
    the notes' digits included."""
    src = SOLUTION.replace("FLOAT = np.float64", "FLOAT = np.float32")
    assert src != SOLUTION
    report = grade_source(assignment, tmp_path, src)
    assert not_passed(report) == []
    assert report.score == assignment.max_score


OTHER_FORMS = """

def affine_forward(x, w, b):
    # explicit loops, and a cache that is a dict
    x, w, b = np.asarray(x, float), np.asarray(w, float), np.asarray(b, float)
    flat = x.reshape(x.shape[0], -1)
    out = np.zeros((flat.shape[0], w.shape[1]))
    for n in range(flat.shape[0]):
        for m in range(w.shape[1]):
            out[n, m] = sum(flat[n, d] * w[d, m] for d in range(w.shape[0])) + b[m]
    return out, {"x": x, "w": w}


def affine_backward(dout, cache):
    x, w = cache["x"], cache["w"]
    flat = x.reshape(x.shape[0], -1)
    dx = np.zeros_like(flat)
    dw = np.zeros_like(w)
    for n in range(flat.shape[0]):
        dx[n] = w @ dout[n]
        dw += np.outer(flat[n], dout[n])
    return dx.reshape(x.shape), dw, np.sum(dout, axis=0)


def sigmoid_forward(x):
    # the tanh form, caching the input rather than the output
    x = np.asarray(x, float)
    return 0.5 * (1.0 + np.tanh(0.5 * x)), x


def sigmoid_backward(dout, cache):
    s = 0.5 * (1.0 + np.tanh(0.5 * cache))
    return dout * s * (1.0 - s)


def tanh_forward(x):
    x = np.asarray(x, float)
    return 2.0 / (1.0 + np.exp(-2.0 * x)) - 1.0, x


def tanh_backward(dout, cache):
    return dout / np.cosh(cache) ** 2
"""


def test_loops_dict_caches_and_other_forms_score_full_marks(assignment, tmp_path):
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


def test_messages_name_the_parameter_and_index(assignment, tmp_path):
    """A transposed dw: the layer check says dw's shape is wrong; the network check names the
    parameter and the index whose value is wrong, and that the student's own loss disagrees."""
    src = SOLUTION + "\n\n" + (FOLDER / "mutants" / "affine_dw_transposed.py").read_text()
    report = grade_source(assignment, tmp_path, src)
    failed = {c.name: c.message for c in report.checks if c.status != CheckStatus.PASSED}
    assert set(failed) == {"affine_backward", "two_layer_net_grads"}
    assert "affine_backward: dw: shape (3, 6), expected (6, 3)" in failed["affine_backward"]
    net = failed["two_layer_net_grads"]
    assert "two_layer_net: grads['W1']: shape (4, 3), expected (3, 4)" in net
    assert "two_layer_net: grads['W2']" in net
    assert "(expected: finite differences of your loss)" in net
    # The correct parts are not blamed.
    assert "grads['b1']" not in net
    assert "grads['b2']" not in net


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
        "tanh_backward",
        "sgd_update",
        "worked_example",
    }
    assert report.score == 17
    assert "debug: sgd_update with lr 0.5" in report.output + report.hidden_output


def test_inputs_follow_the_seed(assignment):
    """Two submission seeds (so two secret hidden seeds): the same mistake is found on other
    inputs, so what one report shows says nothing about the next one's inputs."""
    sample = FOLDER / "examples" / "sample_submission.py"
    messages = []
    for seed in (1, 2):
        report = grade(assignment, sample, sandbox="local", seed=seed)
        (failed,) = [c for c in report.checks if c.name == "tanh_backward"]
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
