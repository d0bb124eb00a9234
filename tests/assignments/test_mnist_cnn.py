"""Homework 3 (a CNN on MNIST, PyTorch): graded as the course's students write it.

Everything here grades real files in the local sandbox's torch environment (no
GPU: the files' CUDA runs on the CPU), training on genuine MNIST whose classes
are renamed in secret for each grading (grader/training.py; a CNN's pixels stay
where they are):

- ``dlgrade assignment validate``: the solution (LeNet-5) scores full marks twice
  over with the same report, the starter zero, and each mutant (shipped weights,
  a model that never trains, a wrong loss, a diverging learning rate) loses
  exactly the check it declares;
- two course-style files score full marks: a __main__ script with tqdm,
  matplotlib and device = "cuda" whose network takes (N, 1, 28, 28) images only,
  and a file that trains at import with .cuda(), batch norm and log-probabilities,
  whose network reshapes the rows itself; the report says CUDA ran on the CPU;
- the shipped weights are a real forgery: 98.85% on the genuine test set in this
  process, yet refused in a grading because the untrained Net() already sorts the
  digits;
- the forgery the renaming cannot stop (shipped weights loaded by train() and
  renamed from the labelled files) is named in the report for a TA, with its
  implausibly quick training.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from grader.assignment import load_assignment
from grader.engine import grade
from grader.messages import CheckStatus, ta_flags
from grader.sandbox.local import bwrap_path
from tests.assignments.kit import (
    assert_torch_example_scores_full,
    assert_validate_command_passes,
)
from tests.conftest import require, require_dataset

FOLDER = Path(__file__).resolve().parents[2] / "assignments" / "mnist-cnn"
ATTACKS = Path(__file__).resolve().parent / "mnist_attacks"
THRESHOLD = 0.985
COURSE_EXAMPLES = ("course_script_tqdm.py", "course_module_level_log_softmax.py")


@pytest.fixture(scope="module")
def assignment():
    require(bwrap_path() is not None, "bubblewrap", "apt-get install bubblewrap")
    require_dataset("mnist")
    return load_assignment(FOLDER)


IMPORTS = "import numpy as np\nimport torch\nfrom torch import nn\n\n"
SHIPPED = FOLDER / "mutants" / "shipped_weights.py"


def _shipped_network() -> torch.nn.Module:
    """The forgery's network as its file builds it (weights decoded by its own code)."""
    namespace: dict = {}
    exec(compile(IMPORTS + SHIPPED.read_text(), str(SHIPPED), "exec"), namespace)
    return namespace["Net"]().eval()


def renamed_weights_forgery(folder: Path) -> Path:
    """mnist_attacks/cnn_class_inference.py put together as one submission (see its header)."""
    path = folder / "cnn_mnist.py"
    attack = (ATTACKS / "cnn_class_inference.py").read_text()
    path.write_text(IMPORTS + SHIPPED.read_text() + "\n\n" + attack)
    return path


def test_the_shipped_weights_would_pass_on_plain_mnist() -> None:
    """Without the renaming (and the at-chance check) the forgery would earn full marks."""
    splits = require_dataset("mnist")
    x = torch.from_numpy(splits.X_test.astype(np.float32)[:, None] / 255.0)
    with torch.no_grad():
        predicted = _shipped_network()(x).argmax(dim=1).numpy()
    assert np.mean(predicted == splits.y_test) >= THRESHOLD


def test_validate_solution_starter_and_mutants(assignment) -> None:
    """The instructor's command, as typed: the expensive one (five trainings)."""
    labels = ("solution: 20/20", "starter: 0/20", "shipped_weights.py: 0/20")
    assert_validate_command_passes(FOLDER, *labels)


def test_shipped_weights_loaded_by_net_are_refused_before_training(assignment, tmp_path) -> None:
    """The mutant as validate builds it (appended to the solution), for its message."""
    text = (FOLDER / "solution" / "cnn_mnist.py").read_text()
    forged = tmp_path / "cnn_mnist.py"
    forged.write_text(text + "\n" + SHIPPED.read_text())
    report = grade(assignment, forged, sandbox="local", seed=11)
    (result,) = report.checks
    assert (result.status, result.score) == (CheckStatus.FAILED, 0.0)
    assert "already sorts the test images by digit" in result.message, result.message


@pytest.mark.parametrize("example", COURSE_EXAMPLES)
def test_a_course_style_homework_scores_full(assignment, example: str) -> None:
    result = assert_torch_example_scores_full(assignment, FOLDER / "examples" / example, THRESHOLD)
    assert "only the classes were renamed" in result.message  # what was not verified


def test_renamed_shipped_weights_are_named_for_a_ta(assignment, tmp_path) -> None:
    """The stated limit of renaming classes only: train() loads shipped weights and reorders
    their outputs to this grading's names, read off the labelled files. The grade cannot
    refuse it; the report says so, and flags a training over in a blink."""
    report = grade(assignment, renamed_weights_forgery(tmp_path), sandbox="local", seed=5)
    (result,) = report.checks
    assert "a file that loads shipped weights in its own training code" in result.message
    flags = ta_flags([{"message": result.message}])
    assert any(f.startswith("training took under 1 s") for f in flags), result.message
    assert any(f.startswith("it embeds") for f in flags), result.message  # the weights
    assert "not verified: how the file trained" in result.message
