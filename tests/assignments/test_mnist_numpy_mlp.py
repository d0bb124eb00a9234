"""Homework 1 (NumPy MLP on MNIST) graded as the course's students hand it in.

The training check scores a network on data relabelled in secret for each grading
(grader/training.py): homework in every course style scores full marks, forgeries fall
to chance, and an accuracy near the threshold is decided by the median of three runs.

The first groups run in-process (fast; a few need MNIST); the last grades real
submissions in the local sandbox on genuine MNIST, each one once per module: the
solution, the starter, course-style examples, mutants and forgeries. Forgeries that need
the genuine labels, trained weights or shipped images are built here, from templates in
mnist_attacks/, and never stored.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import re
import types
from pathlib import Path

import numpy as np
import pytest

from grader import mnist_homework as mnist
from grader import training
from grader.assignment import load_assignment
from grader.checks import CheckFailed, StudentError, Verdict
from grader.engine import grade, prepare_root
from grader.messages import CheckStatus, GradeReport, ReportStatus
from grader.sandbox.local import bwrap_path
from grader.step_probe import step_check
from reference.data import DatasetError, load_mnist
from tests.assignments.kit import assert_validates
from tests.conftest import require, require_dataset

FOLDER = Path(__file__).resolve().parents[2] / "assignments" / "mnist-numpy-mlp"
EXAMPLES = FOLDER / "examples"
ATTACKS = Path(__file__).resolve().parent / "mnist_attacks"
FULL_MARKS = 45.0
ACCURACY_POINTS = 20.0
THRESHOLD = 0.94  # the training check's accuracy threshold, which each forgery must beat
COURSE_EXAMPLES = [
    "course_folded_bias.py",  # bias folded into W1 by the data, 3 layers, softmax, __main__
    "course_module_level_int_labels.py",  # trains at import, ./mnist/, int labels, plt.show
    "course_deep_per_sample.py",  # class MLP(sizes), per-sample losses, one-hot, __main__
    "script_submission.py",  # trains at import, f, one-hot helper
    "transposed_float32_submission.py",  # module form: the grader trains Network
]


def _solution_source(mutant: str | None = None) -> str:
    """The solution's text, with a mutant appended the way the validator appends it."""
    text = (FOLDER / "solution" / "np_mnist.py").read_text()
    if mutant is not None:
        text += "\n\n" + (FOLDER / "mutants" / f"{mutant}.py").read_text()
    return text


# -- the step check, against an in-process stand-in for the sandbox ------------------------


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
        return lambda *args: _as_student_error(method, *(np.array(a) for a in args))


def _as_student_error(fn, *args):
    """Call ``fn`` as the sandbox would: an exception comes back as a StudentError."""
    try:
        return fn(*args)
    except Exception as exc:
        raise StudentError(CheckStatus.ERROR, f"{type(exc).__name__}: {exc}") from None


class _LocalStudent:
    def __init__(self, source: str) -> None:
        self.module = types.ModuleType("np_mnist")
        exec(compile(source, "np_mnist.py", "exec"), self.module.__dict__)

    def new(self, name: str, *args: object, **kwargs: object) -> _LocalObject:
        return _LocalObject(getattr(self.module, name)(*args, **kwargs))


@pytest.fixture(scope="module")
def checks():
    return load_assignment(FOLDER).module


def _step_verdict(source: str, seed: int = 0) -> Verdict:
    return step_check(_LocalStudent(source), np.random.default_rng(seed), (6, 5, 3), n=4, lr=0.1)


def test_step_check_passes_the_solution():
    verdict = _step_verdict(_solution_source())
    assert verdict.passed, verdict.message
    assert "W1 (6, 5), b1 (5,), W2 (5, 3), b2 (3,)" in verdict.message
    assert "averaged over the batch" in verdict.message


def test_step_check_names_the_parameter_and_entry_that_are_wrong():
    verdict = _step_verdict(_solution_source("bias_gradient_forgotten"))
    assert not verdict.passed
    assert re.search(
        r"change of b1: \d of 5 values differ; worst at index \[\d\]: got 0, ", verdict.message
    )
    assert "(step() did not change it)" in verdict.message
    assert not re.search(r"change of (W1|W2|b2):", verdict.message)


def test_step_check_accepts_a_summed_loss_but_not_a_mixture():
    summed = _step_verdict(_solution_source("loss_fn_prime_summed"))
    assert summed.passed, summed.message
    assert "summed over the batch" in summed.message
    mixed = _step_verdict(_solution_source("batch_mean_inconsistent"))
    assert not mixed.passed
    assert "W1, b1 follow(s) the loss summed over the batch instead" in mixed.message


def test_step_check_reports_an_ignored_learning_rate():
    verdict = _step_verdict(_solution_source("lr_ignored"))
    assert not verdict.passed
    assert "(it is 0.1 x the expected change" in verdict.message


def test_step_check_rejects_logits_from_forward():
    with pytest.raises(CheckFailed, match="must return probabilities"):
        _step_verdict(_solution_source("forward_returns_logits"))


def test_step_check_finds_parameters_by_behaviour_not_name():
    """Transposed float32 weights under other names, column biases, caches and gradient
    buffers as attributes, a summed loss: all judged correct."""
    source = (EXAMPLES / "transposed_float32_submission.py").read_text()
    for seed in range(3):
        verdict = _step_verdict(source, seed)
        assert verdict.passed, verdict.message
        assert "weights_hidden (5, 6), bias_hidden (5, 1)" in verdict.message


def test_step_check_gives_integer_labels_to_a_step_that_wants_them():
    """The course's homework often passes labels, not one-hot rows, to step()."""
    source = (EXAMPLES / "course_module_level_int_labels.py").read_text()
    # The definitions only (this process has no tqdm, and loads no data).
    definitions = source[source.index("def relu(") : source.index("net = Network(784, 100")]
    source = "import numpy as np\n\nrng = np.random.default_rng(42)\n\n" + definitions
    verdict = _step_verdict(source)
    assert verdict.passed, verdict.message


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


# -- the secret relabelling ------------------------------------------------------------------


def test_relabelling_is_a_derangement_and_a_pixel_permutation():
    for seed in range(200):
        r = training.Relabelling.draw(seed, 0, 10, 784)
        assert sorted(r.classes.tolist()) == list(range(10))
        assert not np.any(r.classes == np.arange(10))  # no class keeps its name
        assert sorted(r.features.tolist()) == list(range(784))
    x = np.random.default_rng(0).random((3, 784))
    shown = r.images(x)
    assert np.array_equal(np.sort(shown, axis=1), np.sort(x, axis=1))
    assert not np.array_equal(shown, x)
    assert np.array_equal(r.labels(np.array([0, 9])), r.classes[[0, 9]])


def test_relabelling_differs_by_seed_and_run_and_needs_the_key(monkeypatch):
    draws = {
        (seed, run): tuple(training.Relabelling.draw(seed, run, 10, 784).classes)
        for seed in range(3)
        for run in range(3)
    }
    assert len(set(draws.values())) == len(draws)
    monkeypatch.setenv("DLGRADE_SECRET_KEY", "another service's key")
    assert tuple(training.Relabelling.draw(0, 0, 10, 784).classes) != draws[(0, 0)]


def test_an_mlp_does_not_see_a_pixel_permutation():
    """Why permuting pixels costs a correct MLP nothing: permute the rows of W1 alike and
    every output is the same, so training on permuted images is training on MNIST."""
    rng = np.random.default_rng(1)
    w1, w2 = rng.standard_normal((784, 16)), rng.standard_normal((16, 10))
    x = rng.random((5, 784))
    r = training.Relabelling.draw(7, 0, 10, 784)
    plain = np.maximum(x @ w1, 0) @ w2
    permuted = np.maximum(r.images(x) @ w1[r.features], 0) @ w2
    np.testing.assert_allclose(permuted, plain, rtol=1e-12)


def test_source_flags_point_a_ta_at_embedded_data():
    assert training.source_flags(_solution_source()) == []
    # The shipped weights: (784*32 + 32 + 32*10 + 10) float16 = 50,884 bytes, as base64
    # split over lines of 92 (tests/grader/test_embedded.py: every other encoding).
    shipped = training.source_flags(_solution_source("shipped_weights_module_net"))
    assert shipped == ["it embeds 50.9 kB of data in its literals (base64-like text)"]
    written_out = "W = [" + ", ".join(f"{v:.4f}" for v in np.linspace(-1, 1, 6000)) + "]\n"
    assert training.source_flags(written_out) == ["it writes out 6,000 numbers"]
    for example in COURSE_EXAMPLES:
        assert training.source_flags((EXAMPLES / example).read_text()) == [], example


def test_script_trains_spots_a_main_block():
    assert training.script_trains('x = 1\nif __name__ == "__main__":\n    x = 2\n')
    assert training.script_trains("if (__name__=='__main__'):\n    pass\n")
    assert not training.script_trains(_solution_source())
    assert not training.script_trains("print(\"if __name__ == '__main__':\")\n")


# -- the stochastic rule, on a stand-in ----------------------------------------------------


class _Session:
    def __init__(self, root: Path) -> None:
        self.sandbox = types.SimpleNamespace(spec=types.SimpleNamespace(root=root))
        self.load_spec = types.SimpleNamespace(file="np_mnist.py")
        self.load_failure = None


class _Net:
    """Predicts the relabelled test labels right for a set fraction of the test rows."""

    def __init__(self, rc: training.RunContext, rate: float) -> None:
        self.rc, self.rate = rc, rate

    def call(self, method: str, x: np.ndarray) -> np.ndarray:
        rows = (x[:, :BITS] > 0.5).astype(np.int64) @ (1 << np.arange(BITS))
        labels = self.rc.relabelling.labels(rows % 10)
        right = (rows * 7919 % 1000) < self.rate * 1000
        return np.eye(10)[np.where(right, labels, (labels + 1) % 10)]


BITS = 12  # the stand-in images: row i holds i in binary (the test noise cannot hide it)


def _stub_task(margin: float) -> training.TrainingTask:
    x = ((np.arange(4000)[:, None] >> np.arange(BITS)) & 1).astype(np.float32)  # label i % 10
    return training.TrainingTask(
        classes=10,
        threshold=0.94,
        margin=margin,
        write_data=lambda folder, r: folder.mkdir(parents=True, exist_ok=True),
        genuine_test=lambda: (x, np.arange(4000) % 10),
        validation=lambda: (x[:500], np.arange(500) % 10),
        conventions=("plain",),
    )


@pytest.mark.parametrize(
    ("rates", "runs", "passed"),
    [
        ([0.97], 1, True),  # far above: one run decides
        ([0.85], 1, False),  # far below (5 points or more): one run decides
        ([0.942, 0.930, 0.945], 3, True),  # inside the band: the median of three
        ([0.942, 0.930, 0.935], 3, False),
        # Short of the threshold by less than 5 points: never failed on one run. The dip
        # a CI run saw in examples/script_submission.py (92.6%; it usually makes ~97.3%).
        ([0.926, 0.973, 0.975], 3, True),
        ([0.91, 0.92, 0.95], 3, False),
    ],
)
def test_near_the_threshold_the_median_of_three_runs_decides(tmp_path, rates, runs, passed):
    task = _stub_task(margin=0.005)
    student = types.SimpleNamespace(_session=_Session(tmp_path))
    progress = types.SimpleNamespace(progress=lambda text: None)
    seen = []

    def train(rc: training.RunContext) -> training.Trained:
        seen.append(rc.run)
        return training.Trained(_Net(rc, rates[rc.run]), "stand-in")

    verdict = task.grade(student, progress, train, seed=5)
    assert seen == list(range(runs))
    assert verdict.passed is passed
    for run in range(runs):
        assert f"run {run + 1} (seed 5, relabelling {run}): test accuracy" in verdict.message
    if runs == 3:
        assert "the median" in verdict.message
    assert training.training_passed(student) is passed


# -- the data each grading writes --------------------------------------------------------------


@pytest.fixture(scope="module")
def genuine():
    return require_dataset("mnist")


def _prepared(tmp_path: Path, seed: int) -> Path:
    assignment = load_assignment(FOLDER)
    work = tmp_path / f"work{seed}"
    work.mkdir()
    root = prepare_root(assignment, FOLDER / "solution", work, seed)
    training._SEEDS.pop(str((root / "data").resolve()), None)
    return root / "data" / "run0"


@pytest.mark.mnist
def test_each_grading_writes_its_own_relabelled_training_images_only(genuine, tmp_path):
    folder = _prepared(tmp_path, seed=11)
    relabelling = training.Relabelling.draw(11, 0, 10, 784)
    splits = {name: np.bincount(genuine.y_train[rows]) for name, rows in mnist.split_rows().items()}
    rows, labels = [], []
    for split, public_counts in splits.items():
        x, y = np.load(folder / f"X_{split}.npy"), np.load(folder / f"y_{split}.npy")
        n = len(y)
        assert (x.shape, x.dtype, y.shape, y.dtype) == ((n, 784), np.float32, (n,), np.int64)
        # A secret subsample: every class cut to a count near the split's smallest class's.
        counts = np.bincount(y, minlength=10)
        assert counts.max() <= public_counts.min() <= counts.min() / 0.95 + 1, split
        unscrambled = np.empty_like(x)
        unscrambled[:, relabelling.features] = x
        rows.append(np.rint(unscrambled * 255).astype(np.uint8))
        labels.append(y)
    public = np.concatenate(rows)
    # Training images only, each at most once, none of the test images; the labels are
    # the genuine ones under the run's class permutation.
    images = genuine.X_train.reshape(60_000, -1)
    genuine_rows = {r.tobytes(): label for r, label in zip(images, genuine.y_train, strict=True)}
    shown = [r.tobytes() for r in public]
    assert len(set(shown)) == len(shown) and set(shown) <= set(genuine_rows)
    assert len(shown) > 0.85 * 60_000
    expected = relabelling.labels(np.array([genuine_rows[r.tobytes()] for r in public[:2000]]))
    assert np.array_equal(np.concatenate(labels)[:2000], expected)
    test_rows = {r.tobytes() for r in genuine.X_test.reshape(10_000, -1)}
    assert not any(r.tobytes() in test_rows for r in public)
    # Another grading: other files (not a cache).
    other = _prepared(tmp_path, seed=12)
    assert not np.array_equal(np.load(other / "y_val.npy"), np.load(folder / "y_val.npy"))
    assert "renamed" in (folder / "README.txt").read_text()


# -- forgeries built here -------------------------------------------------------------------


def _fingerprints(images: np.ndarray) -> list[int]:
    rows = images.reshape(images.shape[0], -1)
    return [
        int.from_bytes(hashlib.blake2b(r.tobytes(), digest_size=4).digest(), "little") for r in rows
    ]


def _lookup_table_source(genuine) -> str:
    """A network that never trains, whose forward() looks MNIST's test images up (the
    table holds the genuine test labels)."""
    records = np.zeros(10_000, dtype=[("key", "<u4"), ("label", "u1")])
    records["key"] = _fingerprints(genuine.X_test)
    records["label"] = genuine.y_test
    table = base64.b64encode(records.tobytes()).decode()
    attack = (ATTACKS / "lookup_table.py").read_text().replace("@TABLE@", table)
    return _solution_source("never_trains") + "\n\n" + attack


def _test_pixels(genuine) -> np.ndarray:
    return genuine.X_test.reshape(10_000, -1).astype(np.float32) / np.float32(255.0)


def _knn_folder(genuine, dest: Path) -> Path:
    """A submission folder: the solution, 20,000 genuine training images with their labels
    in shipped_images.npz, and a module-level nearest-neighbour `net` over them."""
    dest.mkdir(parents=True, exist_ok=True)
    rows = np.random.default_rng(3).choice(60_000, 20_000, replace=False)
    np.savez_compressed(
        dest / "shipped_images.npz",
        images=genuine.X_train.reshape(60_000, -1)[rows],
        labels=genuine.y_train[rows],
    )
    attack = (ATTACKS / "knn_shipped_images.py").read_text()
    (dest / "np_mnist.py").write_text(_solution_source() + "\n\n" + attack)
    return dest


@pytest.mark.mnist
def test_forgeries_beat_the_threshold_without_the_relabelling(genuine, tmp_path):
    """Each forgery would pass a check that shows the genuine images and labels."""
    x = _test_pixels(genuine)
    shipped = _LocalStudent(_solution_source("shipped_weights_module_net")).module.net
    assert np.mean(np.argmax(shipped.forward(x), 1) == genuine.y_test) >= THRESHOLD
    lookup = _LocalStudent(_lookup_table_source(genuine)).new("Network", 784, 128, 10)
    assert np.mean(np.argmax(lookup.forward(x), 1) == genuine.y_test) == 1.0
    folder = _knn_folder(genuine, tmp_path / "knn")
    source = (folder / "np_mnist.py").read_text().replace("__file__", repr(str(folder / "x")))
    knn = _LocalStudent(source).module.net
    assert np.mean(np.argmax(knn.forward(x[:1000]), 1) == genuine.y_test[:1000]) >= THRESHOLD


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
        **{name: EXAMPLES / name for name in COURSE_EXAMPLES},
    }
    built = {
        "lookup_table": lambda: _lookup_table_source(request.getfixturevalue("genuine")),
        "net_never_trained": lambda: _solution_source() + "\n\nnet = Network(784, 128, 10)\n",
        "demo_object": lambda: _solution_source() + "\n\ndemo = Network(784, 16, 10)\n",
    }

    def get(label: str) -> GradeReport:
        if label not in reports:
            path = paths.get(label)
            if label == "knn_shipped_images":
                path = _knn_folder(
                    request.getfixturevalue("genuine"), tmp_path_factory.mktemp(label) / "sub"
                )
            elif path is None:  # a mutant, appended to the solution as the validator does
                path = tmp_path_factory.mktemp(label) / "np_mnist.py"
                build = built.get(label)
                path.write_text(build() if build else _solution_source(label))
            reports[label] = grade(assignment, path, sandbox="local", seed=2026)
            assert reports[label].status == ReportStatus.GRADED, reports[label].message
        return reports[label]

    return get


def _by_name(report: GradeReport) -> dict:
    return {c.name: c for c in report.checks}


def _failed(report: GradeReport) -> set[str]:
    return {c.name for c in report.checks if c.status != CheckStatus.PASSED}


def _accuracy(message: str) -> float:
    match = re.search(r"test accuracy (\d+\.\d+)%", message)
    assert match, message
    return float(match.group(1)) / 100


@pytest.mark.slow
@pytest.mark.mnist
def test_solution_scores_full_marks_trained_by_the_grader(assignment, graded):
    report = graded("solution")
    assert assignment.max_score == FULL_MARKS
    assert _failed(report) == set()
    assert report.score == FULL_MARKS
    training_message = _by_name(report)["mnist_accuracy"].message
    assert "Network(784, 128, 10, lr=0.1) trained by the grader" in training_message
    assert "from an untrained start at chance" in training_message
    assert "secretly renamed" in training_message
    assert training.VERIFIED in training_message  # the grader drove this training
    assert "not verified" not in training_message
    assert _accuracy(training_message) >= 0.96  # outside the band: one run decides
    assert "run 2" not in training_message
    # The report's training picture: every epoch the grader drove, from chance to trained,
    # and the final network's confusion in genuine digits, agreeing with the accuracy.
    (run,) = _by_name(report)["mnist_accuracy"].training["runs"]
    curve = run["epochs"]
    assert [e["epoch"] for e in curve] == list(range(11))
    assert curve[0]["accuracy"] < 0.3 and curve[0]["loss"] > 2.0  # ln 10 = 2.30 at chance
    assert curve[-1]["accuracy"] > 0.95 and curve[-1]["loss"] < 0.2
    confusion = np.array(run["confusion"])
    assert confusion.shape == (10, 10) and confusion.sum() == 10_000
    assert np.trace(confusion) / 10_000 == pytest.approx(_accuracy(training_message), abs=1e-4)
    # MNIST's test set has these many images of each digit (its public counts).
    assert confusion.sum(axis=1).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.mark.slow
@pytest.mark.mnist
def test_starter_scores_zero(graded):
    report = graded("starter")
    assert report.score == 0
    assert all(c.status != CheckStatus.PASSED for c in report.checks)
    assert "NotImplementedError" in _by_name(report)["mnist_accuracy"].message


@pytest.mark.slow
@pytest.mark.mnist
@pytest.mark.parametrize("example", COURSE_EXAMPLES)
def test_course_style_homework_scores_full_marks(graded, example):
    report = graded(example)
    assert _failed(report) == set(), [c.message for c in report.checks if c.score < c.max_score]
    assert report.score == FULL_MARKS
    assert _accuracy(_by_name(report)["mnist_accuracy"].message) >= 0.95


@pytest.mark.slow
@pytest.mark.mnist
def test_a_script_is_run_as_main_and_a_missing_function_costs_nothing(graded):
    """course_folded_bias.py trains under __main__, feeds a bias column of ones, has no
    init_weights and a Network(sizes) that is not the template's."""
    report = graded("course_folded_bias.py")
    checks = _by_name(report)
    training_message = checks["mnist_accuracy"].message
    assert "when the grader ran it as a script (global 'net')" in training_message
    # What the grader could not watch is said, for a TA.
    assert "not verified: how the file trained" in training_message
    assert training.VERIFIED not in training_message
    assert "epoch 10: loss" in report.output  # its own training loop printed this
    for name in ("init_weights", "step_gradient", "forward_probabilities"):
        assert "these points follow the training check, which passed" in checks[name].message
    assert "loss_fn, one-hot y_true" in checks["loss_fn"].message  # per-sample, accepted
    assert "the 1/N left to step()" in checks["loss_fn_prime"].message


@pytest.mark.slow
@pytest.mark.mnist
@pytest.mark.parametrize(
    "forgery",
    [
        "shipped_weights_module_net",  # issue 7, hole 9: shipped weights in a module-level net
        "lookup_table",  # test images looked up by their pixels, a network that never trains
        "knn_shipped_images",  # nearest neighbours over 20,000 images shipped with the file
        "net_never_trained",  # a module-level net that never saw the data
        "never_trains",  # the grader trains it, but step() does nothing
    ],
)
def test_forgeries_score_zero_for_accuracy(graded, forgery):
    report = graded(forgery)
    result = _by_name(report)["mnist_accuracy"]
    assert result.status == CheckStatus.FAILED and result.score == 0, result.message
    if re.search(r"test accuracy", result.message):
        assert _accuracy(result.message) < 0.2  # chance, not a near miss
    else:  # a network the grader trains whose step() never moves it is refused at epoch 1
        assert "a learner that never takes a gradient step" in result.message
    assert "run 2" not in result.message  # far from the threshold: no re-runs


@pytest.mark.slow
@pytest.mark.mnist
def test_shipped_weights_are_flagged_for_a_ta(graded):
    message = _by_name(graded("shipped_weights_module_net"))["mnist_accuracy"].message
    assert "for a TA to look at: it embeds 50.9 kB of data in its literals (base64-like" in message


@pytest.mark.slow
@pytest.mark.mnist
def test_an_accuracy_inside_the_band_is_trained_three_times(assignment, tmp_path, monkeypatch):
    """With the band widened around the solution's accuracy, the grader trains it on three
    relabellings, lists every run with its seed and grades the median."""
    wide = dataclasses.replace(assignment.module.TASK, threshold=0.975, margin=0.05)
    monkeypatch.setattr(assignment.module, "TASK", wide)
    report = grade(assignment, FOLDER / "solution", sandbox="local", seed=7)
    message = _by_name(report)["mnist_accuracy"].message
    accuracies = [float(a) / 100 for a in re.findall(r"test accuracy (\d+\.\d+)%", message)]
    assert len(accuracies) == 3, message
    for run in range(3):
        assert f"run {run + 1} (seed 7, relabelling {run})" in message
    assert f"the median, {sorted(accuracies)[1]:.2%}" in message
    assert len(set(accuracies)) > 1  # other relabellings, other runs
    assert report.environment["runner_starts"] >= 3  # a fresh runner for each run


@pytest.mark.slow
@pytest.mark.mnist
def test_a_script_that_runs_out_of_time_loses_only_the_training_points(assignment, tmp_path):
    """Its training runs past the load limit: the unit checks load the file again as a
    module and still give their points."""
    quick = dataclasses.replace(assignment, load=dataclasses.replace(assignment.load, seconds=5))
    path = tmp_path / "np_mnist.py"
    slow_main = 'if __name__ == "__main__":\n    import time\n\n    time.sleep(60)\n'
    path.write_text(_solution_source() + "\n\n" + slow_main)
    report = grade(quick, path, sandbox="local", seed=3)
    assert _failed(report) == {"mnist_accuracy"}
    assert report.score == FULL_MARKS - ACCURACY_POINTS
    assert "took longer than the 5 s limit" in _by_name(report)["mnist_accuracy"].message


@pytest.mark.slow
@pytest.mark.mnist
def test_an_untrained_demo_object_beside_the_template_network_is_not_taken_for_it(graded):
    """A module-level Network under another name than net/model/network, in a file the
    grader trains: the grader trains the template's Network, and the file scores full."""
    report = graded("demo_object")
    assert report.score == FULL_MARKS, [c.message for c in report.checks if c.score < 1]
    assert "trained by the grader" in _by_name(report)["mnist_accuracy"].message


@pytest.mark.slow
@pytest.mark.mnist
def test_validate_solution_starter_and_every_mutant(assignment):
    """`dlgrade assignment validate`: solution full twice alike, starter 0, and each mutant
    (shipped weights in a module-level net, never trains, wrong loss, diverging lr, ...)
    loses exactly the checks the manifest says."""
    # One seed: each of these 20 gradings trains on MNIST (half a minute each here), and the
    # five-seed sweep the other NumPy homeworks run took 50 of CI's 76 minutes. What a seed
    # changes in training (the relabelling, subsample and order) is exercised at many seeds
    # by the forgery tests; `dlgrade assignment validate --seeds 5` sweeps the unit checks
    # (it passed in CI on 2026-12-07, under that clone's key).
    assert_validates(assignment, FULL_MARKS, seeds=1)


class _UnitStudent:
    """A stand-in for the proxy the unit checks use: names() and call() on a local module."""

    def __init__(self, source: str) -> None:
        self.module = _LocalStudent(source).module

    def names(self) -> dict[str, str]:
        return {k: "function" for k, v in vars(self.module).items() if callable(v)}

    def call(self, name: str, *args: object) -> object:
        return _as_student_error(getattr(self.module, name), *(np.array(a) for a in args))


FLOAT32_SOFTMAX_AS_FLOAT64 = """
import numpy as np

def softmax(x):
    x = np.asarray(x, dtype=np.float32)
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float64)
"""


def test_a_float32_softmax_handed_back_as_float64_passes(checks):
    """Its rows sum to 1 at float32's resolution, not to 1e-12: that is right for float32."""
    verdict = checks.softmax(_UnitStudent(FLOAT32_SOFTMAX_AS_FLOAT64), np.random.default_rng(0))
    assert verdict.passed, verdict.message
