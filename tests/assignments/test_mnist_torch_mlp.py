"""Homework 2 (PyTorch MLP on MNIST): graded as the course's students write it.

Everything here grades real files in the local sandbox's torch environment (no
GPU: the files' CUDA runs on the CPU), training on genuine MNIST relabelled in
secret for each grading (grader/training.py):

- ``dlgrade assignment validate``: the solution scores full marks twice over
  with the same report, the starter zero, and each mutant (shipped weights,
  a model that never trains, a wrong loss, a diverging learning rate) loses
  exactly the check it declares;
- three course-style files (a __main__ script with tqdm and matplotlib, a file
  that trains at import with .cuda() and log-probabilities, a module whose
  train function the grader calls and whose network outputs probabilities)
  score full marks, and the report says CUDA was mapped to the CPU;
- the shipped weights are a real forgery: they classify the genuine test set
  above the threshold, in this process, yet score at chance in a grading; as a
  script that leaves them in `model`, too.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import numpy as np
import pytest

from grader.assignment import load_assignment
from grader.engine import grade
from grader.messages import CheckStatus
from grader.sandbox.local import bwrap_path
from tests.assignments.kit import (
    assert_torch_example_scores_full,
    assert_validate_command_passes,
)
from tests.conftest import require, require_dataset

FOLDER = Path(__file__).resolve().parents[2] / "assignments" / "mnist-torch-mlp"
THRESHOLD = 0.97
COURSE_EXAMPLES = (
    "course_script_tqdm.py",
    "course_module_level_log_softmax.py",
    "course_module_probabilities.py",
)


@pytest.fixture(scope="module")
def assignment():
    require(bwrap_path() is not None, "bubblewrap", "apt-get install bubblewrap")
    require_dataset("mnist")
    return load_assignment(FOLDER)


def _shipped_network() -> list[tuple[np.ndarray, np.ndarray]]:
    """The forgery's (weight, bias) per layer, decoded here from the mutant's text."""
    text = (FOLDER / "mutants" / "shipped_weights.py").read_text()
    block = text.split("_SHIPPED = (", 1)[1].split(")", 1)[0]
    raw = base64.b64decode("".join(re.findall(r'"([A-Za-z0-9+/=]+)"', block)))
    layers, offset = [], 0
    for rows, cols in ((100, 784), (10, 100)):
        q = np.frombuffer(raw, np.int8, rows * cols, offset).reshape(rows, cols)
        offset += rows * cols
        scale = np.frombuffer(raw, np.float32, rows, offset)
        offset += 4 * rows
        bias = np.frombuffer(raw, np.float32, rows, offset)
        offset += 4 * rows
        layers.append((q * scale[:, None], bias))
    assert offset == len(raw)
    return layers


def test_the_shipped_weights_would_pass_on_plain_mnist() -> None:
    """Without the relabelling the forgery would earn full marks: 97.5% on genuine data."""
    splits = require_dataset("mnist")
    x = splits.X_test.reshape(len(splits.X_test), -1).astype(np.float32) / 255.0
    (w1, b1), (w2, b2) = _shipped_network()
    scores = np.maximum(x @ w1.T + b1, 0) @ w2.T + b2
    assert np.mean(scores.argmax(axis=1) == splits.y_test) >= THRESHOLD


def test_validate_solution_starter_and_mutants(assignment) -> None:
    """The instructor's command, as typed: the expensive one (ten trainings at most)."""
    labels = ("solution: 20/20", "starter: 0/20", "shipped_weights.py: 0/20")
    assert_validate_command_passes(FOLDER, *labels)


@pytest.mark.parametrize("example", COURSE_EXAMPLES)
def test_a_course_style_homework_scores_full(assignment, example: str) -> None:
    assert_torch_example_scores_full(assignment, FOLDER / "examples" / example, THRESHOLD)


def test_shipped_weights_in_a_script_score_at_chance(assignment, tmp_path: Path) -> None:
    """The same forgery as a course script: `model` holds the shipped weights, no training."""
    fragment = (FOLDER / "mutants" / "shipped_weights.py").read_text()
    script = tmp_path / "torch_mnist.py"
    script.write_text(
        "import numpy as np\nimport torch\nfrom torch import nn\n\n"
        + fragment
        + '\n\nif __name__ == "__main__":\n    model = Net()\n'
    )
    report = grade(assignment, script, sandbox="local", seed=3)
    (result,) = report.checks
    assert result.status == CheckStatus.FAILED and result.score == 0.0
    assert "as a script" in result.message
    accuracy = float(re.search(r"test accuracy ([\d.]+)%", result.message).group(1))
    assert accuracy < 30.0, result.message
