"""The cnn-layers assignment is sound: the solution, float32 and other stable forms score full
marks, the starter scores zero, and every mutant loses exactly the checks it declares."""

from __future__ import annotations

import re

import pytest

from grader.engine import grade
from grader.messages import CheckStatus, ReportStatus
from tests.assignments import kit
from tests.assignments.kit import CONVERTED_AT_THE_END, grade_source, not_passed

FOLDER = kit.ASSIGNMENTS / "cnn-layers"
MUTANTS = kit.mutant_files(FOLDER)
SOLUTION = (FOLDER / "solution" / "cnn_layers.py").read_text()

assignment = kit.assignment_fixture(FOLDER)


validated = kit.validated_fixture()


def test_validate_passes(assignment, validated):
    kit.assert_validates(assignment, 22, validated)


def test_pool_backward_that_confuses_stride_and_pool_fails_at_every_seed(validated):
    """Both pool settings run at every seed: dout / stride^2 is dout / pool^2 where the stride
    equals the pool (2, 2) and wrong where windows overlap (3, 1), once drawn one time in two."""
    kit.assert_rule_enforced(
        validated,
        "mutants/avg_pool_backward_divides_by_stride.py",
        "avg_pool_backward",
        "avg_pool_backward (pool=3, stride=1): dx",
    )


def test_float32_throughout_scores_full_marks(assignment, tmp_path):
    src = SOLUTION.replace("FLOAT = np.float64", "FLOAT = np.float32")
    assert src != SOLUTION
    report = grade_source(assignment, tmp_path, src)
    assert not_passed(report) == []
    assert report.score == assignment.max_score


OTHER_FORMS = """

def conv_forward(x, w, b, stride=1, pad=0):
    # einsum over a strided view instead of im2col and a matrix product
    x, w, b = np.asarray(x, float), np.asarray(w, float), np.asarray(b, float)
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    win = sliding_window_view(xp, w.shape[2:], axis=(2, 3))[:, :, ::stride, ::stride]
    out = np.einsum("nchwij,fcij->nfhw", win, w) + b[None, :, None, None]
    return out, (x, w, b, stride, pad)


def max_pool_forward(x, pool=2, stride=2):
    x = np.asarray(x, float)
    n, c, h, w = x.shape
    oh, ow = (h - pool) // stride + 1, (w - pool) // stride + 1
    out = np.empty((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            win = x[:, :, i * stride : i * stride + pool, j * stride : j * stride + pool]
            out[:, :, i, j] = win.max(axis=(2, 3))
    return out, {"x": x, "pool": pool, "stride": stride}


def max_pool_backward(dout, cache):
    # loops, and np.argmax's first maximum on ties
    x, pool, stride = cache["x"], cache["pool"], cache["stride"]
    dx = np.zeros_like(x)
    for n in range(dout.shape[0]):
        for c in range(dout.shape[1]):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    win = x[n, c, i * stride : i * stride + pool, j * stride : j * stride + pool]
                    r, q = np.unravel_index(np.argmax(win), win.shape)
                    dx[n, c, i * stride + r, j * stride + q] += dout[n, c, i, j]
    return dx


def batchnorm_backward(dout, cache):
    # the staged graph: through x_hat, the variance and the mean one node at a time
    mode, x_hat, gamma, inv_std = cache
    dout, x_hat, gamma = np.asarray(dout, float), np.asarray(x_hat, float), np.asarray(gamma, float)
    dgamma, dbeta = (dout * x_hat).sum(axis=0), dout.sum(axis=0)
    dxhat = dout * gamma
    if mode == "test":
        return dxhat * inv_std, dgamma, dbeta
    n = dout.shape[0]
    xmu = x_hat / inv_std
    dvar = np.sum(dxhat * xmu, axis=0) * -0.5 * inv_std**3
    dmu = np.sum(-dxhat * inv_std, axis=0) + dvar * np.mean(-2.0 * xmu, axis=0)
    return dxhat * inv_std + dvar * 2.0 * xmu / n + dmu / n, dgamma, dbeta
"""


def test_einsum_loops_and_staged_forms_score_full_marks(assignment, tmp_path):
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


def test_messages_locate_the_error(assignment, tmp_path, monkeypatch):
    """Ties sent everywhere: the hidden tie check locates a doubled gradient; loops under a
    vectorised name: the speed check says how fast each was and what is needed."""
    # The hidden check's inputs come from the service's secret key (a fresh one per data
    # dir): pinned here, so the element the message names is the same on every machine.
    monkeypatch.setenv("DLGRADE_SECRET_KEY", "tests: cnn-layers messages")
    src = SOLUTION + "\n\n" + (FOLDER / "mutants" / "max_pool_ties_all.py").read_text()
    src += "\n\n" + (FOLDER / "mutants" / "conv_vectorised_is_naive.py").read_text()
    report = grade_source(assignment, tmp_path, src)
    failed = {c.name: c.message for c in report.checks if c.status != CheckStatus.PASSED}
    assert set(failed) == {"max_pool_ties", "conv_speed"}
    assert failed["max_pool_ties"].startswith("max_pool_backward with ties: ")
    # Which element is worst depends on the hidden inputs; what must hold is that the
    # message names one element of the 4-d gradient, where the tie should have got 0.
    assert re.search(
        r"worst at index \[\d+, \d+, \d+, \d+\]: got -?[\d.]+, expected 0 ", failed["max_pool_ties"]
    ), failed["max_pool_ties"]
    assert failed["conv_speed"].startswith("conv_forward is only ")
    assert "x as fast as conv_forward_naive on x (8, 3, 32, 32)" in failed["conv_speed"]
    assert "at least 10x is needed" in failed["conv_speed"]


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
        "dropout_train",
        "dropout_backward",
        "batchnorm_test",
    }
    assert report.score == 19
    assert "debug: batchnorm train (5, 3)" in report.output + report.hidden_output


def test_inputs_follow_the_seed(assignment):
    """Two submission seeds (so two secret hidden seeds): the same mistake is found on other
    inputs, so what one report shows says nothing about the next one's inputs."""
    sample = FOLDER / "examples" / "sample_submission.py"
    messages = []
    for seed in (1, 2):
        report = grade(assignment, sample, sandbox="local", seed=seed)
        (failed,) = [c for c in report.checks if c.name == "batchnorm_test"]
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


def test_batchnorm_default_momentum_is_checked_and_the_given_state_shown(validated):
    """The starter's defaults (momentum 0.9 on the OLD running value): a call with bn_param
    holding the mode only. The message shows the running statistics the first call was given."""
    kit.assert_rule_enforced(
        validated,
        "mutants/batchnorm_momentum_torch_default.py",
        "batchnorm_train",
        "bn_param['running_mean'] from bn_param = {'mode': 'train'} (the defaults)",
        "(the first call's bn_param, as given: mode='train', eps=1e-05, momentum=",
        "running_mean=[",
        "running_var=[",
    )
