"""What the course's MNIST homework assignments share: the data the sandbox gets, the
submitted file as the trusted side reads it, and the PyTorch training check.

Every MNIST homework (1: NumPy MLP, 2: PyTorch MLP, 3: CNN) hands the sandbox a
secret subsample of the same public split of MNIST's training set, written per
grading run through the run's secret ``Relabelling`` (grader/training.py), in the
course's file layout, each split with every class cut to a secret count near its
smallest class's and in a secret order:

    X_train.npy (~44,000, 784)  X_val.npy (~4,000, 784)  X_test.npy (~4,500, 784)
    y_train.npy (~44,000,)      y_val.npy (~4,000,)      y_test.npy (~4,500,)

X as float32 rows of 784 pixels in [0, 1], y as int64 labels. "X_test" is a
practice set (more of MNIST's training images, with labels): the genuine test
set is scored outside the sandbox and its labels never enter. A CNN reshapes
the rows to (N, 1, 28, 28) itself, as the course's CNN template does.

The PyTorch check (``train_torch``) accepts both of the course's forms: a script
that trains (as ``__main__``, or at import) and leaves the network in a global,
or a module whose network class the grader builds, checks at chance, and
trains by calling the file's ``train(model, X_train, y_train, epochs)``.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from grader import training
from grader.checks import CheckFailed, StudentError
from grader.training import Relabelling, RunContext, Trained
from reference.data import load_mnist

CLASSES = 10
PIXELS = 784
# The public split: MNIST's 60,000 training images, in an order fixed once.
SPLIT_SEED = 0
N_TRAIN, N_VAL, N_PRACTICE = 50_000, 5_000, 5_000
SOURCE_LIMIT = 2_000_000  # bytes of the submission read for its flags
LINKS = ("data", "mnist")  # the course's templates read ./data/; some read ./mnist/


def pixels(images: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) images as float32 (N, 784) in [0, 1]."""
    return images.reshape(images.shape[0], -1).astype(np.float32) / np.float32(255.0)


def split_rows() -> dict[str, np.ndarray]:
    """Rows of MNIST's training set in each public split (train, val, practice test)."""
    order = np.random.default_rng(SPLIT_SEED).permutation(N_TRAIN + N_VAL + N_PRACTICE)
    return {
        "train": order[:N_TRAIN],
        "val": order[N_TRAIN : N_TRAIN + N_VAL],
        "test": order[N_TRAIN + N_VAL :],
    }


@functools.lru_cache(maxsize=1)
def public_splits() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each public split's images (float32 rows) and genuine labels, before relabelling."""
    splits = load_mnist("mnist")
    x, y = pixels(splits.X_train), splits.y_train.astype(np.int64)
    return {name: (x[rows], y[rows]) for name, rows in split_rows().items()}


@functools.lru_cache(maxsize=1)
def genuine_test() -> tuple[np.ndarray, np.ndarray]:
    """The 10,000 genuine test images (float32 rows, as the training files) and labels."""
    splits = load_mnist("mnist")
    return pixels(splits.X_test), splits.y_test.astype(np.int64)


def validation() -> tuple[np.ndarray, np.ndarray]:
    return public_splits()["val"]


def run_writer(readme: str) -> Callable[[Path, Relabelling], None]:
    """A task's ``write_data``: one run's files, every split relabelled and cut to a secret
    subsample in a secret order (``Relabelling.subsample``: neither the public per-class
    counts nor the public order of the split survive), and ``readme`` as README.txt.
    Practice labels are written, never a genuine test label."""

    def write(folder: Path, relabelling: Relabelling) -> None:
        arrays = {}
        for name, (x, y) in public_splits().items():
            rows = relabelling.subsample(y, name)
            arrays[f"X_{name}"] = relabelling.images(x[rows])
            arrays[f"y_{name}"] = relabelling.labels(y[rows])
        training.write_arrays(folder, arrays)
        (folder / "README.txt").write_text(readme)
        (folder / "README.txt").chmod(0o644)

    return write


def submission_source(student: Any) -> str:
    """The submitted file as the trusted side placed it (read here, never executed)."""
    session = student._session
    path = Path(session.sandbox.spec.root) / "submission" / session.load_spec.file
    with open(path, "rb") as fh:
        return fh.read(SOURCE_LIMIT).decode("utf-8", errors="replace")


# -- the PyTorch training check ----------------------------------------------------------


@dataclass(frozen=True)
class TorchHomework:
    """How the grader trains a PyTorch homework in module form, and what it calls things.

    ``network_classes``: the class names the grader builds (the first defined);
    ``train_functions``: the names of ``train(model, X_train, y_train, epochs)``;
    ``train_seconds``: the limit on that one call (a script's training is bounded by
    the manifest's ``load_seconds`` instead).
    """

    epochs: int
    train_seconds: float
    network_classes: tuple[str, ...] = ("Net", "Model", "Network")
    train_functions: tuple[str, ...] = ("train", "train_model")

    def train(self, rc: RunContext, source: str) -> Trained:
        """One run's network: the one the file trains (as a script, or at import), else
        the file's network class trained here by its own train function."""
        if training.script_trains(source):
            trained = _script_network(rc, "script")
            assert trained is not None  # a script without a network raised CheckFailed
            return trained
        trained = _script_network(rc, "import")
        if trained is not None:
            return trained
        return self._train_module(rc)

    def _train_module(self, rc: RunContext) -> Trained:
        student = rc.student
        cls = training.find_name(student, self.network_classes)
        fn = training.find_name(student, self.train_functions)
        if cls is None or fn is None:
            raise CheckFailed(
                "your file neither trains a network itself (as a script, leaving it in a "
                f"global `model`) nor defines a network class ({' or '.join(self.network_classes)})"
                " and train(model, X_train, y_train, epochs) for the grader to call"
            )
        net = student.new(cls)
        rc.at_chance(net, f"the untrained {cls}()")
        rc.ctx.progress(f"{fn}({cls}(), X_train, y_train, epochs={self.epochs}) (run {rc.run + 1})")
        started = time.monotonic()
        try:
            # "new": whatever train returns (the model, a history, None) stays in the sandbox.
            student._request(
                {
                    "op": "new",
                    "name": fn,
                    "args": [
                        {"__handle__": net._handle},
                        {"__data__": f"{rc.folder}/X_train.npy"},
                        {"__data__": f"{rc.folder}/y_train.npy"},
                    ],
                    "kwargs": {"epochs": self.epochs},
                },
                self.train_seconds,
            )
        except StudentError as err:
            message = f"{fn}(model, X_train, y_train): {err.message}"
            raise StudentError(err.status, message) from None
        how = (
            f"{cls}() trained by your {fn}(model, X_train, y_train, epochs={self.epochs}), "
            "called by the grader from an untrained start at chance"
        )
        return Trained(net, how, seconds=time.monotonic() - started)


def _script_network(rc: RunContext, mode: str) -> Trained | None:
    """The network a file left in a global after loading it as ``mode``; None for an
    import that left none (a module for the grader to train); CheckFailed for a script
    that left none."""
    loaded = rc.load(mode)
    net = rc.global_network()
    error = training.script_error(loaded)
    if net is None:
        if mode == "script":
            raise CheckFailed(
                "the grader ran your file as a script (it has an `if __name__ == "
                '"__main__":` block) and it left no trained network in a global (`model`, '
                "an nn.Module)" + (f"; it raised {error}" if error else "")
            )
        return None
    how = {
        "script": "the network your file trained when the grader ran it as a script",
        "import": "the network your file trained when imported",
    }[mode] + f" (global '{net.label}')"
    if error:
        how += f"; then it stopped with {error} (the network is scored as it was left)"
    return Trained(net, how)
