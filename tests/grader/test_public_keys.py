"""Nothing keyed on MNIST's public facts works (grader/training.py): the test images are
shown in a secret order, some twice, perturbed by secret noise; the training data is a
secret subsample whose per-class counts say nothing of the class renaming; and a run
the grader drove is scored on answers it recomputed from the network's parameters.

In-process, on stand-ins for the sandbox; the tests that use the genuine test images
need MNIST (scripts/fetch_data.sh).
"""

from __future__ import annotations

import hashlib
import types

import numpy as np
import pytest

from grader import training
from grader.mnist_homework import pixels, split_rows
from grader.training import (
    DISAGREEMENT_LIMIT,
    PREDICT_CHUNK,
    SHOWN_TWICE,
    Relabelling,
    Showing,
    Trained,
    TrainingTask,
)
from tests.conftest import require_dataset


def test_every_image_is_shown_once_and_a_secret_thousand_twice_in_other_chunks():
    for secret in range(5):
        showing = Showing.draw(secret, 10_000)
        assert showing.sent.size == 10_000 + SHOWN_TWICE
        assert np.array_equal(np.unique(showing.sent), np.arange(10_000))
        first, second = showing.copies()
        assert len(first) == SHOWN_TWICE
        assert np.array_equal(showing.sent[first], showing.sent[second])
        assert np.all(first // PREDICT_CHUNK != second // PREDICT_CHUNK)
        # per_image() gives each genuine image its first copy's answer.
        answers = showing.sent * 10 + 3
        assert np.array_equal(showing.per_image(answers), np.arange(10_000) * 10 + 3)


def test_the_order_the_repeats_and_the_noise_differ_per_run_and_need_the_key(monkeypatch):
    runs = [(0, 0), (0, 1), (1, 0)]
    draws = [Showing.draw(training.relabel_seed(seed, run), 10_000) for seed, run in runs]
    monkeypatch.setenv("DLGRADE_SECRET_KEY", "another service's key")
    draws.append(Showing.draw(training.relabel_seed(0, 0), 10_000))
    x = np.random.default_rng(0).random((10_000, 4)).astype(np.float32)
    for i, a in enumerate(draws):
        for b in draws[i + 1 :]:
            assert not np.array_equal(a.sent, b.sent)
            assert not np.array_equal(a.per_image(a.images(x)), b.per_image(b.images(x)))
        # The order is no public one: the genuine order survives nowhere.
        assert np.mean(a.sent[:10_000] == np.arange(10_000)) < 0.01


@pytest.fixture(scope="module")
def genuine():
    return require_dataset("mnist")


def _exact_key(row: np.ndarray) -> bytes:
    return hashlib.blake2b(np.rint(row * 255).astype(np.uint8).tobytes(), digest_size=8).digest()


def _sorted_key(row: np.ndarray) -> bytes:
    """Blind to a pixel permutation: the image's pixel values, sorted."""
    return _exact_key(np.sort(row))


def _ink_key(row: np.ndarray) -> tuple[int, int]:
    """Blind to a permutation and to small changes of value: non-zero pixels, total ink."""
    return int(np.count_nonzero(np.rint(row * 255))), int(np.rint(row.sum()))


@pytest.mark.mnist
def test_the_noise_leaves_images_alike_but_no_fingerprint_finds_them(genuine):
    x = pixels(genuine.X_test)
    showing = Showing.draw(7, 10_000)
    shown = showing.images(x)
    first = np.unique(showing.sent, return_index=True)[1]
    alike = shown[first]  # genuine order
    # Small: a typical pixel moves by ~0.02 (most background pixels stay within 0.03 of 0).
    assert np.mean(np.abs(alike - x)) < training.TEST_NOISE
    for key in (_exact_key, _sorted_key, _ink_key):
        table = {key(row): label for row, label in zip(x, genuine.y_test, strict=True)}
        found = sum(key(row) in table for row in alike)
        assert found < 100, (key.__name__, found)  # under 1% of the 10,000
        # The same lookup on the public bytes finds every image (the key is a working one).
        assert sum(key(row) in table for row in x[:500]) == 500


class _Ctx:
    def progress(self, text: str) -> None:
        pass


def _task(genuine_x: np.ndarray, labels: np.ndarray) -> TrainingTask:
    return TrainingTask(
        classes=10,
        threshold=0.9,
        margin=0.01,
        write_data=lambda folder, relabelling: None,
        genuine_test=lambda: (genuine_x, labels),
        validation=lambda: (genuine_x[:500], labels[:500]),
        features=784,
        conventions=("plain",),
    )


def _digit_images(labels: np.ndarray) -> np.ndarray:
    """Images whose first ten pixels are the digit's one-hot code (the noise cannot hide it)."""
    x = np.zeros((len(labels), 784), np.float32)
    x[np.arange(len(labels)), labels] = 1.0
    return x


class _Reader:
    """A network that learned: it reads the digit off the image and answers in the run's
    names (``rc.relabelling``)."""

    def __init__(self, relabelling: Relabelling) -> None:
        self.relabelling = relabelling

    def call(self, method: str, x: np.ndarray) -> np.ndarray:
        pixels = x[:, np.argsort(self.relabelling.features)]  # it learned where they went
        return np.eye(10)[self.relabelling.labels(np.argmax(pixels[:, :10], axis=1))]


class _ByArrival:
    """No network: the public test labels, in the public order, by order of arrival, under a
    renaming it somehow knows (the best case for it)."""

    def __init__(self, labels: np.ndarray, relabelling: Relabelling) -> None:
        self.answers = relabelling.labels(labels)
        self.seen = 0

    def call(self, method: str, x: np.ndarray) -> np.ndarray:
        part = self.answers[self.seen : self.seen + len(x)]
        self.seen += len(x)
        return np.eye(10)[np.resize(part, len(x))]


def _run(task: TrainingTask, make) -> training.RunResult:
    def train(rc: training.RunContext) -> Trained:
        return make(rc)

    result, _ = task._one_run(None, _Ctx(), 3, 0, train)
    return result


LABELS = np.arange(10_000) % 10


def test_a_learned_network_is_scored_as_it_answers():
    task = _task(_digit_images(LABELS), LABELS)
    result = _run(task, lambda rc: Trained(_Reader(rc.relabelling), "reads digits"))
    assert (result.correct, result.total) == (10_000, 10_000)
    assert result.flags == ()


def test_answers_by_order_of_arrival_score_zero_and_are_flagged():
    task = _task(_digit_images(LABELS), LABELS)
    result = _run(task, lambda rc: Trained(_ByArrival(LABELS, rc.relabelling), "a table"))
    assert result.accuracy is None  # this run scores 0
    assert "shown twice, in different batches" in result.message
    (flag,) = result.flags
    assert "answers depend on the order of the test images, not on the images" in flag
    verdict = task._verdict([result], "a table", "")
    assert not verdict.passed
    assert f"{training.FLAGS_HEAD}answers depend on the order" in verdict.message


def test_a_few_numerical_ties_between_the_two_copies_are_forgiven():
    task = _task(_digit_images(LABELS), LABELS)
    budget = int(DISAGREEMENT_LIMIT * SHOWN_TWICE)

    class Wobbly(_Reader):
        calls = 0

        def call(self, method: str, x: np.ndarray) -> np.ndarray:
            out = super().call(method, x)
            Wobbly.calls += 1
            if Wobbly.calls == 3:  # one chunk answers a few images otherwise
                out[:budget] = np.roll(out[:budget], 1, axis=1)
            return out

    result = _run(task, lambda rc: Trained(Wobbly(rc.relabelling), "reads digits"))
    assert result.accuracy is not None and result.accuracy > 0.99, result.message


def test_scored_answers_are_the_ones_recomputed_from_the_parameters():
    """A run the grader drove: forward() must agree with the parameters, whose answers count."""
    task = _task(_digit_images(LABELS), LABELS)

    def honest(rc: training.RunContext) -> Trained:
        reader = _Reader(rc.relabelling)
        return Trained(
            reader, "grader-trained", watched=True, recompute=lambda x: reader.call("forward", x)
        )

    result, trained = task._one_run(None, _Ctx(), 3, 0, honest)
    assert result.correct == 10_000 and trained.verified
    verdict = task._verdict([result], "grader-trained", "")
    assert training.VERIFIED in verdict.message
    assert "not verified" not in verdict.message


def test_a_forward_that_is_not_its_parameters_scores_zero_and_is_flagged():
    """forward() answers well (a lookup, say) while the parameters the grader read give
    something else: the run scores 0, and a TA is told why."""
    task = _task(_digit_images(LABELS), LABELS)

    def lookup(rc: training.RunContext) -> Trained:
        return Trained(
            _Reader(rc.relabelling),
            "grader-trained",
            watched=True,
            recompute=lambda x: np.zeros((len(x), 10)),
        )

    result = _run(task, lookup)
    assert result.accuracy is None
    assert "otherwise than the network its parameters define" in result.message
    assert any(
        "forward() does not compute what the trained parameters say" in f for f in result.flags
    )


class _Session:
    def __init__(self, root) -> None:
        self.sandbox = types.SimpleNamespace(spec=types.SimpleNamespace(root=root))
        self.load_spec = None
        self.load_failure = None


@pytest.mark.parametrize(
    ("trained", "says"),
    [
        (Trained(None, "a script", watched=False), "not verified: how the file trained"),
        (Trained(None, "module", watched=True), "not verified: the grader drove the training"),
        (
            Trained(None, "module", watched=True, recompute=np.zeros, unverified="not verified: X"),
            "not verified: X",
        ),
    ],
)
def test_what_the_grader_did_not_check_is_never_called_verified(tmp_path, trained, says):
    task = _task(_digit_images(LABELS), LABELS)
    student = types.SimpleNamespace(_session=_Session(tmp_path))

    def train(rc: training.RunContext) -> Trained:
        net = _Reader(rc.relabelling)
        recompute = None if trained.recompute is None else (lambda x: net.call("forward", x))
        return Trained(
            net,
            trained.how,
            watched=trained.watched,
            recompute=recompute,
            unverified=trained.unverified,
        )

    verdict = task.grade(student, _Ctx(), train, seed=1)
    assert verdict.passed  # the accuracy is right; what was checked is what differs
    assert says in verdict.message
    assert training.VERIFIED not in verdict.message
    assert not any(line.startswith("verified") for line in verdict.message.splitlines())
    assert training.training_passed(student) is True
    assert training.training_verified(student) is False


# -- the training data: a secret subsample ----------------------------------------------------


def _renaming_from_counts(public: np.ndarray, shown: np.ndarray) -> np.ndarray:
    """The counts attack: the shown class with the k-th largest count is the digit with the
    k-th largest public count (the split is public, and so are its labels). Returns the
    guessed name of each genuine digit."""
    guess = np.empty(10, dtype=np.int64)
    guess[np.argsort(np.bincount(public))] = np.argsort(np.bincount(shown, minlength=10))
    return guess


@pytest.mark.mnist
def test_per_class_counts_no_longer_give_the_renaming_away(genuine):
    y = genuine.y_train.astype(np.int64)[split_rows()["train"]]
    whole = subsampled = 0
    for seed in range(30):
        r = Relabelling.draw(seed, 0, 10, 784)
        whole += int(np.sum(_renaming_from_counts(y, r.labels(y)) == r.classes))
        rows = r.subsample(y, "train")
        subsampled += int(np.sum(_renaming_from_counts(y, r.labels(y[rows])) == r.classes))
    assert whole == 300  # the split written whole: every renaming recovered
    # Subsampled: chance (1 digit in 10, 30 expected of 300; 60 is over 5 sd above).
    assert subsampled < 60, subsampled


@pytest.mark.mnist
def test_the_subsample_is_most_of_each_split_in_a_secret_order(genuine):
    y = genuine.y_train.astype(np.int64)[split_rows()["train"]]
    a = Relabelling.draw(1, 0, 10, 784).subsample(y, "train")
    b = Relabelling.draw(2, 0, 10, 784).subsample(y, "train")
    smallest = np.bincount(y).min()
    for rows in (a, b):
        assert len(np.unique(rows)) == len(rows)  # each image at most once
        counts = np.bincount(y[rows])
        assert counts.min() >= 0.95 * smallest and counts.max() <= smallest
        assert len(rows) > 0.85 * len(y)
        # No public order survives: neither the split's nor a sorted one.
        assert np.mean(np.diff(rows) > 0) < 0.55
    assert not np.array_equal(a[:1000], b[:1000])
    assert not np.array_equal(np.bincount(y[a]), np.bincount(y[b]))


def test_no_batch_size_leaves_a_last_batch_of_one_image():
    """A homework with batch normalisation and batches of 100 failed a grading whose secret
    training split had 100k + 1 images (its last batch of one cannot be normalised in
    training). Over many secret draws of MNIST-sized splits, no batch size a course uses
    leaves one image over."""
    # MNIST's training-set class counts (0..9), the size whose draws the homework meets.
    y = np.repeat(np.arange(10), [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])
    sizes = {len(Relabelling.draw(seed, 0, 10, 784).subsample(y, "train")) for seed in range(40)}
    assert len(sizes) > 20  # still a secret draw (near 90 totals are possible), not one number
    for n in sizes:
        assert all(n % batch != 1 for batch in range(2, 4097)), n


# -- the points of template functions a file does not have ------------------------------------


@pytest.mark.parametrize(
    ("passed", "verified", "rule", "given"),
    [
        (True, True, "verified", True),
        (True, False, "verified", False),  # a script's (or a forgery's) accuracy: not enough
        (False, False, "verified", False),
        (True, True, "passed", True),
        (True, False, "passed", True),  # as a manifest may configure it
        (False, False, "passed", False),
    ],
)
def test_missing_functions_earn_their_points_as_the_manifest_says(
    tmp_path, passed, verified, rule, given
):
    student = types.SimpleNamespace(_session=_Session(tmp_path))
    training.record_outcome(student, passed, verified, rule)
    verdict = training.missing(student, "init_weights")
    assert verdict.passed is given
    assert ("not verified" in verdict.message) is (passed and not verified)


def test_by_default_missing_functions_need_a_verified_accuracy(tmp_path):
    from grader.assignment import read_manifest

    values = read_manifest({"slug": "x", "submission": {"files": ["a.py"]}})
    assert values["training.missing_points"] == "verified"
    task = _task(_digit_images(LABELS), LABELS)
    student = types.SimpleNamespace(_session=_Session(tmp_path))

    def script(rc: training.RunContext) -> Trained:
        return Trained(_Reader(rc.relabelling), "a script")  # right answers, not verified

    assert task.grade(student, _Ctx(), script, seed=1).passed
    assert not training.missing(student, "init_weights").passed
