"""Centred differences of an elementwise function, every element at once.

The activations' gradient checks take them in two calls of the reference where
one element at a time takes two per element; the numbers must be the very same.
"""

from __future__ import annotations

import numpy as np
import pytest

from reference import activations as act
from reference.gradcheck import (
    eval_numerical_gradient_array,
    eval_numerical_gradient_elementwise,
)

ELEMENTWISE = [
    "identity", "sigmoid", "tanh", "arctan", "relu", "leaky_relu", "elu", "selu", "swish",
    "gelu", "softplus", "softsign", "binary_step",
]  # fmt: skip


@pytest.mark.parametrize("name", ELEMENTWISE)
@pytest.mark.parametrize("shape", [(4, 5), (7,), (2, 3, 4)])
def test_every_element_at_once_equals_one_at_a_time_to_the_bit(name: str, shape) -> None:
    rng = np.random.default_rng([len(name), len(shape)])
    f = getattr(act, name)
    for scale in (1.0, 30.0):
        x = rng.standard_normal(shape) * scale
        dout = rng.standard_normal(shape)
        one_at_a_time = eval_numerical_gradient_array(f, x.copy(), dout)
        at_once = eval_numerical_gradient_elementwise(f, x, dout)
        assert np.array_equal(at_once, one_at_a_time), name


def test_at_once_is_wrong_where_elements_interact() -> None:
    """Why it is asked for by name: softmax mixes elements, and moving them all at once
    says nothing of its Jacobian."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 6))
    dout = rng.standard_normal((3, 6))
    one_at_a_time = eval_numerical_gradient_array(act.softmax, x.copy(), dout)
    at_once = eval_numerical_gradient_elementwise(act.softmax, x, dout)
    assert not np.allclose(at_once, one_at_a_time, rtol=1e-3, atol=1e-6)


def test_the_slope_of_tanh_is_its_derivative() -> None:
    """Against the closed form 1 - tanh(x)^2, not against either implementation."""
    x = np.linspace(-3, 3, 13)
    got = eval_numerical_gradient_elementwise(act.tanh, x, np.ones_like(x))
    assert np.allclose(got, 1 - np.tanh(x) ** 2, rtol=1e-8, atol=1e-10)
