"""Forgeries of the MNIST homework (issue 18's classes, built here, none of them shipped):
answers looked up by order of arrival or by a fingerprint of the public test images, a
lookup inside the network the grader trains, the class renaming read off the per-class
counts, and weights trained elsewhere with the pixel order recovered from the given files.

Each forgery is first shown to work against the public facts it is keyed on (so that a
0 below means something), then graded: 0 on accuracy where the grader drives training
(homework 1's module form), and in a file that trains itself 0 where the design allows
or a specific flag for a TA. The first group runs in-process; the rest grade in the local
sandbox on genuine MNIST (no training to speak of: forgeries do not train).

Templates live in mnist_attacks/; what they need of the genuine data (labels, fingerprints,
weights) is filled in here and never stored.
"""

from __future__ import annotations

import base64
import hashlib
import re
import types
from pathlib import Path

import numpy as np
import pytest

from grader import mnist_homework as mnist
from grader import training
from grader.assignment import load_assignment
from grader.checks import StudentError
from grader.engine import grade
from grader.messages import CheckStatus, ReportStatus, ta_flags
from grader.sandbox.local import bwrap_path
from tests.conftest import require, require_dataset

ROOT = Path(__file__).resolve().parents[2]
HOMEWORK_1 = ROOT / "assignments" / "mnist-numpy-mlp"
ATTACKS = Path(__file__).resolve().parent / "mnist_attacks"
ENTRY = {
    "mnist-numpy-mlp": "np_mnist.py",
    "mnist-torch-mlp": "torch_mnist.py",
    "mnist-cnn": "cnn_mnist.py",
}


def _solution() -> str:
    return (HOMEWORK_1 / "solution" / "np_mnist.py").read_text()


# -- homework 1's replay of the grader's epochs, on an in-process stand-in --------------------


class _Ctx:
    def progress(self, text: str) -> None:
        pass


class _LocalNet:
    """A network in this process, offered as the sandbox offers one (copies both ways)."""

    def __init__(self, obj: object, root: Path) -> None:
        self.obj, self.root = obj, root

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            k: np.array(v)
            for k, v in vars(self.obj).items()
            if isinstance(v, np.ndarray) and v.dtype.kind == "f"
        }

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.array(self.obj.forward(np.array(x)))

    def call(self, method: str, x: np.ndarray) -> np.ndarray:
        return np.array(getattr(self.obj, method)(np.array(x)))

    def train_epoch(self, x, y, *, batch_size, one_hot, order, **_) -> int:
        """What the runner's op_epoch does, with the batches the grader chose."""
        xs, ys = np.load(self.root / "data" / x), np.load(self.root / "data" / y)
        eye = np.eye(one_hot)
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            try:
                self.obj.step(xs[idx], eye[ys[idx]])
            except Exception as exc:
                raise StudentError(CheckStatus.ERROR, f"{type(exc).__name__}: {exc}") from None
        return len(xs)


def _replay(tmp_path: Path, source: str, n: int = 640, hidden: int = 16):
    """Homework 1's grader-driven training (checks._replayed_epochs) of ``source``'s
    Network on ``n`` random training rows."""
    checks = load_assignment(HOMEWORK_1).module
    rng = np.random.default_rng(0)
    folder = tmp_path / "data" / "run0"
    folder.mkdir(parents=True)
    for split, rows in (("train", n), ("val", n // 4)):
        np.save(folder / f"X_{split}.npy", rng.random((rows, 784)).astype(np.float32))
        np.save(folder / f"y_{split}.npy", rng.integers(0, 10, rows))
    module = types.ModuleType("np_mnist")
    exec(compile(source, "np_mnist.py", "exec"), module.__dict__)
    net = _LocalNet(module.Network(784, hidden, 10, lr=0.1), tmp_path)
    session = types.SimpleNamespace(
        sandbox=types.SimpleNamespace(spec=types.SimpleNamespace(root=tmp_path))
    )
    student = types.SimpleNamespace(_session=session)
    rc = training.RunContext(checks.TASK, student, _Ctx(), 0, 5, checks.TASK.relabelling(5, 0))
    rc._convention = "plain"
    start = checks._parameters(rc, net, hidden)
    assert start is not None
    return checks._replayed_epochs(rc, net, hidden, 0.1, start)


@pytest.mark.mnist
@pytest.mark.parametrize(
    "source",
    [
        HOMEWORK_1 / "solution" / "np_mnist.py",
        HOMEWORK_1 / "examples" / "transposed_float32_submission.py",  # float32, summed loss
    ],
)
def test_sgd_as_the_template_asks_passes_the_replay(tmp_path, source):
    require_dataset("mnist")
    _, (layout, arrays) = _replay(tmp_path, source.read_text())
    assert len(layout.names) == 4 and all(np.isfinite(v).all() for v in arrays.values())


STEP_LOADS_WEIGHTS = """

class Network(Network):
    # A step() that, once, puts weights of its own in place of the gradient step.
    calls = 0

    def step(self, x_batch, y_batch):
        Network.calls += 1
        if Network.calls == 5:
            rng = np.random.default_rng(9)
            self.W1 = rng.normal(0.0, 0.05, self.W1.shape)
            return 0.0
        return super().step(x_batch, y_batch)
"""

STEP_DOES_NOTHING = """

class Network(Network):
    def step(self, x_batch, y_batch):
        return 0.0
"""

STEP_WITH_MOMENTUM = """

class Network(Network):
    # SGD with momentum: a fine optimiser, but not the step() the template asks for.
    def step(self, x_batch, y_batch):
        before = {k: getattr(self, k).copy() for k in ("W1", "b1", "W2", "b2")}
        loss = super().step(x_batch, y_batch)
        velocity = getattr(self, "_velocity", {k: 0.0 for k in before})
        for k, old in before.items():
            velocity[k] = 0.9 * velocity[k] + (getattr(self, k) - old)
            setattr(self, k, old + velocity[k])
        self._velocity = velocity
        return loss
"""


@pytest.mark.mnist
@pytest.mark.parametrize(
    ("appended", "says", "flag"),
    [
        (STEP_LOADS_WEIGHTS, "did not move the parameters as SGD", "training is not SGD"),
        (STEP_DOES_NOTHING, "left every parameter", "a learner that never takes a gradient step"),
        (STEP_WITH_MOMENTUM, "did not move the parameters as SGD", "training is not SGD"),
    ],
)
def test_training_that_is_not_the_gradient_step_fails_the_replay(tmp_path, appended, says, flag):
    require_dataset("mnist")
    with pytest.raises(training.Suspicious) as failure:
        _replay(tmp_path, _solution() + appended)
    assert says in str(failure.value) and failure.value.flag.startswith(flag)


# -- the forgeries, built from the genuine data ----------------------------------------------


@pytest.fixture(scope="module")
def genuine():
    return require_dataset("mnist")


def _public_counts(genuine) -> str:
    """The per-digit counts of the public split's training labels (public: the split is)."""
    return " ".join(str(c) for c in np.bincount(genuine.y_train[mnist.split_rows()["train"]]))


def _packed_labels(genuine) -> str:
    y = genuine.y_test.astype(np.uint8)
    return base64.b64encode(((y[0::2] << 4) | y[1::2]).tobytes()).decode()


def _sorted_fingerprint(row: np.ndarray) -> int:
    values = np.sort(row.reshape(-1))
    return int.from_bytes(hashlib.blake2b(values.tobytes(), digest_size=4).digest(), "little")


def _fingerprint_table(genuine) -> str:
    records = np.zeros(10_000, dtype=[("key", "<u4"), ("label", "u1")])
    records["key"] = [_sorted_fingerprint(r) for r in genuine.X_test]
    records["label"] = genuine.y_test
    text = base64.b64encode(records.tobytes()).decode()
    words = [text[i : i + 36] for i in range(0, len(text), 36)]  # under any "long run" rule
    return "\n".join(" ".join(words[i : i + 2]) for i in range(0, len(words), 2))


def _filled(name: str, genuine, **extra: str) -> str:
    text = (ATTACKS / name).read_text()
    fills = {"@COUNTS@": _public_counts(genuine), "@LABELS@": _packed_labels(genuine)}
    if "@TABLE@" in text:
        fills["@TABLE@"] = _fingerprint_table(genuine)
    fills.update(extra)
    for key, value in fills.items():
        text = text.replace(key, value)
    return text


@pytest.fixture(scope="module")
def shipped_weights(genuine) -> str:
    """A 784-32-10 network trained here on the genuine public split (3 epochs of the
    solution's SGD), and 14 numbers per genuine pixel, as the forgery ships them."""
    module = types.ModuleType("np_mnist")
    exec(compile(_solution(), "np_mnist.py", "exec"), module.__dict__)
    x, y = mnist.public_splits()["train"]
    net = module.Network(784, 32, 10, lr=0.1)
    eye, rng = np.eye(10), np.random.default_rng(0)
    for _ in range(3):
        order = rng.permutation(len(x))
        for start in range(0, len(x), 64):
            net.step(x[order[start : start + 64]], eye[y[order[start : start + 64]]])
    plain = np.stack([x.mean(0), (x * x).mean(0), (x > 0).mean(0), (x > 0.5).mean(0)])
    by_class = np.stack([x[y == c].mean(0) for c in range(10)])
    parts = [net.W1, net.b1, net.W2, net.b2, plain, by_class]
    flat = np.concatenate([np.asarray(p, dtype="<f4").reshape(-1) for p in parts])
    text = base64.b64encode(flat.tobytes()).decode()
    return "\n".join(text[i : i + 36] for i in range(0, len(text), 36))


def _module(source: str) -> types.ModuleType:
    module = types.ModuleType("forgery")
    exec(compile(source, "forgery.py", "exec"), module.__dict__)
    return module


def _accuracy(predicted: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean(np.asarray(predicted) == truth))


# -- each forgery works against the public facts it is keyed on -------------------------------


@pytest.mark.mnist
def test_the_lookups_work_where_the_public_order_counts_and_bytes_are_shown(
    genuine, tmp_path, monkeypatch
):
    """What the grader showed before: the whole split (its counts), the test images in their
    public order and public bytes. Both lookups then answer every image right."""
    relabelling = training.Relabelling.draw(4, 0, 10, 784)
    (tmp_path / "data").mkdir()
    y_split = genuine.y_train[mnist.split_rows()["train"]].astype(np.int64)
    np.save(tmp_path / "data" / "y_train.npy", relabelling.labels(y_split))
    monkeypatch.chdir(tmp_path)
    x_test, y_test = mnist.genuine_test()
    shown, truth = relabelling.images(x_test), relabelling.labels(y_test)
    by_arrival = _module(_filled("labels_by_arrival.py", genuine)).net
    by_arrival.forward(shown[:500])  # the grader's sample of validation rows comes first
    answers = [by_arrival.forward(shown[i : i + 2000]) for i in range(0, 10_000, 2000)]
    assert _accuracy(np.argmax(np.concatenate(answers), 1), truth) == 1.0
    by_fingerprint = _module(_filled("labels_by_fingerprint.py", genuine)).net
    assert _accuracy(np.argmax(by_fingerprint.forward(shown), 1), truth) == 1.0


@pytest.mark.mnist
def test_counts_gave_the_renaming_away_before_the_subsample(genuine, tmp_path, monkeypatch):
    """The renaming the two lookups read off the counts: right for the whole split, about
    chance for this grading's subsample (tests/grader/test_public_keys.py over 30 seeds)."""
    (tmp_path / "data").mkdir()
    monkeypatch.chdir(tmp_path)
    y_split = genuine.y_train[mnist.split_rows()["train"]].astype(np.int64)
    relabelling = training.Relabelling.draw(4, 0, 10, 784)
    np.save(tmp_path / "data" / "y_train.npy", relabelling.labels(y_split))
    assert np.array_equal(
        _module(_filled("labels_by_arrival.py", genuine)).net.name, relabelling.classes
    )
    rows = relabelling.subsample(y_split, "train")
    np.save(tmp_path / "data" / "y_train.npy", relabelling.labels(y_split[rows]))
    guessed = _module(_filled("labels_by_arrival.py", genuine)).net.name
    assert np.sum(guessed == relabelling.classes) <= 4


@pytest.mark.mnist
@pytest.mark.slow
def test_shipped_weights_recover_the_pixel_order_from_this_gradings_files(
    genuine, shipped_weights, tmp_path, monkeypatch
):
    """The forgery's weights, put in place by its first step(), classify the test images as
    this grading shows them (secret subsample, pixels, names, noise): 94% and more. Only a
    check of the training itself can stop it."""
    task = load_assignment(HOMEWORK_1).module.TASK
    relabelling = task.relabelling(4, 0)
    task.write_data(tmp_path / "data", relabelling)
    monkeypatch.chdir(tmp_path)
    forgery = (
        _solution()
        + "\n\n"
        + _filled("shipped_weights_pixel_order.py", genuine, **{"@WEIGHTS@": shipped_weights})
    )
    net = _module(forgery).Network(784, 32, 10, lr=0.1)
    before = net.W1.copy()
    net.step(np.zeros((2, 784)), np.eye(10)[[0, 1]])
    assert not np.array_equal(net.W1, before)
    x_test, y_test = mnist.genuine_test()
    showing = training.Showing.draw(training.relabel_seed(4, 0), 10_000)
    answers = np.argmax(net.forward(relabelling.images(showing.images(x_test))), axis=1)
    assert _accuracy(showing.per_image(answers), relabelling.labels(y_test)) >= 0.94


# -- graded in the local sandbox -----------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox(genuine):
    require(bwrap_path() is not None, "bubblewrap", "apt-get install bubblewrap")


def _graded(homework: str, source: str, tmp_path: Path):
    assignment = load_assignment(ROOT / "assignments" / homework)
    path = tmp_path / ENTRY[homework]
    path.write_text(source)
    report = grade(assignment, path, sandbox="local", seed=2026)
    assert report.status == ReportStatus.GRADED, report.message
    return {c.name: c for c in report.checks}


def _flags(message: str) -> list[str]:
    """The items the check's message lists for a TA (as the staff pages read them)."""
    return ta_flags([{"message": message}])


def _run_accuracy(message: str) -> float | None:
    match = re.search(r"test accuracy (\d+\.\d+)%", message)
    return float(match.group(1)) / 100 if match else None


@pytest.mark.mnist
@pytest.mark.parametrize("homework", list(ENTRY))
def test_answers_by_arrival_score_zero_and_are_flagged(sandbox, genuine, tmp_path, homework):
    result = _graded(homework, _filled("labels_by_arrival.py", genuine), tmp_path)["mnist_accuracy"]
    assert (result.status, result.score) == (CheckStatus.FAILED, 0), result.message
    assert "shown twice, in different batches" in result.message
    flags = _flags(result.message)
    assert any(f.startswith("answers depend on the order of the test images") for f in flags)
    assert "it embeds 5.0 kB of data in its literals (base64-like text)" in flags
    assert "not verified: how the file trained" in result.message


@pytest.mark.mnist
@pytest.mark.parametrize("homework", list(ENTRY))
def test_answers_by_fingerprint_score_zero(sandbox, genuine, tmp_path, homework):
    source = _filled("labels_by_fingerprint.py", genuine)
    result = _graded(homework, source, tmp_path)["mnist_accuracy"]
    assert (result.status, result.score) == (CheckStatus.FAILED, 0), result.message
    accuracy = _run_accuracy(result.message)
    assert accuracy is not None and accuracy < 0.2, result.message  # chance
    assert training.VERIFIED not in result.message
    # Cut into 36-character words, the table is still found and pointed out.
    flags = _flags(result.message)
    assert any(f.startswith("it embeds 50.0 kB of data in its literals") for f in flags)


@pytest.mark.mnist
def test_a_lookup_inside_the_network_the_grader_trains_scores_zero(sandbox, genuine, tmp_path):
    source = _solution() + "\n\n" + _filled("lookup_inside_network.py", genuine)
    checks = _graded("mnist-numpy-mlp", source, tmp_path)
    result = checks["mnist_accuracy"]
    assert (result.status, result.score) == (CheckStatus.FAILED, 0), result.message
    flags = _flags(result.message)
    assert any(f.startswith("a learner that never takes a gradient step") for f in flags)
    # Its template functions are all there: their own checks judge them, the step ones fail.
    assert checks["step_gradient"].status == CheckStatus.FAILED


@pytest.mark.mnist
@pytest.mark.slow
def test_shipped_weights_with_the_pixel_order_recovered_score_zero(
    sandbox, genuine, shipped_weights, tmp_path
):
    weights = {"@WEIGHTS@": shipped_weights}
    source = _solution() + "\n\n" + _filled("shipped_weights_pixel_order.py", genuine, **weights)
    result = _graded("mnist-numpy-mlp", source, tmp_path)["mnist_accuracy"]
    assert (result.status, result.score) == (CheckStatus.FAILED, 0), result.message
    assert "in training epoch 1, step() did not move the parameters as SGD" in result.message
    assert any(f.startswith("training is not SGD: in epoch 1") for f in _flags(result.message))
