"""The template network's answers recomputed from its parameters (grader/recompute.py):
found by behaviour in every layout the course writes, refused for a forward() that is
not its parameters."""

from __future__ import annotations

import types
from pathlib import Path

import numpy as np
import pytest

from grader import recompute

HOMEWORK = Path(__file__).resolve().parents[2] / "assignments" / "mnist-numpy-mlp"


def _module(path: Path) -> types.ModuleType:
    module = types.ModuleType("np_mnist")
    exec(compile(path.read_text(), str(path), "exec"), module.__dict__)
    return module


def _arrays(net: object) -> dict[str, np.ndarray]:
    return {
        k: np.array(v)
        for k, v in vars(net).items()
        if isinstance(v, np.ndarray) and v.dtype.kind == "f"
    }


def _trained_a_little(net, rng: np.random.Generator, steps: int = 3) -> None:
    """A few steps, so that biases and caches are no longer zeros that any role would fit."""
    for _ in range(steps):
        x = rng.random((16, 784)).astype(np.float32)
        net.step(x, np.eye(10)[rng.integers(0, 10, 16)])


@pytest.mark.parametrize(
    ("path", "roles"),
    [
        (HOMEWORK / "solution" / "np_mnist.py", ("W1", "b1", "W2", "b2")),
        (
            HOMEWORK / "examples" / "transposed_float32_submission.py",
            ("weights_hidden", "bias_hidden", "weights_out", "bias_out"),
        ),
    ],
)
def test_the_layout_is_found_and_reproduces_forward(path, roles):
    rng = np.random.default_rng(0)
    net = _module(path).Network(784, 24, 10, lr=0.1)
    _trained_a_little(net, rng)
    x = rng.random((50, 784)).astype(np.float32)
    layout = recompute.find_layout(_arrays(net), x, net.forward(x), 24, 10)
    assert layout is not None
    assert layout.names == roles
    ours = recompute.probabilities(layout.scores(_arrays(net), x))
    # Against forward() itself (float64 here, float32 there for the transposed one).
    np.testing.assert_allclose(ours, net.forward(x), atol=1e-5)


FOLDED = """
import numpy as np

class Network:
    # The bias folded into each weight matrix: inputs and hidden units get a 1 appended.
    def __init__(self, input_size, hidden_size, output_size, lr=0.1):
        rng = np.random.default_rng(1)
        self.W1 = rng.normal(0, 0.05, (input_size, hidden_size))
        self.W2 = rng.normal(0, 0.3, (hidden_size + 1, output_size))
        self.cache = np.zeros((hidden_size + 1, output_size))

    def forward(self, x):
        h = np.maximum(x @ self.W1, 0)
        z = np.hstack([h, np.ones((len(x), 1))]) @ self.W2
        return z - np.log(np.exp(z).sum(axis=1, keepdims=True))  # log-probabilities
"""


def test_a_folded_bias_and_log_probabilities_are_recognised():
    net = _module_from(FOLDED).Network(785, 12, 10)
    x = np.hstack([np.random.default_rng(2).random((40, 784)), np.ones((40, 1))])
    layout = recompute.find_layout(_arrays(net), x, net.forward(x), 12, 10)
    assert layout is not None and layout.names == ("W1", "W2")
    assert layout.w2.folded == "last"


LOOKUP = """
import numpy as np

class Network:
    # Parameters of the right shapes, but forward() answers from something else.
    def __init__(self, input_size, hidden_size, output_size, lr=0.1):
        rng = np.random.default_rng(1)
        self.W1 = rng.normal(0, 0.05, (input_size, hidden_size))
        self.b1 = np.zeros(hidden_size)
        self.W2 = rng.normal(0, 0.3, (hidden_size, output_size))
        self.b2 = np.zeros(output_size)

    def forward(self, x):
        return np.eye(10)[(np.rint(x[:, :3].sum(axis=1) * 1000)).astype(int) % 10]
"""


def test_a_forward_that_is_not_its_parameters_has_no_layout():
    net = _module_from(LOOKUP).Network(784, 12, 10)
    x = np.random.default_rng(3).random((40, 784))
    assert recompute.find_layout(_arrays(net), x, net.forward(x), 12, 10) is None


def _module_from(source: str) -> types.ModuleType:
    module = types.ModuleType("np_mnist")
    exec(compile(source, "np_mnist.py", "exec"), module.__dict__)
    return module
