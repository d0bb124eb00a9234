"""Homework 1 (NumPy MLP on MNIST): its checks judge step() by the numerical gradient, and
its gradings give the scores and messages the manifest promises.

The first group runs the step check in-process against a stand-in for the sandbox
(fast, no bubblewrap, no MNIST); the second grades real submissions in the local
sandbox, training on genuine MNIST, each one once per module.
"""

from __future__ import annotations

import re
import types
from pathlib import Path

import numpy as np
import pytest

from grader.assignment import load_assignment
from grader.checks import CheckFailed
from grader.engine import grade, public_data_dir
from grader.messages import CheckStatus, GradeReport, ReportStatus
from grader.sandbox.local import bwrap_path
from reference.data import DatasetError, load_mnist
from tests.conftest import require

FOLDER = Path(__file__).resolve().parents[2] / "assignments" / "mnist-numpy-mlp"
FULL_MARKS = 35.0


def _solution_source(mutant: str | None = None) -> str:
    """The solution's text, with a mutant appended the way the validator appends it."""
    text = (FOLDER / "solution" / "np_mnist.py").read_text()
    if mutant is not None:
        text += "\n\n" + (FOLDER / "mutants" / f"{mutant}.py").read_text()
    return text


# -- the step check against an in-process stand-in for the sandbox --------------------


class _LocalObject:
    """What RemoteObject offers a check, on an object in this process (copies, as the codec)."""

    def __init__(self, obj: object) -> None:
        self._obj = obj

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            k: np.array(v)
            for k, v in vars(self._obj).items()
            if isinstance(v, np.ndarray) and v.dtype.kind == "f"
        }

    def set(self, name: str, value: np.ndarray) -> None:
        setattr(self._obj, name, np.array(value))

    def __getattr__(self, name: str):
        method = getattr(self._obj, name)
        return lambda *args: method(*(np.array(a) for a in args))


class _LocalStudent:
    def __init__(self, source: str) -> None:
        self.module = types.ModuleType("np_mnist")
        exec(compile(source, "np_mnist.py", "exec"), self.module.__dict__)

    def new(self, name: str, *args: object, **kwargs: object) -> _LocalObject:
        return _LocalObject(getattr(self.module, name)(*args, **kwargs))


@pytest.fixture(scope="module")
def checks():
    return load_assignment(FOLDER).module


def _step_verdict(checks, source: str, seed: int = 0):
    return checks._step_check(
        _LocalStudent(source), np.random.default_rng(seed), (6, 5, 3), n=4, lr=0.1
    )


def test_step_check_passes_the_solution(checks):
    verdict = _step_verdict(checks, _solution_source())
    assert verdict.passed, verdict.message
    assert "W1 (6, 5), b1 (5,), W2 (5, 3), b2 (3,)" in verdict.message
    assert "averaged over the batch" in verdict.message


def test_step_check_names_the_parameter_and_entry_that_are_wrong(checks):
    verdict = _step_verdict(checks, _solution_source("bias_gradient_forgotten"))
    assert not verdict.passed
    # b1 alone is wrong; the message names it, an entry, and what step() did.
    assert re.search(
        r"change of b1: \d of 5 values differ; worst at index \[\d\]: got 0, ", verdict.message
    )
    assert "(step() did not change it)" in verdict.message
    assert not re.search(r"change of (W1|W2|b2):", verdict.message)


def test_step_check_accepts_a_summed_loss_but_not_a_mixture(checks):
    summed = _step_verdict(checks, _solution_source("loss_fn_prime_summed"))
    assert summed.passed, summed.message
    assert "summed over the batch" in summed.message
    mixed = _step_verdict(checks, _solution_source("batch_mean_inconsistent"))
    assert not mixed.passed
    assert "W1, b1 follow(s) the loss summed over the batch instead" in mixed.message
    assert "(it is 4 x the expected change" in mixed.message


def test_step_check_reports_an_ignored_learning_rate(checks):
    verdict = _step_verdict(checks, _solution_source("lr_ignored"))
    assert not verdict.passed
    for name in ("W1", "b1", "W2", "b2"):
        assert f"change of {name}:" in verdict.message
    assert "(it is 0.1 x the expected change" in verdict.message


def test_step_check_rejects_logits_from_forward(checks):
    with pytest.raises(CheckFailed, match="must return probabilities"):
        _step_verdict(checks, _solution_source("forward_returns_logits"))


def test_step_check_finds_parameters_by_behaviour_not_name(checks):
    """Transposed float32 weights under other names, column biases, caches and gradient
    buffers as attributes, a summed loss: all judged correct."""
    source = (FOLDER / "examples" / "transposed_float32_submission.py").read_text()
    for seed in range(3):
        verdict = _step_verdict(checks, source, seed)
        assert verdict.passed, verdict.message
        assert "weights_hidden (5, 6), bias_hidden (5, 1)" in verdict.message
        assert "grad_weights" not in verdict.message


def test_step_check_leaves_non_parameters_alone(checks):
    """A float array forward() never reads (here the learning rate) keeps its value."""
    source = _solution_source().replace("self.lr = lr\n", "self.lr = np.array([lr])\n", 1)
    assert "np.array([lr])" in source
    verdict = _step_verdict(checks, source)
    assert verdict.passed, verdict.message
    assert "lr (1,)" not in verdict.message


@pytest.mark.parametrize(
    ("values", "passes"),
    [
        (lambda rng, s: rng.standard_normal(s) * np.sqrt(2.0 / s[0]), True),  # He
        (lambda rng, s: rng.standard_normal(s) * np.sqrt(2.0 / sum(s)), True),  # Xavier
        (lambda rng, s: rng.uniform(-1, 1, s) * np.sqrt(6.0 / sum(s)), True),  # Xavier uniform
        (lambda rng, s: rng.standard_normal(s) * 0.01, False),  # a fixed small scale
        (lambda rng, s: rng.standard_normal(s), False),  # unscaled
        (lambda rng, s: np.full(s, 0.05), False),  # constant
        (lambda rng, s: rng.standard_normal(s) * np.sqrt(2.0 / s[0]) + 0.01, False),  # biased
        (lambda rng, s: rng.standard_normal(s[::-1]) * np.sqrt(2.0 / s[0]), False),  # transposed
    ],
)
def test_init_weights_statistics(checks, values, passes):
    rng = np.random.default_rng(3)
    shape = (784, 256)
    assert checks._init_verdict(values(rng, shape), shape).passed is passes


# -- real gradings in the local sandbox on genuine MNIST ----------------------------------


@pytest.fixture(scope="module")
def assignment():
    require(bwrap_path() is not None, "bubblewrap", "apt-get install bubblewrap")
    try:
        load_mnist("mnist")
        mnist = True
    except DatasetError:
        mnist = False
    require(mnist, "genuine MNIST", "scripts/fetch_data.sh")
    return load_assignment(FOLDER)


@pytest.fixture(scope="module")
def graded(assignment, tmp_path_factory):
    """Grade each submission at most once per module: label -> GradeReport."""
    reports: dict[str, GradeReport] = {}
    paths = {
        "solution": FOLDER / "solution",
        "starter": FOLDER / "starter",
        "script": FOLDER / "examples" / "script_submission.py",
    }

    def get(label: str) -> GradeReport:
        if label not in reports:
            path = paths.get(label)
            if path is None:  # a mutant, appended to the solution as the validator does
                path = tmp_path_factory.mktemp(label) / "np_mnist.py"
                path.write_text(_solution_source(label))
            reports[label] = grade(assignment, path, sandbox="local")
            assert reports[label].status == ReportStatus.GRADED, reports[label].message
        return reports[label]

    return get


def _by_name(report: GradeReport) -> dict:
    return {c.name: c for c in report.checks}


def _accuracy(message: str) -> float:
    match = re.search(r"accuracy (\d+\.\d+)%", message)
    assert match, message
    return float(match.group(1)) / 100


@pytest.mark.mnist
def test_public_data_holds_training_images_only(assignment):
    folder = public_data_dir(assignment) / "mnist"
    genuine = load_mnist("mnist")
    sizes = {"train": 50_000, "val": 5_000, "test": 5_000}
    rows = []
    for split, n in sizes.items():
        x, y = np.load(folder / f"X_{split}.npy"), np.load(folder / f"y_{split}.npy")
        assert (x.shape, x.dtype, y.shape, y.dtype) == ((n, 784), np.float32, (n,), np.int64)
        assert x.min() >= 0.0 and x.max() <= 1.0
        rows.append(np.rint(x * 255).astype(np.uint8))
    public = np.concatenate(rows)
    # Exactly the 60,000 training images, each once; none of the 10,000 test images.
    assert sorted(r.tobytes() for r in public) == sorted(
        r.tobytes() for r in genuine.X_train.reshape(60_000, -1)
    )
    test_rows = {r.tobytes() for r in genuine.X_test.reshape(10_000, -1)}
    assert not any(r.tobytes() in test_rows for r in public)
    assert "practice test images" in (folder / "README.txt").read_text()


@pytest.mark.slow
@pytest.mark.mnist
def test_solution_scores_full_marks(assignment, graded):
    report = graded("solution")
    assert assignment.max_score == FULL_MARKS
    assert [c.name for c in report.checks if c.status != CheckStatus.PASSED] == []
    assert report.score == FULL_MARKS
    training = _by_name(report)["mnist_accuracy"].message
    assert "after 10 epochs of batch-64 SGD of Network(784, 128, 10, lr=0.1)" in training
    assert _accuracy(training) >= 0.96  # the solution has margin over the 94% threshold


@pytest.mark.slow
@pytest.mark.mnist
def test_starter_scores_zero(graded):
    report = graded("starter")
    assert report.score == 0
    assert all(c.status == CheckStatus.ERROR for c in report.checks)
    assert all("NotImplementedError" in c.message for c in report.checks)


@pytest.mark.slow
@pytest.mark.mnist
def test_script_form_is_graded_on_the_network_it_trained(graded):
    report = graded("script")
    checks = _by_name(report)
    training = checks["mnist_accuracy"]
    assert training.status == CheckStatus.PASSED, training.message
    assert "the network your file trained when it was loaded (global 'net')" in training.message
    assert _accuracy(training.message) >= 0.94
    assert "Epoch 10/10" in report.output  # it trained while being imported
    assert report.score == FULL_MARKS


@pytest.mark.slow
@pytest.mark.mnist
def test_bias_gradient_mutant_loses_the_step_checks_only(graded):
    report = graded("bias_gradient_forgotten")
    failed = {c.name for c in report.checks if c.status != CheckStatus.PASSED}
    assert failed == {"step_gradient", "step_gradient_other_sizes"}
    assert report.score == FULL_MARKS - 6 - 3
    message = _by_name(report)["step_gradient"].message
    assert re.search(
        r"change of b1: \d of 5 values differ; worst at index \[\d\]: got 0, ", message
    )


@pytest.mark.slow
@pytest.mark.mnist
def test_lr_ignored_mutant_fails_training_and_says_why(graded):
    report = graded("lr_ignored")
    checks = _by_name(report)
    failed = {name for name, c in checks.items() if c.status != CheckStatus.PASSED}
    assert failed == {"step_gradient", "step_gradient_other_sizes", "mnist_accuracy"}
    assert report.score == FULL_MARKS - 6 - 3 - 10
    assert "(it is 0.1 x the expected change" in checks["step_gradient"].message
    training = checks["mnist_accuracy"].message
    assert "is below the 94% threshold" in training and "training took" in training
    assert _accuracy(training) < 0.94
