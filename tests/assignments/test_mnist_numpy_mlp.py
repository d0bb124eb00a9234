"""Homework 1 (NumPy MLP on MNIST): its checks judge step() by the numerical gradient, the
training check cannot be passed without a network that earned its accuracy, and its
gradings give the scores and messages the manifest promises.

The first groups run checks in-process against a stand-in for the sandbox (fast, no
bubblewrap, few need MNIST); the last grades real submissions in the local sandbox,
training on genuine MNIST, each one once per module: the solution and differently
written honest submissions, mutants, and attacks on the training check (forward()
looking test images up, asking a nearest-neighbour classifier, trained weights loaded
by __init__ or swapped in by step(), shipped weights with a step() that does nothing).
Attacks that need the genuine test labels or trained weights are built here, from
templates in mnist_attacks/, and never stored.
"""

from __future__ import annotations

import base64
import hashlib
import re
import types
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812 (the PyTorch idiom)

from grader.assignment import load_assignment
from grader.checks import CheckFailed
from grader.engine import grade, public_data_dir
from grader.messages import CheckStatus, GradeReport, ReportStatus
from grader.sandbox.local import bwrap_path
from reference.data import DatasetError, load_mnist
from reference.networks import MLP
from tests.conftest import require, require_dataset

FOLDER = Path(__file__).resolve().parents[2] / "assignments" / "mnist-numpy-mlp"
ATTACKS = Path(__file__).resolve().parent / "mnist_attacks"
FULL_MARKS = 35.0
TORCH_RTOL = 1e-10  # the same float64 maths in another order: agreement to ~1e-14 expected
THRESHOLD = 0.94  # the training check's accuracy threshold, which each attack must beat


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


# -- the training check's trusted side, in-process -----------------------------------------


@pytest.fixture
def one_thread() -> Iterator[None]:
    """Torch on one thread: deterministic sums and no fight with other tests for 2 cores."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def _small_params(rng: np.random.Generator, d: int, h: int, c: int) -> dict[str, np.ndarray]:
    return {
        "W1": rng.normal(0.0, 0.4, (d, h)),
        "b1": rng.normal(0.0, 0.1, h),
        "W2": rng.normal(0.0, 0.4, (h, c)),
        "b2": rng.normal(0.0, 0.1, c),
    }


def _torch_scores(params: dict[str, np.ndarray], x: np.ndarray) -> torch.Tensor:
    t = {k: torch.tensor(v, dtype=torch.float64) for k, v in params.items()}
    xt = torch.tensor(x, dtype=torch.float64)
    return torch.relu(xt @ t["W1"] + t["b1"]) @ t["W2"] + t["b2"]


def test_trusted_scores_match_pytorch(checks, one_thread):
    rng = np.random.default_rng(1)
    params = _small_params(rng, 784, 16, 10)
    x = rng.random((4500, 784)).astype(np.float32)  # more than one chunk of 2,000
    expected = _torch_scores(params, x).numpy()
    np.testing.assert_allclose(checks._scores(params, x), expected, rtol=TORCH_RTOL, atol=1e-12)


@pytest.mark.parametrize("summed", [False, True])
def test_sgd_epoch_matches_pytorch_sgd(checks, one_thread, summed):
    """The grader's repeat of an epoch is torch.optim.SGD on the cross-entropy, batch by
    batch in the given order, the last batch short; `summed` sums the loss over a batch."""
    rng = np.random.default_rng(2)
    params = _small_params(rng, 12, 7, 4)
    x, labels = rng.standard_normal((150, 12)), rng.integers(0, 4, 150)
    order = rng.permutation(150)
    got = checks._sgd_epoch(params, x, labels, order, lr=0.05, summed=summed, batch_size=64)
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    opt = torch.optim.SGD(list(t.values()), lr=0.05)
    xt, yt = torch.tensor(x), torch.tensor(labels)
    for start in range(0, 150, 64):
        rows = torch.tensor(order[start : start + 64])
        logits = torch.relu(xt[rows] @ t["W1"] + t["b1"]) @ t["W2"] + t["b2"]
        loss = F.cross_entropy(logits, yt[rows], reduction="sum" if summed else "mean")
        opt.zero_grad()
        loss.backward()
        opt.step()
    for k, v in t.items():
        np.testing.assert_allclose(got[k], v.detach().numpy(), rtol=TORCH_RTOL, atol=1e-12)


def test_disagreement_accepts_the_network_as_probabilities_logits_or_log_probabilities(checks):
    rng = np.random.default_rng(3)
    scores = rng.normal(0.0, 5.0, (40, 10))
    probs = torch.softmax(torch.tensor(scores), dim=1).numpy()
    log_probs = torch.log_softmax(torch.tensor(scores), dim=1).numpy()
    for out in (probs, probs.astype(np.float32), scores, log_probs, scores.astype(np.float32)):
        assert checks._disagreement(out, scores).max() <= 1.0
    one_hot = np.eye(10)[np.argmax(scores, axis=1)]  # right classes, not the network's output
    assert (checks._disagreement(one_hot, scores) > 1.0).any()
    nudged = probs.copy()
    nudged[7] = np.roll(nudged[7], 1)  # one row another network's
    assert np.flatnonzero(checks._disagreement(nudged, scores) > 1.0).tolist() == [7]


def _fresh(source: str, hidden: int = 16, lr: float = 0.1) -> _LocalObject:
    return _LocalStudent(source).new("Network", 784, hidden, 10, lr=lr)


def test_identify_reads_weights_in_either_orientation_and_any_bias_shape(checks):
    source = (FOLDER / "examples" / "transposed_float32_submission.py").read_text()
    net = _fresh(source)
    x = np.random.default_rng(4).random((50, 784)).astype(np.float32)
    y = np.eye(10)[np.arange(50) % 10]
    for _ in range(3):  # biases no longer zero, gradient buffers hold values
        net.step(x, y)
    weights = checks._identify(net, x, "Network(784, 16, 10)")
    # Only this reading: without the (small) biases forward() is matched less well.
    assert [layout.describe() for layout in weights.layouts] == [
        "W1 = weights_hidden.T, b1 = bias_hidden, W2 = weights_out.T, b2 = bias_out"
    ]
    assert weights.params["W1"].shape == (784, 16)


def test_identify_keeps_every_reading_of_the_same_values(checks):
    """Untrained, a zero bias, a zero gradient buffer and no bias read alike: all are kept,
    so that training can tell them apart later."""
    source = _solution_source().replace(
        "self.b2 = np.zeros(output_size)\n",
        "self.b2 = np.zeros(output_size)\n        self.a_grad_b2 = np.zeros(output_size)\n",
    )
    x = np.random.default_rng(4).random((50, 784))
    weights = checks._identify(_fresh(source), x, "Network(784, 16, 10)")
    assert sorted(layout.describe() for layout in weights.layouts) == [
        "W1, b1, W2, b2",
        "W1, b1, W2, b2 = a_grad_b2",
        "W1, b1, W2, no b2",
        "W1, no b1, W2, b2",
        "W1, no b1, W2, b2 = a_grad_b2",
        "W1, no b1, W2, no b2",
    ]
    assert " no " not in weights.describe()  # readings with both biases come first


def test_identify_rejects_a_forward_that_ignores_the_weights(checks):
    """forward() answering with one-hot rows from another rule (a lookup, a classifier)."""
    source = _solution_source() + (
        "\n\nNetwork.forward = lambda self, x: np.eye(10)[np.argmax(np.asarray(x)[:, :10], 1)]\n"
    )
    x = np.random.default_rng(5).random((50, 784)).astype(np.float32)
    with pytest.raises(
        CheckFailed, match=r"forward\(\) does not follow from the network's weights"
    ):
        checks._identify(_fresh(source), x, "Network(784, 16, 10)")


def test_identify_says_where_the_weights_must_be(checks):
    source = _solution_source() + (
        "\n\n_init = Network.__init__\n"
        "def _in_a_dict(self, *args, **kwargs):\n"
        "    _init(self, *args, **kwargs)\n"
        "    self.params = {'W1': self.__dict__.pop('W1'), 'W2': self.__dict__.pop('W2')}\n"
        "Network.__init__ = _in_a_dict\n"
        "Network._forward = lambda self, x: (None, None, None, f(relu(np.asarray(x) @ "
        "self.params['W1'] + self.b1) @ self.params['W2'] + self.b2))\n"
    )
    x = np.random.default_rng(6).random((50, 784))
    with pytest.raises(CheckFailed, match=r"found no float array attributes shaped like W1"):
        checks._identify(_fresh(source), x, "Network(784, 16, 10)")


def test_audit_follows_the_same_weights_from_start_to_end(checks):
    """A second set of arrays, trained elsewhere, cannot take over forward() mid-training."""
    source = _solution_source() + (
        "\n\nclass Network(Network):\n"
        "    def __init__(self, *args, **kwargs):\n"
        "        super().__init__(*args, **kwargs)\n"
        "        self.V1, self.c1 = self.W1 * 2.0, self.b1 + 0.5\n"
        "        self.V2, self.c2 = self.W2 * 3.0, self.b2 + 0.1\n"
        "        self.other = False\n"
        "    def _forward(self, x):\n"
        "        if not self.other:\n"
        "            return super()._forward(x)\n"
        "        a1 = relu(np.asarray(x, dtype=np.float64) @ self.V1 + self.c1)\n"
        "        return None, None, None, f(a1 @ self.V2 + self.c2)\n"
    )
    net = _fresh(source)
    x = np.random.default_rng(7).random((50, 784))
    weights = checks._identify(net, x, "Network(784, 16, 10)")
    assert weights.describe() == "W1, b1, W2, b2"
    net.set("other", True)  # a bool: the stand-in copies arrays only
    audit = checks._SgdAudit(0.1, x)
    with pytest.raises(CheckFailed, match="no longer follows from the arrays that were"):
        audit.epoch(1, weights, net.arrays(), net.forward(x))


def _trained_in_process(source: str, x, labels, order, lr: float) -> tuple[dict, dict]:
    """Parameters of the solution's Network(12, 7, 4) before and after one epoch of step()."""
    net = _LocalStudent(source).new("Network", 12, 7, 4, lr=lr)
    before = {k: np.array(v) for k, v in net.arrays().items()}
    eye = np.eye(4)
    for start in range(0, len(order), 64):
        rows = order[start : start + 64]
        net.step(x[rows], eye[labels[rows]])
    return before, {k: np.array(v) for k, v in net.arrays().items()}


@pytest.fixture
def small_epoch():
    rng = np.random.default_rng(8)
    x, labels = rng.standard_normal((300, 12)), rng.integers(0, 4, 300)
    return x, labels, rng.permutation(300)


def _drift(checks, before, after, x, labels, order, lr=0.1):
    layout = checks._Layout("W1", False, "b1", "W2", False, "b2", 7)
    keys = ("W1", "b1", "W2", "b2")
    before = {k: before[k] for k in keys}
    after = {k: after[k] for k in keys}
    replayed = checks._sgd_epoch(before, x, labels, order, lr, summed=False)
    return checks._Drift.of(before, after, replayed, layout)


def test_drift_of_an_honest_epoch_is_rounding_only(checks, small_epoch):
    before, after = _trained_in_process(_solution_source(), *small_epoch, lr=0.1)
    drift = _drift(checks, before, after, *small_epoch)
    assert drift.ratio < 1e-12  # the same float64 SGD, summed in another order
    assert drift.passed and drift.off_pace == ""


def test_drift_names_a_layer_that_does_not_learn(checks, small_epoch):
    """Random features under a trained read-out: the hidden layer never moves."""
    source = _solution_source() + (
        "\n\ndef _step_read_out_only(self, x_batch, y_batch):\n"
        "    x, z1, a1, y_pred = self._forward(x_batch)\n"
        "    dz2 = loss_fn_prime(y_batch, y_pred)\n"
        "    self.W2 -= self.lr * (a1.T @ dz2)\n"
        "    self.b2 -= self.lr * dz2.sum(axis=0)\n\n\n"
        "Network.step = _step_read_out_only\n"
    )
    before, after = _trained_in_process(source, *small_epoch, lr=0.1)
    drift = _drift(checks, before, after, *small_epoch)
    assert not drift.passed
    assert drift.off_pace.startswith("W1 travelled 0 times as far as the grader's SGD takes it")


def test_drift_names_a_step_that_does_nothing(checks, small_epoch):
    before, _ = _trained_in_process(_solution_source(), *small_epoch, lr=0.1)
    drift = _drift(checks, before, before, *small_epoch)
    assert drift.ratio == pytest.approx(1.0, rel=1e-12)  # standing still: off by all of SGD
    assert drift.ratio > checks.SGD_DRIFT_LIMIT
    assert drift.hint == "your weights did not change during the epoch"


def test_drift_names_a_learning_rate_ten_times_too_small(checks, small_epoch):
    before, after = _trained_in_process(_solution_source(), *small_epoch, lr=0.01)
    drift = _drift(checks, before, after, *small_epoch, lr=0.1)
    assert re.fullmatch(r"they moved along SGD's path but 0\.1\d* times as far: .*", drift.hint)


def test_drift_of_swapped_in_weights(checks, small_epoch):
    before, after = _trained_in_process(_solution_source(), *small_epoch, lr=0.1)
    elsewhere = {
        k: v + np.random.default_rng(9).normal(0.0, 1.0, v.shape) for k, v in after.items()
    }
    drift = _drift(checks, before, elsewhere, *small_epoch)
    assert drift.ratio > 3
    assert "times as far as SGD moves them in this epoch" in drift.hint
    assert "weights put in place by other means" in drift.hint


# -- the attacks: they would pass without the defences ------------------------------------


def _fingerprints(images: np.ndarray) -> list[int]:
    """What the lookup attack keys its table by: a 4-byte hash of each image's pixels."""
    rows = images.reshape(images.shape[0], -1)
    return [
        int.from_bytes(hashlib.blake2b(r.tobytes(), digest_size=4).digest(), "little") for r in rows
    ]


def _lookup_table_source(genuine) -> str:
    """The solution with forward() looking MNIST's test images up (table filled in here)."""
    records = np.zeros(10_000, dtype=[("key", "<u4"), ("label", "u1")])
    records["key"] = _fingerprints(genuine.X_test)
    records["label"] = genuine.y_test
    table = base64.b64encode(records.tobytes()).decode()
    attack = (ATTACKS / "lookup_table.py").read_text().replace("@TABLE@", table)
    return _solution_source() + "\n\n" + attack


def _shipped_weights(genuine) -> dict[str, np.ndarray]:
    """Weights of a Network(784, 32, 10) trained for 3 epochs by the reference MLP."""
    x = genuine.X_train.reshape(60_000, -1).astype(np.float64) / 255.0
    mlp = MLP((784, 32, 10), rng=11)
    order_rng = np.random.default_rng(12)
    for _ in range(3):
        order = order_rng.permutation(60_000)
        for start in range(0, 60_000, 64):
            rows = order[start : start + 64]
            _, grads = mlp.loss(x[rows], genuine.y_train[rows])
            for k, g in grads.items():
                mlp.params[k] -= 0.1 * g
    return {k: v.astype(np.float16) for k, v in mlp.params.items()}


def _shipped_weights_source(weights: dict[str, np.ndarray]) -> str:
    blob = b"".join(weights[k].astype("<f2").tobytes() for k in ("W1", "b1", "W2", "b2"))
    attack = (ATTACKS / "shipped_weights.py").read_text()
    return (
        _solution_source() + "\n\n" + attack.replace("@WEIGHTS@", base64.b64encode(blob).decode())
    )


@pytest.fixture(scope="module")
def genuine():
    return require_dataset("mnist")


@pytest.fixture(scope="module")
def public_folder(genuine) -> Path:
    """The sandbox's data folder (mnist/X_train.npy, ...), for attacks run in-process."""
    return public_data_dir(load_assignment(FOLDER))


@pytest.fixture(scope="module")
def shipped(genuine):
    return _shipped_weights(genuine)


def _test_pixels(genuine) -> np.ndarray:
    """The test images as the grader sends them: float32 (N, 784) in [0, 1]."""
    return genuine.X_test.reshape(10_000, -1).astype(np.float32) / np.float32(255.0)


@pytest.mark.mnist
def test_lookup_attack_is_small_and_answers_every_test_image(genuine):
    source = _lookup_table_source(genuine)
    assert len(source) - len(_solution_source()) < 100_000  # a table a student could ship
    net = _fresh(source)
    predicted = np.argmax(net.forward(_test_pixels(genuine)), axis=1)
    assert np.array_equal(predicted, genuine.y_test)  # 100%: every answer looked up


@pytest.mark.mnist
def test_shipped_weights_beat_the_threshold(genuine, shipped, one_thread):
    params = {k: v.astype(np.float64) for k, v in shipped.items()}
    scores = _torch_scores(params, _test_pixels(genuine)).numpy()
    assert np.mean(np.argmax(scores, axis=1) == genuine.y_test) >= THRESHOLD


@pytest.mark.mnist
def test_nearest_neighbour_attack_beats_the_threshold(genuine, public_folder, monkeypatch):
    monkeypatch.chdir(public_folder)  # mnist/X_train.npy is found there, as in the sandbox
    net = _fresh(_solution_source("forward_knn_classifier"))
    out = net.forward(_test_pixels(genuine)[:1000])
    assert np.array_equal(out, np.eye(10)[np.argmax(out, axis=1)])  # one-hot, not the network
    assert np.mean(np.argmax(out, axis=1) == genuine.y_test[:1000]) >= THRESHOLD


@pytest.mark.mnist
@pytest.mark.parametrize(
    "mutant", ["pretrained_weights_at_init", "pretrained_weights_after_first_step"]
)
def test_pretrained_weight_attacks_are_trained_at_once(genuine, public_folder, monkeypatch, mutant):
    """Trained weights are in place after Network() or after its first step(): one epoch's
    worth, which the grader's ten epochs would have taken past the threshold."""
    monkeypatch.chdir(public_folder)
    net = _fresh(_solution_source(mutant), hidden=128)
    x_train = genuine.X_train[:64].reshape(64, -1).astype(np.float32) / np.float32(255.0)
    net.step(x_train, np.eye(10)[genuine.y_train[:64]])
    assert np.mean(np.argmax(net.forward(_test_pixels(genuine)), axis=1) == genuine.y_test) > 0.9


@pytest.mark.mnist
def test_chance_check_keeps_random_weights_and_rejects_trained_ones(checks, genuine, shipped):
    rng = np.random.default_rng(13)
    layout = checks._Layout("W1", False, "b1", "W2", False, "b2", 32)
    random = {"W1": rng.normal(0, 0.05, (784, 32)), "b1": np.zeros(32)}
    random |= {"W2": rng.normal(0, 0.25, (32, 10)), "b2": np.zeros(10)}
    checks._at_chance(checks._Weights((layout,), random), "Network(784, 32, 10)")
    trained = {k: v.astype(np.float64) for k, v in shipped.items()}
    with pytest.raises(CheckFailed, match=r"already classifies 9\d\.\d\d% of the test images"):
        checks._at_chance(checks._Weights((layout,), trained), "Network(784, 32, 10)")


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
def graded(assignment, tmp_path_factory, request):
    """Grade each submission at most once per module: label -> GradeReport."""
    reports: dict[str, GradeReport] = {}
    paths = {
        "solution": FOLDER / "solution",
        "starter": FOLDER / "starter",
        "script": FOLDER / "examples" / "script_submission.py",
        "transposed": FOLDER / "examples" / "transposed_float32_submission.py",
    }
    # Attacks built here: they hold the genuine test labels or trained weights.
    attacks = {
        "lookup_table": lambda: _lookup_table_source(request.getfixturevalue("genuine")),
        "shipped_weights": lambda: _shipped_weights_source(request.getfixturevalue("shipped")),
        "script_lookup": lambda: (
            _lookup_table_source(request.getfixturevalue("genuine"))
            + "\n\n"
            + (ATTACKS / "trains_at_import.py").read_text()
        ),
    }

    def get(label: str) -> GradeReport:
        if label not in reports:
            path = paths.get(label)
            if path is None:  # a mutant, appended to the solution as the validator does
                path = tmp_path_factory.mktemp(label) / "np_mnist.py"
                build = attacks.get(label)
                path.write_text(build() if build else _solution_source(label))
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
    assert "each epoch checked against the grader's own SGD, from a random start" in training
    assert "computed from the weights W1, b1, W2, b2, which forward() follows" in training
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
    # What the grader can and cannot vouch for, said in the report.
    assert "the grader did not train it, and checked only that its predictions follow" in (
        training.message
    )
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
    # The grader's repeat of the first epoch at lr=0.1 moves the weights much further.
    training = checks["mnist_accuracy"].message
    assert training.startswith("epoch 1/10 did not change the weights the way SGD does")
    assert re.search(r"travelled 0\.\d+ times as far as the grader's SGD takes it", training)


def _failed(report: GradeReport) -> set[str]:
    return {c.name for c in report.checks if c.status != CheckStatus.PASSED}


@pytest.mark.slow
@pytest.mark.mnist
def test_transposed_float32_submission_scores_full_marks(graded):
    """Weights (fan_out, fan_in) under other names, column biases, float32, a summed loss:
    identified, its every epoch matched by the grader's SGD, full marks."""
    report = graded("transposed")
    assert _failed(report) == set()
    assert report.score == FULL_MARKS
    training = _by_name(report)["mnist_accuracy"].message
    assert (
        "computed from the weights W1 = weights_hidden.T, b1 = bias_hidden, "
        "W2 = weights_out.T, b2 = bias_out, which forward() follows"
    ) in training


FOLLOWS_NOT = "forward() does not compute the network's output from its weights"


@pytest.mark.slow
@pytest.mark.mnist
@pytest.mark.parametrize("attack", ["lookup_table", "forward_knn_classifier", "script_lookup"])
def test_forward_that_is_not_the_network_loses_the_training_check_only(graded, attack):
    """Test images looked up by fingerprint (module and script form), or classified by
    nearest neighbours: the accuracy is computed from the weights, which disagree."""
    report = graded(attack)
    assert _failed(report) == {"mnist_accuracy"}
    assert report.score == FULL_MARKS - 10
    message = _by_name(report)["mnist_accuracy"].message
    assert FOLLOWS_NOT in message
    match = re.search(
        r"on ([\d,]+) of the 10,000 test images .* another class for ([\d,]+)", message
    )
    assert match, message
    assert int(match.group(1).replace(",", "")) >= int(match.group(2).replace(",", "")) > 0


def _initial_accuracy(message: str) -> float:
    match = re.search(r"already classifies (\d+\.\d+)% of the test images", message)
    assert match, message
    return float(match.group(1)) / 100


@pytest.mark.slow
@pytest.mark.mnist
def test_weights_loaded_by_init_fail_the_chance_check(graded):
    report = graded("pretrained_weights_at_init")
    assert _failed(report) == {"mnist_accuracy"}
    message = _by_name(report)["mnist_accuracy"].message
    assert message.startswith("before any training, the untrained Network(784, 128, 10, lr=0.1)")
    assert _initial_accuracy(message) > 0.9
    assert "__init__ must not start from trained weights" in message


@pytest.mark.slow
@pytest.mark.mnist
def test_shipped_weights_with_a_step_that_does_nothing(graded):
    """The would-be full-marks forgery of a student without back-propagation: it keeps
    only the unit checks."""
    report = graded("shipped_weights")
    assert _failed(report) == {"step_gradient", "step_gradient_other_sizes", "mnist_accuracy"}
    assert report.score == FULL_MARKS - 6 - 3 - 10
    message = _by_name(report)["mnist_accuracy"].message
    assert message.startswith("before any training, the untrained Network(784, 32, 10, lr=0.1)")
    assert _initial_accuracy(message) >= THRESHOLD


@pytest.mark.slow
@pytest.mark.mnist
def test_weights_swapped_in_by_step_fail_the_epoch_audit(graded):
    report = graded("pretrained_weights_after_first_step")
    assert _failed(report) == {"mnist_accuracy"}
    message = _by_name(report)["mnist_accuracy"].message
    assert message.startswith("epoch 1/10 did not change the weights the way SGD does")
    assert re.search(r"they moved \d+(\.\d+)? times as far as SGD moves them", message)
    assert "weights put in place by other means" in message


@pytest.mark.slow
@pytest.mark.mnist
def test_batch_mean_mutant_trains_off_sgd_and_is_told_so(graded):
    """A real mistake, not an attack: the first layer's summed gradients train it at 64x
    the learning rate, which the epoch audit sees (the manifest expects it to)."""
    report = graded("batch_mean_inconsistent")
    assert _failed(report) == {"step_gradient", "step_gradient_other_sizes", "mnist_accuracy"}
    message = _by_name(report)["mnist_accuracy"].message
    assert message.startswith("epoch 1/10 did not change the weights the way SGD does")
    assert "most of the difference is in W1" in message
