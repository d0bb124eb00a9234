"""Training assignments graded on relabelled data: the shared harness.

The question a training check must answer is "did this network learn, from the
data it was given, to classify images it never saw?", whatever the network is
(any depth, any framework, any names). So the check does not look inside the
network at all. It changes the data instead:

* Every grading run draws a secret ``Relabelling`` on the trusted side, from the
  service's key and the submission's seed: a permutation of the classes (a
  derangement: no class keeps its name), and optionally a permutation of the
  input features (pixel positions).
* The sandbox's training, validation and practice-test files are written for
  that run only (per submission, never cached), relabelled: image columns in
  the permuted order, labels renamed, and each split cut to a secret subsample
  in a secret order (``Relabelling.subsample``). The genuine test labels never enter.
* After training, the trusted side shows the network the genuine test images
  (through the same feature permutation) as the run's secret ``Showing`` has
  them: perturbed by noise, in a secret order, a secret thousand of them twice
  in different chunks; and scores the answers against the genuine labels
  renamed by the same class permutation, outside the sandbox.

A network that learns from what it is given predicts the renamed classes and
scores as it would on plain MNIST. Weights trained elsewhere predict the
genuine names (a derangement puts every one of them in the wrong class); a
lookup table keyed by test images' pixels finds nothing under a feature
permutation; a nearest-neighbour search over images shipped in the file
compares against scrambled pixels. All of these fall to chance.

Public facts are keys too, and none of them lines up with what the sandbox sees:
MNIST's test labels are public in their public order, so answers by order of
arrival meet a secret order (and two copies of one image answered differently
are a TA flag and a 0 for the run, ``DISAGREEMENT_LIMIT``); a fingerprint of a
test image (its bytes, its sorted pixel values, its ink) meets secret noise
that changes every pixel (``TEST_NOISE``: under 0.2 points of accuracy for the
reference solutions, bench/bench_test_perturbation.py); MNIST's per-class counts
(all ten differ) would name the renamed classes, so every class of a written
split gets a secret count drawn by one law for all; the public split's order
would align shown labels with public ones, so it is shuffled.

"Verified" is said only of what the trusted side checked itself. Where the
grader builds and trains the network (``Trained.watched``) and can read its
parameters, the answers scored are the ones it recomputes from them
(``Trained.recompute``: grader/recompute.py for the NumPy template), forward()
must agree with those (else a TA flag and 0 for the run), and the parameters
must start at chance and move; homework 1 also replays every epoch it drives as
SGD from the parameters it read (its checks.py), so weights that step() puts in
place, whatever it inferred from the given files, score 0. Anything else (a
script, which trains itself; a PyTorch train() the grader calls but cannot look
into; a network whose answers
the grader cannot recompute) is reported "not verified", with the reason, and a
missing template function's points follow only a verified accuracy unless the
manifest says otherwise (``missing``).

Why the feature permutation, and when (``TrainingTask.permute_features``): a
fully connected first layer with weights drawn independently per entry is
invariant to a fixed permutation of its inputs (permute W1's rows and the
network, its training and its accuracy are exactly the same), so an MLP loses
nothing. Without it, a file could ship trained weights, run them on the given
training images and read the class permutation off the given labels (ten
classes: a few hundred images settle it). With it, those weights see scrambled
pixels and answer at chance, whatever they infer about the classes. It is
wrong for a CNN (convolutions use pixel neighbourhoods): there only the classes
are permuted, and the class inference above stays possible. Where the grader
builds the network, ``at_chance`` closes the obvious door: the untrained network
must be at chance under every naming of its outputs (``BEST_NAMING_LIMIT``), so
weights loaded when it is built fail before training. Weights loaded later, by
the file's own training code, are not excluded: such a task's report says so
(``CLASSES_ONLY``) and the file's embedded data is pointed out to a TA.

What this cannot exclude, and what the report therefore flags for a TA: a
classifier that is not the assignment's network but still learns from the given
data (nearest neighbours over the given training images, in a file that trains
itself; a file the grader trains fails the at-chance test first); weights
trained elsewhere that a file's own training code loads after working out the
pixel order and the renaming from the given files (per-pixel statistics undo a
pixel permutation); and a lookup of the genuine test images by nearest
neighbour among copies shipped in the file (noise does not hide an image from
its own copy). All of these are "not verified" runs, and all show in the file
itself (``source_flags`` points at embedded data).

API (for an assignment's checks.py)
----------------------------------

``TrainingTask(...)``: what a training assignment declares (classes, threshold,
margin, runs, how to write its data files, its genuine test set).

- ``task.submission_data(dest, seed)``: the engine's per-grading hook; a
  checks.py defines ``submission_data = task.submission_data``. Writes run 0's
  files under ``dest/run0/`` (``dest`` is the sandbox's data/ folder).
- ``task.links(run)``: {folder name in the working directory: data folder} for
  a run, e.g. {"data": "run0", "mnist": "run0"}; the manifest's ``[data] links``
  must name run 0's.
- ``task.grade(student, ctx, train, source=...)``: the whole training check. ``train(run)``
  is the assignment's own function that returns a ``Trained`` network for one
  run (using the helpers below); ``grade`` scores it, re-runs near the
  threshold, and returns the Verdict listing every run with its seed.

``RunContext`` (what ``train`` receives): ``student``, ``ctx``, ``run``,
``relabelling``, ``folder`` (the run's data folder, sandbox-relative, e.g.
"run0"), and helpers:

- ``rc.load(mode)``: (re)load the submission for this run, "import" or
  "script" (run as __main__), with the working directory's data links pointing
  at this run's folder. Returns the runner's load result (a dict).
- ``rc.global_network()``: the network the file left in a global, or None.
- ``rc.classes_of(net, x)``: predicted classes for feature rows ``x`` (genuine
  order; relabelled here), chunked; CheckFailed for a malformed answer.
- ``rc.at_chance(net, what)``: CheckFailed when an untrained network already
  classifies the relabelled test set above ``CHANCE_LIMIT``, or would under the
  naming of its outputs that suits it best above ``BEST_NAMING_LIMIT``;
  ``rc.chance_of(predicted, what)`` the same for classes computed elsewhere.
- ``rc.shown_test()``: the run's ``Showing``, the test rows as shown, the labels;
  ``rc.sent_inputs(x)``: rows exactly as the network receives them (relabelled,
  in the run's input convention), for a recomputation on the trusted side.
- ``rc.epochs(net, epochs, batch_size, one_hot, method="step")``: drive
  training epochs over this run's training files in the sandbox.
- ``rc.record_epoch(epoch, scores)``: note the training loss and validation
  accuracy after an epoch the grader drove (0: before training), computed here
  by ``scores`` (the network's logits from parameters the grader read). The
  check's Verdict carries every run's curve and the final network's confusion
  (``training``) and the portal draws them (web/training_figure.py).

Unit checks of a training assignment whose function is not in the file (a template
name the student changed, a function the architecture does not need): a check
calls ``missing(student, what)``, whose Verdict gives the points when the
training check of the same grading passed on a verified accuracy, or passed at
all where the manifest's ``[training] missing_points`` is "passed" (``task.grade``
records both; the training check must come first in checks.py), and withholds
them otherwise. ``find_name(student, names)`` finds the first of the template's
names defined.

Other helpers: ``Relabelling.draw(seed, run, classes, features)``,
``relabel_seed(seed, run)``, ``write_arrays(folder, arrays)``,
``script_trains(source)``, ``source_flags(source)``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import math
import os
import re
import statistics
import time
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from grader import embedded
from grader.checks import CheckFailed, RemoteObject, StudentError, Verdict
from grader.config import secret_key
from grader.messages import TA_FLAGS

# A freshly initialised network classifies about 10% of ten classes; the highest of
# thousands of random initialisations measured for homework 1 was 22.9%.
CHANCE_LIMIT = 0.30
PREDICT_CHUNK = 2000  # test images per forward() call: every message stays under ~7 MB
RUN_FOLDER = "run{}"
# Rows of the run's training and validation files a training curve is computed on, per
# epoch, on the trusted side: enough for a curve to a tenth of a point, a few ms an epoch.
CURVE_ROWS = 4000
# Input conventions tried when forward() refuses plain feature rows: the course folds
# the bias into W1 as an extra input column of ones, appended or prepended (an MLP).
INPUT_CONVENTIONS = ("plain", "ones column last", "ones column first")
# A CNN may take the rows as they are in the files and reshape them itself, or expect
# images (N, 1, 28, 28), the shape the course's CNN template reshapes the rows to.
IMAGE_CONVENTIONS = ("plain", "images (N, 1, H, W)")
# The best any naming of an untrained network's output classes can do. An untrained
# network's arg-max falls in a few classes that owe little to the digit drawn: measured on
# the 10,000 test images over 60 random initialisations each, at most 24.3% for a
# 784-512-256-10 MLP and 19.9% for LeNet-5 (15 of a 32/64-channel CNN: 22.0%). Weights
# trained elsewhere score ~98% under the naming that undoes the relabelling, which a file
# can infer from the labelled training files: this bound catches them at the start.
BEST_NAMING_LIMIT = 0.50
ADAPTER_ROWS = 500  # validation rows on which an input convention is chosen


# -- the secret relabelling -----------------------------------------------------------


def relabel_seed(seed: int, run: int) -> int:
    """The secret seed of one grading run: an HMAC of (seed, run) under the service's key.

    The submission's seed is no secret (a worker uses the submission's id); this is,
    and it never enters a sandbox. Staff with the key can reproduce a run exactly.
    """
    message = f"dlgrade-relabel:{seed}:{run}".encode()
    digest = hmac.new(secret_key(), message, hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big")


# Draws of a subsample's class sizes before one whose total less one is prime is given up
# on (only a split too small to have such a total comes near it).
_SIZE_DRAWS = 1000


def _is_prime(n: int) -> bool:
    if n < 2:
        return False
    return all(n % d for d in range(2, math.isqrt(n) + 1))


@dataclass(frozen=True)
class Relabelling:
    """How one run's data is shown: class c is called ``classes[c]``; shown feature j is
    genuine feature ``features[j]`` (None: features untouched); ``secret`` seeds the
    run's other draws (``subsample``)."""

    classes: np.ndarray
    features: np.ndarray | None = None
    secret: int = 0  # seeds the run's other secret draws (which training images, in what order)

    @staticmethod
    def draw(seed: int, run: int, classes: int, features: int | None = None) -> Relabelling:
        rng = np.random.default_rng(relabel_seed(seed, run))
        # A derangement, so that a network trained on the genuine names is wrong on
        # every class, not right on the classes that happen to keep theirs.
        while True:
            perm = rng.permutation(classes)
            if not np.any(perm == np.arange(classes)):
                break
        pixels = rng.permutation(features) if features is not None else None
        return Relabelling(perm, pixels, int(rng.integers(2**63)))

    def subsample(self, y: np.ndarray, name: str, keep: float = 0.95) -> np.ndarray:
        """Rows of a labelled split to write, in a secret order: every class cut to its own
        secret count, drawn from [keep x, 1 x] the smallest class's count, the same law for
        every class, and their total one more than a prime. MNIST's per-class counts are
        public and all differ, so the counts of a split written whole would give the class
        renaming away; these say nothing of it. ``name`` tells the splits' draws apart."""
        y = np.asarray(y)
        rng = np.random.default_rng([self.secret, *name.encode()])
        counts = np.bincount(y)
        present = np.flatnonzero(counts)
        smallest = int(counts[present].min())
        # The total is one more than a prime (redrawn until so, about one draw in eleven
        # near MNIST's sizes), so that no batch size from 2 to the total less two leaves a
        # last batch of one image: batch normalisation refuses to train on a batch of one,
        # and a correct homework must not fail on the size the grader chose.
        for _ in range(_SIZE_DRAWS):
            sizes = rng.integers(math.ceil(keep * smallest), smallest + 1, size=len(present))
            if _is_prime(int(sizes.sum()) - 1):
                break
        rows = [
            rng.choice(np.flatnonzero(y == c), int(n), replace=False)
            for c, n in zip(present, sizes, strict=True)
        ]
        return rng.permutation(np.concatenate(rows))

    def labels(self, y: np.ndarray) -> np.ndarray:
        """Genuine labels (N,) as the sandbox sees them."""
        return self.classes[np.asarray(y, dtype=np.int64)]

    def images(self, x: np.ndarray) -> np.ndarray:
        """Genuine feature rows (N, D) as the sandbox sees them (a copy when permuted)."""
        x = np.asarray(x)
        if self.features is None:
            return x
        return np.ascontiguousarray(x.reshape(x.shape[0], -1)[:, self.features])


def write_arrays(folder: Path, arrays: dict[str, np.ndarray]) -> None:
    """``folder/<name>.npy`` for each array, readable by the sandbox's user."""
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o755)
    for name, value in arrays.items():
        path = folder / f"{name}.npy"
        np.save(path, value, allow_pickle=False)
        os.chmod(path, 0o644)


# -- how the test images are shown ---------------------------------------------------

# MNIST's test images, their order and their labels are public: a file could answer them
# by the order in which they arrive, or by a fingerprint of their pixels, with the public
# labels shipped inside it. So each run shows them in a secret order, a secret subset of
# them twice in different chunks (the two answers must agree: an answer is a function of
# the image, not of where or when it arrived), and perturbed by secret noise, drawn
# anew per run, that a network barely notices and that no exact or fingerprint lookup
# survives (bench/bench_test_perturbation.py measures both).
SHOWN_TWICE = 1_000
# Answers to the same image in different chunks may differ by a numerical tie (an arg-max
# of two equal scores, a batch-size-dependent summation order): at most this fraction.
DISAGREEMENT_LIMIT = 0.01
# Standard deviation of the Gaussian noise added to every pixel (in [0, 1], clipped): it
# changes every pixel's value, the count of non-zero pixels and the total ink of every
# image (tests/grader/test_public_keys.py), and should move the reference solutions'
# accuracy by under 0.2 points. Measured for homework 1's reference, the same trained
# network scored on the published and on the shown images (bench/bench_test_perturbation.py):
# sd 0.03 moved it by -0.06 and -0.30 points (2 seeds: too much); sd 0.015 by +0.02 and
# -0.13 points (seeds 0, 1). At sd 0.015 over seeds 0-4, all three reference solutions:
# homework 1 -0.02 to +0.01, homework 2 -0.16 to -0.05, homework 3 +0.00 to +0.03 points.
TEST_NOISE = 0.015


@dataclass(frozen=True)
class Showing:
    """How one run shows the genuine test images: ``sent[k]`` is the genuine image at
    position k of what the network is given; every image once, ``SHOWN_TWICE`` of them
    twice, their two copies in different chunks of ``chunk``; every pixel perturbed by
    noise drawn from ``noise_seed``."""

    sent: np.ndarray
    chunk: int
    noise_seed: int
    noise: float = TEST_NOISE

    @staticmethod
    def draw(
        secret: int, n: int, twice: int = SHOWN_TWICE, chunk: int = 0, noise: float = TEST_NOISE
    ) -> Showing:
        chunk = chunk or PREDICT_CHUNK
        rng = np.random.default_rng([secret, 2])
        twice = min(twice, n)
        repeated = rng.choice(n, twice, replace=False)
        sent = rng.permutation(np.concatenate([np.arange(n), repeated]))
        if sent.size > chunk:
            _separate_copies(sent, chunk, rng)
        return Showing(sent, chunk, int(rng.integers(2**63)), noise)

    def images(self, x: np.ndarray) -> np.ndarray:
        """Genuine feature rows (N, D) in [0, 1] as shown: perturbed, float32, in the
        secret order (N + the repeats rows)."""
        x = np.asarray(x, dtype=np.float32)
        rng = np.random.default_rng(self.noise_seed)
        noisy = x + rng.normal(0.0, self.noise, size=x.shape).astype(np.float32)
        np.clip(noisy, 0.0, 1.0, out=noisy)
        return noisy[self.sent]

    def copies(self) -> tuple[np.ndarray, np.ndarray]:
        """(positions of the first copy of each image shown twice, of its second copy)."""
        _, first = np.unique(self.sent, return_index=True)
        second = np.setdiff1d(np.arange(self.sent.size), first, assume_unique=True)
        return first[self.sent[second]], second

    def per_image(self, answers: np.ndarray) -> np.ndarray:
        """Answers in the genuine order (one per genuine image: its first copy's)."""
        _, first = np.unique(self.sent, return_index=True)
        return np.asarray(answers)[first]


def _separate_copies(sent: np.ndarray, chunk: int, rng: np.random.Generator) -> None:
    """Move, in place, each second copy that shares a chunk with its first copy to a random
    position of another chunk, swapping it with an image shown only once there."""
    counts = np.bincount(sent)
    positions: dict[int, list[int]] = {}
    for k, image in enumerate(sent.tolist()):
        if counts[image] > 1:
            positions.setdefault(image, []).append(k)
    singles = np.flatnonzero(counts[sent] == 1)
    for first, second in positions.values():
        if first // chunk != second // chunk:
            continue
        while True:
            k = int(singles[rng.integers(singles.size)])
            if k // chunk != first // chunk:
                break
        sent[second], sent[k] = sent[k], sent[second]
        singles[singles == k] = second


# -- looking at the source (information for staff; never a verdict) -------------------

_MAIN_BLOCK = re.compile(r"^if\s+\(?\s*__name__\s*==\s*['\"]__main__['\"]\s*\)?\s*:", re.M)


def script_trains(source: str) -> bool:
    """Whether the file has an ``if __name__ == "__main__":`` block (run as a script)."""
    return bool(_MAIN_BLOCK.search(source))


def source_flags(source: str) -> list[str]:
    """What a TA should look at in a file: embedded data, measured by what it holds
    (grader/embedded.py)."""
    return embedded.flags(source)


# -- one run --------------------------------------------------------------------------


@dataclass(frozen=True)
class Trained:
    """A network ready for the test images, and how it came to be (said in the report)."""

    net: RemoteObject
    how: str
    seconds: float | None = None  # training time, when the grader watched it
    watched: bool = False  # the grader drove the training itself, from a start at chance
    # Scores (N, classes) that the trusted side computes from the parameters it read after
    # training, for inputs exactly as sent to the network (``RunContext.sent_inputs``): the
    # answers scored instead of forward()'s, which must agree with them.
    recompute: Callable[[np.ndarray], np.ndarray] | None = None
    # Why this run is not verified (said in the report); "" when nothing is missing.
    unverified: str = ""
    flags: tuple[str, ...] = ()  # for a TA to look at (never a verdict)

    @property
    def verified(self) -> bool:
        return self.watched and self.recompute is not None and not self.unverified


@dataclass(frozen=True)
class RunResult:
    """One run's outcome: accuracy on the relabelled genuine test set, or why none."""

    run: int
    seed: int
    accuracy: float | None
    correct: int = 0
    total: int = 0
    message: str = ""
    seconds: float | None = None
    flags: tuple[str, ...] = ()
    # Each epoch the grader drove and read back: {"epoch", "loss", "accuracy"} (see
    # ``RunContext.record_epoch``); empty where the file trained itself.
    curve: tuple[dict[str, float], ...] = ()
    # The final network on the genuine test images: confusion[digit][answer], answers
    # turned back into the genuine digits (so a student reads "4 taken for 9").
    confusion: list[list[int]] | None = None

    def figure(self) -> dict[str, Any]:
        """This run as the report's training figure draws it (plain data, JSON)."""
        return {
            "run": self.run + 1,
            "accuracy": self.accuracy,
            "epochs": list(self.curve),
            "confusion": self.confusion,
        }

    def line(self, threshold: float) -> str:
        head = f"run {self.run + 1} (seed {self.seed}, relabelling {self.run})"
        if self.accuracy is None:
            return f"{head}: {self.message}"
        side = "meets" if self.accuracy >= threshold else "is below"
        return (
            f"{head}: test accuracy {self.accuracy:.2%} ({self.correct:,}/{self.total:,}) "
            f"{side} the {percent(threshold)} threshold"
        )


@dataclass
class RunContext:
    """Everything a task's ``train(rc)`` needs for one run."""

    task: TrainingTask
    student: Any
    ctx: Any
    run: int
    seed: int
    relabelling: Relabelling
    _convention: str | None = field(default=None, repr=False)
    _shown: tuple[Showing, np.ndarray, np.ndarray] | None = field(default=None, repr=False)
    curve: list[dict[str, float]] = field(default_factory=list)
    _curve_rows: tuple[np.ndarray, ...] | None = field(default=None, repr=False)

    def record_epoch(self, epoch: int, scores: Callable[[np.ndarray], np.ndarray]) -> None:
        """Note where epoch ``epoch`` (0: before training) left the network, for the report's
        training curve: the mean cross-entropy on the run's training rows and the accuracy
        on its validation rows. ``scores`` gives the network's logits for rows as forward()
        receives them, computed on the trusted side from parameters the grader read: the
        curve is the grader's measurement, like the accuracy it plots beside. A picture
        only: a run whose files it cannot read goes without one, never without a verdict."""
        if self._curve_rows is None:
            x_file, y_file = self.task.train_files
            x_val, y_val = self.task.validation_files
            try:
                self._curve_rows = tuple(
                    np.load(self.data_file(name), mmap_mode="r")[:CURVE_ROWS]
                    for name in (x_file, y_file, x_val, y_val)
                )
            except (OSError, ValueError):
                self._curve_rows = ()
        if not self._curve_rows:
            return
        x_train, y_train, x_val, y_val = self._curve_rows
        logits = np.asarray(scores(np.asarray(x_train)), dtype=np.float64)
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = float(-np.mean(log_p[np.arange(len(y_train)), np.asarray(y_train, dtype=int)]))
        answers = np.argmax(scores(np.asarray(x_val)), axis=1)
        accuracy = float(np.mean(answers == np.asarray(y_val)))
        self.curve.append({"epoch": epoch, "loss": round(loss, 5), "accuracy": round(accuracy, 5)})

    @property
    def folder(self) -> str:
        return RUN_FOLDER.format(self.run)

    def data_file(self, name: str) -> Path:
        """One of this run's data files as the trusted side wrote it (to read, not to send)."""
        return Path(self.student._session.sandbox.spec.root) / "data" / self.folder / name

    def epoch_orders(self, epochs: int, n: int) -> list[np.ndarray]:
        """The batch order of each epoch the grader drives, drawn from the run's secret."""
        rng = np.random.default_rng([relabel_seed(self.seed, self.run), 3])
        return [rng.permutation(n) for _ in range(epochs)]

    def load(self, mode: str) -> Any:
        """Start a fresh runner that loads the submission for this run ("import" or
        "script": run as __main__), the working directory's data folders pointing at this
        run's files. The session keeps the new load for the checks that follow."""
        session = self.student._session
        session.close()
        session.load_failure = None
        session.load_spec = dataclasses.replace(
            session.load_spec, mode=mode, data_links=self.task.links(self.run)
        )
        return session.ensure_loaded()

    def global_network(self) -> RemoteObject | None:
        """The network the file left in a global after loading, if any."""
        try:
            return self.student.trained()
        except CheckFailed:
            return None

    def epochs(
        self,
        net: RemoteObject,
        epochs: int,
        *,
        batch_size: int,
        one_hot: int | None,
        method: str = "step",
        timeout: float | None = None,
    ) -> float:
        """Train ``net`` for ``epochs`` epochs over this run's training files, in the sandbox;
        the seconds it took. Batches are shuffled from a seed drawn from the run's secret."""
        started = time.monotonic()
        rng = np.random.default_rng([relabel_seed(self.seed, self.run), 1])
        for epoch in range(1, epochs + 1):
            self.ctx.progress(f"training epoch {epoch}/{epochs} (run {self.run + 1})")
            try:
                net.train_epoch(
                    f"{self.folder}/{self.task.train_files[0]}",
                    f"{self.folder}/{self.task.train_files[1]}",
                    batch_size=batch_size,
                    one_hot=one_hot,
                    seed=int(rng.integers(2**31)),
                    method=method,
                    timeout=timeout,
                )
            except StudentError as err:
                raise StudentError(
                    err.status, f"training epoch {epoch}/{epochs}: {err.message}"
                ) from None
        return time.monotonic() - started

    def _inputs(self, x: np.ndarray, convention: str) -> np.ndarray:
        shown = self.relabelling.images(x).astype(np.float32, copy=False)
        if convention == "images (N, 1, H, W)":
            side = math.isqrt(shown[0].size)
            return shown.reshape(shown.shape[0], 1, side, side)
        ones = np.ones((shown.shape[0], 1), dtype=shown.dtype)
        if convention == "ones column last":
            return np.hstack([shown, ones])
        if convention == "ones column first":
            return np.hstack([ones, shown])
        return shown

    def _answer(self, net: RemoteObject, x: np.ndarray, method: str) -> np.ndarray:
        out = net.call(method, x)
        classes = self.task.classes
        if isinstance(out, np.ndarray) and out.ndim == 2 and out.shape == (len(x), classes):
            if out.dtype.kind not in "iuf":
                raise CheckFailed(f"{method}(x) returned an array of {out.dtype}, expected floats")
            if not np.isfinite(out).all():
                bad = int(np.sum(~np.isfinite(out).all(axis=1)))
                raise CheckFailed(
                    f"{method}(x) returned NaN or inf for {bad} of {len(x)} images (training "
                    f"diverged? a learning rate too large for the loss's scale does that)"
                )
            return np.argmax(out, axis=1)
        if isinstance(out, np.ndarray) and out.shape == (len(x),) and out.dtype.kind in "iu":
            return out.astype(np.int64)  # class predictions, not scores
        shape = getattr(out, "shape", type(out).__name__)
        raise CheckFailed(
            f"{method}(x) for {len(x)} images returned {shape}, expected ({len(x)}, {classes}) "
            f"class scores (probabilities, logits or log-probabilities)"
        )

    def classes_of(self, net: RemoteObject, x: np.ndarray, method: str = "forward") -> np.ndarray:
        """The classes ``net`` predicts for genuine feature rows ``x`` (sent relabelled).

        The input convention (plain rows, or a bias column of ones folded in) is chosen
        once per run: the first that forward() accepts and that does best on validation
        images whose relabelled labels the sandbox has anyway.
        """
        if self._convention is None:
            self._convention = self._choose_convention(net, method)
        out = []
        for start in range(0, x.shape[0], PREDICT_CHUNK):
            part = self._inputs(x[start : start + PREDICT_CHUNK], self._convention)
            out.append(self._answer(net, part, method))
        return np.concatenate(out)

    def _choose_convention(self, net: RemoteObject, method: str) -> str:
        x_val, y_val = self.task.validation()
        x_val, y_val = x_val[:ADAPTER_ROWS], self.relabelling.labels(y_val[:ADAPTER_ROWS])
        scores: dict[str, float] = {}
        first_error: StudentError | None = None
        for convention in self.task.conventions:
            try:
                predicted = self._answer(net, self._inputs(x_val, convention), method)
            except StudentError as err:
                if err.status.value in ("timeout", "memory", "crash"):
                    raise
                first_error = first_error or err
                continue
            scores[convention] = float(np.mean(predicted == y_val))
            if convention == "plain" and scores[convention] > 0.5:
                break  # the usual case: no need to try the others
        if not scores:
            assert first_error is not None
            raise first_error
        return max(scores, key=lambda c: (scores[c], c == "plain"))

    def shown_test(self) -> tuple[Showing, np.ndarray, np.ndarray]:
        """This run's showing of the test set, the genuine test rows as shown (perturbed,
        in the secret order, with the repeats), and the genuine labels (genuine order)."""
        if self._shown is None:
            x_test, y_test = self.task.genuine_test()
            showing = Showing.draw(relabel_seed(self.seed, self.run), len(y_test))
            self._shown = (showing, showing.images(x_test), np.asarray(y_test))
        return self._shown

    def sent_inputs(self, x: np.ndarray) -> np.ndarray:
        """Genuine feature rows ``x`` exactly as ``classes_of`` sends them: relabelled, in the
        input convention chosen for this run (call after the network's first answers)."""
        return self._inputs(x, self._convention or "plain")

    def test_answers(self, net: RemoteObject, method: str = "forward") -> np.ndarray:
        """The classes ``net`` gives every test image as shown (one per row sent, repeats
        included), after checking that the two answers to each repeated image agree."""
        showing, x_shown, _ = self.shown_test()
        self.ctx.progress(f"predicting the {len(x_shown):,} test images (run {self.run + 1})")
        answers = self.classes_of(net, x_shown, method)
        first, second = showing.copies()
        differ = int(np.sum(answers[first] != answers[second]))
        if differ > DISAGREEMENT_LIMIT * len(first):
            raise Suspicious(
                f"{len(first):,} of the test images were shown twice, in different batches, "
                f"and the network gave two different answers for {differ:,} of them (at most "
                f"{DISAGREEMENT_LIMIT:.0%} accepted, for numerical ties): a network's answer "
                f"depends on the image, not on when or where it arrives. This run scores 0",
                f"answers depend on the order of the test images, not on the images: "
                f"{differ:,} of {len(first):,} images shown twice got two different answers",
            )
        return answers

    def _test_predictions(self, net: RemoteObject, method: str) -> tuple[np.ndarray, np.ndarray]:
        """(predicted classes per genuine test image, genuine labels)."""
        showing, _, y_test = self.shown_test()
        return showing.per_image(self.test_answers(net, method)), y_test

    def score(self, predicted: np.ndarray) -> tuple[int, int]:
        """(correct, total) of per-genuine-image classes, against the relabelled labels."""
        _, _, y_test = self.shown_test()
        return int(np.sum(predicted == self.relabelling.labels(y_test))), len(y_test)

    def accuracy(self, net: RemoteObject, method: str = "forward") -> tuple[int, int]:
        """(correct, total) on the genuine test images, against the relabelled labels."""
        predicted, _ = self._test_predictions(net, method)
        return self.score(predicted)

    def at_chance(self, net: RemoteObject, what: str, method: str = "forward") -> None:
        """CheckFailed when the untrained ``net`` already classifies the test images, under
        this run's names or under the naming of its outputs that suits it best."""
        predicted, _ = self._test_predictions(net, method)
        self.chance_of(predicted, what)

    def chance_of(self, predicted: np.ndarray, what: str) -> None:
        """CheckFailed when per-genuine-image classes ``predicted`` (an untrained network's)
        already classify the test images, under this run's names or any naming."""
        _, _, y_test = self.shown_test()
        total = len(y_test)
        correct = int(np.sum(predicted == self.relabelling.labels(y_test)))
        best = best_naming_correct(predicted, y_test, self.task.classes)
        if correct / total > CHANCE_LIMIT:
            raise CheckFailed(
                f"before any training, {what} already classifies {correct / total:.2%} of the "
                f"test images (random weights give about {1 / self.task.classes:.0%}, at most "
                f"{CHANCE_LIMIT:.0%} accepted): the network must start untrained and learn from "
                f"the data the grader gives it"
            )
        if best / total > BEST_NAMING_LIMIT:
            raise CheckFailed(
                f"before any training, {what} already sorts the test images by digit: naming "
                f"its outputs suitably classifies {best / total:.2%} of them (random weights "
                f"stay under 25%, at most {BEST_NAMING_LIMIT:.0%} accepted). Weights trained "
                f"elsewhere do that; the network must start untrained and learn from the data "
                f"the grader gives it"
            )


class Suspicious(CheckFailed):
    """A run that fails for something a TA should see: ``flag`` is the line the TA's list
    of submissions shows (the message is the student's)."""

    def __init__(self, message: str, flag: str) -> None:
        super().__init__(message)
        self.flag = flag


def confusion(
    relabelling: Relabelling, predicted: np.ndarray, labels: np.ndarray, classes: int
) -> list[list[int]]:
    """counts[digit][answer] over the test images: ``predicted`` in this run's names (as
    the network answered), turned back into genuine digits; ``labels`` the genuine ones.
    An answer outside the classes is counted nowhere (the accuracy counts it wrong)."""
    genuine_of = np.argsort(relabelling.classes)  # shown name -> genuine digit
    predicted, labels = np.asarray(predicted, dtype=np.int64), np.asarray(labels)
    named = (predicted >= 0) & (predicted < classes)
    counts = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(counts, (labels[named], genuine_of[predicted[named]]), 1)
    return counts.tolist()


def best_naming_correct(predicted: np.ndarray, labels: np.ndarray, classes: int) -> int:
    """How many predictions would be right if each output class were renamed to the digit
    it is most often given for (any renaming, not only a permutation: an upper bound)."""
    predicted, labels = np.asarray(predicted), np.asarray(labels)
    named = (predicted >= 0) & (predicted < classes)  # any other answer is wrong however named
    counts = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(counts, (predicted[named], labels[named]), 1)
    return int(counts.max(axis=1).sum())


def percent(fraction: float) -> str:
    """A threshold as people write it: 0.97 as "97%", 0.985 as "98.5%"."""
    return f"{100 * fraction:g}%"


def script_error(loaded: Any) -> str:
    """What a script raised while it ran (the runner's report, bounded: it is untrusted)."""
    error = loaded.get("error") if isinstance(loaded, dict) else None
    if not isinstance(error, dict):
        return ""
    kind = str(error.get("type", "an exception"))[:100]
    message = str(error.get("message", ""))[:500]
    lines = error.get("traceback")
    where = ""
    if isinstance(lines, list) and lines:
        where = " at " + " ".join(str(lines[-1]).split())[:300]
    return f"{kind}: {message}{where}" if message else f"{kind}{where}"


# -- unit checks of functions the file does not have ------------------------------------

# Each grading's seed by its data folder, from submission_data to the training check.
_SEEDS: dict[str, int] = {}
# The training verdict of each grading in progress, by its session: (passed, verified,
# what missing functions' points follow), read by the unit checks that follow it in the
# same grading, gone with the session.
_OUTCOMES: weakref.WeakKeyDictionary[Any, tuple[bool, bool, str]] = weakref.WeakKeyDictionary()


def record_outcome(
    student: Any, passed: bool, verified: bool = False, missing_points: str = "verified"
) -> None:
    _OUTCOMES[student._session] = (passed, verified, missing_points)


def training_passed(student: Any) -> bool | None:
    """The training check's verdict in this grading, or None when it has not run."""
    outcome = _OUTCOMES.get(student._session)
    return None if outcome is None else outcome[0]


def training_verified(student: Any) -> bool:
    """Whether this grading's training check passed on an accuracy the grader verified."""
    return _OUTCOMES.get(student._session, (False, False, ""))[:2] == (True, True)


def find_name(student: Any, names: Iterable[str]) -> str | None:
    """The first of ``names`` that the submission defines (a function or a class)."""
    defined = set(student.names())
    return next((name for name in names if name in defined), None)


# What the points of a missing template function follow: the manifest's
# [training] missing_points (docs/AUTHORING.md), handed to ``TrainingTask.grade``:
#   "verified" (the default): the training check passed on an accuracy the grader
#       verified (it trained the network itself and recomputed its answers from the
#       parameters), so an unverified accuracy (a script's, a forgery's) buys no unit points;
#   "passed": the training check passed, verified or not (a course whose homework are
#       scripts that rename the template's functions); the report says when it was not
#       verified, and a TA sees it.
MISSING_POINTS = ("verified", "passed")


def missing(student: Any, what: str) -> Verdict:
    """The verdict for a template function or class the file does not have: its points
    follow the training check, as the manifest's ``[training] missing_points`` says."""
    passed, verified, follows = _OUTCOMES.get(student._session, (False, False, "verified"))
    head = (
        f"{what} is not in your file in the template's form, so there is nothing to check "
        f"here: these points follow the training check"
    )
    if not passed:
        return Verdict(False, f"{head}, which did not pass")
    if verified:
        return Verdict(True, f"{head}, which passed, verified (the grader trained the network)")
    if follows == "passed":
        return Verdict(
            True,
            f"{head}, which passed (not verified: the grader did not train the network itself)",
        )
    return Verdict(
        False,
        f"{head} when the grader verified the accuracy (trained the network itself); it "
        f"passed, not verified, so these points are not given",
    )


# -- the task ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainingTask:
    """A training assignment's data and bar.

    write_data(folder, relabelling): write one run's sandbox files into ``folder``
        (use ``write_arrays``), images through ``relabelling.images`` and labels through
        ``relabelling.labels``. Must never write a genuine test label.
    genuine_test(): the genuine test images (N, D) and labels (N,), trusted side only.
    validation(): validation images (N, D) and genuine labels as the sandbox's files
        hold them (before relabelling): used to pick an input convention.
    threshold: the accuracy to reach; margin: half-width of the band around it in
        which one run does not decide (calibrated from the reference across seeds).
    recheck_below: a first run below the threshold by less than this is not a verdict
        either. Training at a constant rate is noisy to its last epoch: course-style
        homework 1 (examples/script_submission.py) usually lands at 97.0-97.5%, yet one
        grading in a CI run scored 92.6% (its validation accuracy dips 2 points between
        epochs as a matter of course). Failing a correct homework on one such run is
        the costly error; training twice more below the threshold costs only time.
    runs: the most runs a verdict takes; the rule is the median of the runs made
        (one run outside the band; three inside it: two of three must pass).
    """

    classes: int
    threshold: float
    margin: float
    write_data: Callable[[Path, Relabelling], None]
    genuine_test: Callable[[], tuple[np.ndarray, np.ndarray]]
    validation: Callable[[], tuple[np.ndarray, np.ndarray]]
    features: int | None = None  # permute this many input features (an MLP); None: don't
    link_names: tuple[str, ...] = ("data", "mnist")
    conventions: tuple[str, ...] = INPUT_CONVENTIONS  # input shapes tried (see above)
    recheck_below: float = 0.05
    train_files: tuple[str, str] = ("X_train.npy", "y_train.npy")
    validation_files: tuple[str, str] = ("X_val.npy", "y_val.npy")
    runs: int = 3

    def links(self, run: int) -> dict[str, str]:
        return {name: RUN_FOLDER.format(run) for name in self.link_names}

    def relabelling(self, seed: int, run: int) -> Relabelling:
        return Relabelling.draw(seed, run, self.classes, self.features)

    def write_run(self, data_root: Path, seed: int, run: int) -> Path:
        folder = data_root / RUN_FOLDER.format(run)
        self.write_data(folder, self.relabelling(seed, run))
        return folder

    def submission_data(self, dest: Path, seed: int) -> None:
        """The engine's hook (before the sandbox starts): run 0's files under dest."""
        self.write_run(Path(dest), seed, 0)
        _SEEDS[str(Path(dest).resolve())] = seed

    def _one_run(
        self, student: Any, ctx: Any, seed: int, run: int, train: Callable[[RunContext], Trained]
    ) -> tuple[RunResult, Trained | None]:
        rc = RunContext(self, student, ctx, run, seed, self.relabelling(seed, run))
        trained = None
        try:
            trained = train(rc)
            answers = rc.test_answers(trained.net)
            if trained.recompute is not None:
                answers = _recomputed_answers(rc, trained, answers)
            showing, _, y_test = rc.shown_test()
            predicted = showing.per_image(answers)
            correct, total = rc.score(predicted)
        except (CheckFailed, StudentError) as err:
            text = err.message if isinstance(err, StudentError) else str(err)
            flags = (err.flag,) if isinstance(err, Suspicious) else ()
            flags += trained.flags if trained is not None else ()
            # The network, where training gave one, still says how it came to be.
            return RunResult(run, seed, None, message=text, flags=flags), trained
        result = RunResult(
            run,
            seed,
            correct / total,
            correct,
            total,
            seconds=trained.seconds,
            flags=trained.flags,
            curve=tuple(rc.curve),
            confusion=confusion(rc.relabelling, predicted, y_test, self.classes),
        )
        return result, trained

    def grade(
        self,
        student: Any,
        ctx: Any,
        train: Callable[[RunContext], Trained],
        *,
        seed: int | None = None,
        source: str = "",
        missing_points: str = "verified",
    ) -> Verdict:
        """Run ``train`` on run 0's data and score it; inside the margin, run again on fresh
        relabellings (new files, a fresh runner) until ``runs`` runs, and take the median.

        ``seed``: the grading's seed; by default the one ``submission_data`` was given
        for this sandbox's data folder. ``source``: the submitted file's text, for the
        flags a TA sees. ``missing_points``: the manifest's rule for the points of missing
        template functions (``MISSING_POINTS``), recorded for ``missing``.
        """
        if missing_points not in MISSING_POINTS:
            raise ValueError(f"missing_points must be one of {MISSING_POINTS}: {missing_points!r}")
        data_root = Path(student._session.sandbox.spec.root) / "data"
        if seed is None:
            seed = _SEEDS.pop(str(data_root.resolve()), None)
        if seed is None:
            raise RuntimeError("no relabelled data for this grading: submission_data never ran")
        original = student._session.load_spec
        results: list[RunResult] = []
        how = ""
        unverified: list[str] = []
        for run in range(self.runs):
            if run > 0:
                ctx.progress(f"run {run + 1}: writing relabelled data")
                self.write_run(data_root, seed, run)
            result, trained = self._one_run(student, ctx, seed, run, train)
            results.append(result)
            how = how or (trained.how if trained else "")
            if trained is not None and not trained.verified:
                why = trained.unverified or (NOT_RECOMPUTED if trained.watched else NOT_WATCHED)
                if why not in unverified:
                    unverified.append(why)
            if run == 0 and not self._undecided(result):
                break
            if run > 0:
                _remove_run(data_root, run)  # only this grading ever reads it
        _reset_after_failed_load(student, original)
        verified = not unverified and any(r.accuracy is not None for r in results)
        verdict = self._verdict(results, how, source, unverified)
        record_outcome(student, verdict.passed, verified, missing_points)
        return verdict

    @property
    def _below(self) -> float:
        return max(self.margin, self.recheck_below)

    def _undecided(self, result: RunResult) -> bool:
        """Whether the first run needs two more: inside the band above the threshold, or
        short of it by less than ``recheck_below`` (a dip that a correct homework's last
        epoch can take; a verdict of failure is never given on one such run)."""
        if result.accuracy is None:
            return False
        return self.threshold - self._below < result.accuracy < self.threshold + self.margin

    def _verdict(
        self, results: list[RunResult], how: str, source: str, unverified: list[str] | None = None
    ) -> Verdict:
        unverified = unverified or []
        scored = [r.accuracy if r.accuracy is not None else 0.0 for r in results]
        middle = statistics.median(scored)
        passed = middle >= self.threshold
        lines = []
        if len(results) == 1:
            only = results[0]
            lines.append(only.line(self.threshold))
        else:
            lines.append(
                f"the first run landed near the {percent(self.threshold)} threshold (within "
                f"{self.margin:.1%} above it, or less than {self._below:.0%} below), where "
                f"training's randomness can decide, so the grader trained "
                f"{len(results)} times on fresh relabellings; the median, {middle:.2%}, "
                f"{'meets' if passed else 'is below'} the threshold"
            )
            lines += [f"  {r.line(self.threshold)}" for r in results]
        if how:
            lines.append(how)
        lines.append(GRADED_ON)
        if unverified:
            lines += unverified
        elif any(r.accuracy is not None for r in results):
            lines.append(VERIFIED)
        if self.features is None:
            lines.append(CLASSES_ONLY)
        flags = [*source_flags(source)]
        for result in results:
            flags += [flag for flag in result.flags if flag not in flags]
        # Said without the time itself: two gradings of one file must read the same
        # (validate compares them); the check's own seconds are in the report.
        if any(r.seconds is not None and r.seconds < QUICK_TRAINING for r in results):
            flags.append(
                f"training took under {QUICK_TRAINING:g} s: 10 epochs over the training set "
                f"take far longer, even on a GPU (loaded weights instead of training?)"
            )
        if flags:
            lines.append(FLAGS_HEAD + "; ".join(flags))
        figures = {
            "threshold": self.threshold,
            "median": middle,
            "runs": [r.figure() for r in results],
        }
        return Verdict(passed, "\n".join(lines), training=figures)


def _recomputed_answers(rc: RunContext, trained: Trained, answers: np.ndarray) -> np.ndarray:
    """The classes the network's parameters give every test image as sent, computed here;
    Suspicious when forward() answered otherwise beyond numerical ties."""
    assert trained.recompute is not None
    _, x_shown, _ = rc.shown_test()
    ours = np.concatenate(
        [
            np.argmax(trained.recompute(rc.sent_inputs(x_shown[i : i + PREDICT_CHUNK])), axis=1)
            for i in range(0, len(x_shown), PREDICT_CHUNK)
        ]
    )
    differ = int(np.sum(ours != answers))
    if differ > DISAGREEMENT_LIMIT * len(answers):
        raise Suspicious(
            f"forward() answered {differ:,} of the {len(answers):,} test images shown otherwise "
            f"than the network its parameters define (computed by the grader from the weights "
            f"it read after training): the answers must come from the network that was "
            f"trained. This run scores 0",
            f"forward() does not compute what the trained parameters say: {differ:,} of "
            f"{len(answers):,} test answers differ from the grader's recomputation",
        )
    return ours


# What every run's accuracy means, whoever trained the network.
GRADED_ON = (
    "how it was graded: the network was given only this grading's data, whose classes (and "
    "pixel positions, for an MLP) were secretly renamed, a secret subsample of it; it was "
    "shown the genuine test images perturbed by secret noise, in a secret order, some of "
    "them twice; its answers were scored outside the sandbox, where the labels stay"
)
VERIFIED = (
    "verified: the grader trained the network itself from a start at chance and checked "
    "that training (as said above), and the answers scored are the ones it recomputed from "
    "the trained parameters (forward() agreed with them)"
)
# Where the run's verification failed, or could not be done, the report says which.
NOT_RECOMPUTED = (
    "not verified: the grader drove the training but could not recompute the network's "
    "answers from parameters it can read, so forward()'s answers were scored as given"
)
FLAGS_HEAD = TA_FLAGS  # the staff pages list and filter submissions by these lines
# Training the grader timed (a module's train(), the grader's own epochs) that ended
# sooner than this is pointed out to a TA: 10 epochs of 50,000 images are hundreds of
# optimiser steps at the least. Never a verdict: a fast GPU is not a forgery.
QUICK_TRAINING = 1.0


NOT_WATCHED = (
    "not verified: how the file trained (the grader did not drive the training, nor read "
    "the trained parameters), so any learner that learns from the given files, a network "
    "or not, passes; for a TA to judge if it matters"
)


CLASSES_ONLY = (
    "not verified, for a TA to judge if it matters: that the network was not trained "
    "elsewhere. The pixels of a CNN's images cannot be shuffled (convolutions need their "
    "neighbours), so only the classes were renamed, and a file that loads shipped weights "
    "in its own training code and works out the renaming from the labelled training files "
    "would pass; a network the grader built was checked to start at chance under every "
    "naming of its outputs"
)


def _reset_after_failed_load(student: Any, spec: Any) -> None:
    """After a training load that failed (a script that timed out, say), the checks that
    follow load the file again as the manifest says, rather than all failing with it."""
    session = student._session
    if session.load_failure is not None:
        session.close()
        session.load_failure = None
        session.load_spec = spec


def _remove_run(data_root: Path, run: int) -> None:
    folder = data_root / RUN_FOLDER.format(run)
    for path in folder.glob("*.npy"):
        path.unlink(missing_ok=True)
