"""The lecture notes' back-propagation worked examples, computed with reference.layers.

Each expected number is quoted from the notes and asserted to the digits the
notes print: the tolerance is half a unit in the last printed digit, i.e. our
value must round to the printed one.
"""

from __future__ import annotations

import numpy as np
import torch

from reference.layers import affine_backward, affine_forward, sigmoid_backward, sigmoid_forward


def half_unit_in_last_digit(printed: str) -> float:
    """Tolerance that makes a value round to ``printed`` (e.g. '0.298371109' -> 5e-10)."""
    decimals = len(printed.split(".")[1])
    return 0.5 * 10.0**-decimals


def assert_rounds_to(value: float, printed: str) -> None:
    assert abs(value - float(printed)) <= half_unit_in_last_digit(printed), (value, printed)


def squared_error(out: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """E = sum 1/2 (target - out)^2 and dE/dout = out - target."""
    return float(np.sum(0.5 * (target - out) ** 2)), out - target


# ------------------------------------------------------------ the 2-2-2 network


def test_notes_two_two_two_network_one_step() -> None:
    """Lecture notes, back-propagation worked example (the classic 2-2-2 network).

    Inputs i1 = 0.05, i2 = 0.10; weights w1..w8 = 0.15, 0.20, 0.25, 0.30, 0.40,
    0.45, 0.50, 0.55 with w1: i1->h1, w2: i2->h1, w3: i1->h2, w4: i2->h2,
    w5: h1->o1, w6: h2->o1, w7: h1->o2, w8: h2->o2; bias b1 = 0.35 shared by the
    hidden units, b2 = 0.60 shared by the outputs; sigmoid units; targets 0.01,
    0.99; E = sum 1/2 (target - out)^2. The notes give
    "E_total = 0.298371109", "dE/dw5 = 0.082167041" and, after one gradient step
    at learning rate 0.5, "w5 = 0.35891648".

    Our affine weights are laid out (inputs, units), so W[i, j] is the weight
    from input i to unit j: W1 = [[w1, w3], [w2, w4]], W2 = [[w5, w7], [w6, w8]].
    """
    w1, w2, w3, w4, w5, w6, w7, w8 = 0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55
    x = np.array([[0.05, 0.10]])
    W1 = np.array([[w1, w3], [w2, w4]])
    W2 = np.array([[w5, w7], [w6, w8]])
    b1 = np.array([0.35, 0.35])
    b2 = np.array([0.60, 0.60])
    target = np.array([[0.01, 0.99]])
    learning_rate = 0.5

    z_hidden, cache_a1 = affine_forward(x, W1, b1)
    hidden, cache_s1 = sigmoid_forward(z_hidden)
    z_out, cache_a2 = affine_forward(hidden, W2, b2)
    out, cache_s2 = sigmoid_forward(z_out)
    E_total, dout = squared_error(out, target)

    dz_out = sigmoid_backward(dout, cache_s2)
    dhidden, dW2, _ = affine_backward(dz_out, cache_a2)
    dz_hidden = sigmoid_backward(dhidden, cache_s1)
    _, dW1, _ = affine_backward(dz_hidden, cache_a1)
    dE_dw5 = dW2[0, 0]
    w5_after = w5 - learning_rate * dE_dw5

    assert_rounds_to(E_total, "0.298371109")
    assert_rounds_to(dE_dw5, "0.082167041")
    assert_rounds_to(w5_after, "0.35891648")

    # The whole gradient, not only dE/dw5, agrees with torch autograd (float64).
    tW1 = torch.tensor(W1, requires_grad=True)
    tW2 = torch.tensor(W2, requires_grad=True)
    t_hidden = torch.sigmoid(torch.tensor(x) @ tW1 + torch.tensor(b1))
    t_out = torch.sigmoid(t_hidden @ tW2 + torch.tensor(b2))
    (0.5 * (torch.tensor(target) - t_out) ** 2).sum().backward()
    np.testing.assert_allclose(dW2, tW2.grad.numpy(), rtol=1e-12, atol=0)
    np.testing.assert_allclose(dW1, tW1.grad.numpy(), rtol=1e-12, atol=0)


# ------------------------------------------------------- the vanishing gradient


# Input to the chain that reproduces the notes' table (see the test's docstring).
CHAIN_A1 = 0.6922
CHAIN_UNITS = 5
# Each sigmoid derivative is at most 1/4, so with weights 1 every step back
# through a unit shrinks the gradient at least four-fold.
MIN_SHRINK_PER_LAYER = 4.0


def run_sigmoid_chain(a1: float) -> tuple[list[np.ndarray], list, list]:
    """Forward a1 through five units a_k = sigmoid(1 * a_{k-1} + 1), k = 2..6.

    Returns the activations [a1, ..., a6] (each of shape (1, 1)) and the
    affine and sigmoid caches of units 2..6.
    """
    one = np.ones((1, 1))
    acts = [np.array([[a1]])]
    affine_caches, sigmoid_caches = [], []
    for _ in range(CHAIN_UNITS):
        z, cache_a = affine_forward(acts[-1], one, np.ones(1))
        a, cache_s = sigmoid_forward(z)
        acts.append(a)
        affine_caches.append(cache_a)
        sigmoid_caches.append(cache_s)
    return acts, affine_caches, sigmoid_caches


def test_notes_vanishing_gradient_table() -> None:
    """Lecture notes, gradient-vanishing table: a chain of five sigmoid units
    a2..a6, every weight and bias 1, target 1, squared-error loss, with
    "a6 = 0.865990147", "delta6 = -0.134009853", "delta5 = -0.015554943".

    What reproduces these digits (worked out here; the notes do not say):
    - Input a1 = 0.6922. a6 barely depends on a1 (da6/da1 is about 4e-5), so
      every a1 in about [0.69216, 0.69220] reproduces all three numbers; the
      natural guesses a1 = 1 (a6 = 0.865996746) and a1 = 0 (a6 = 0.865968200)
      do not.
    - delta6 = a6 - target, the derivative of E = 1/2 (target - a6)^2 with
      respect to a6 (the sigmoid derivative of unit 6 is NOT applied).
    - delta_k = w_{k+1} * delta_{k+1} * sigmoid'(z_k) = delta_{k+1} * a_k (1 - a_k)
      for k = 5..2, i.e. the recursion delta^l = (W^T delta^{l+1}) * sigma'(z^l)
      started from delta6 = a6 - target. (Strictly, dE/dz6 for squared error is
      (a6 - target) a6 (1 - a6); the notes' delta6 is the output delta one would
      get with a cross-entropy loss. Propagating the strict dE/dz6 instead gives
      dE/dz5 = -0.001805..., which does not match the table.)
    In reference.layers terms: delta_k = sigmoid_backward(affine_backward(
    delta_{k+1}, cache of unit k+1)[0], sigmoid cache of unit k).

    The point of the table: each step back shrinks |delta| at least four-fold,
    because sigmoid' <= 1/4 and the weights are 1.
    """
    target = 1.0
    acts, affine_caches, sigmoid_caches = run_sigmoid_chain(CHAIN_A1)
    a6 = acts[-1]
    _, delta6 = squared_error(a6, np.array([[target]]))

    deltas = {6: delta6}
    for k in range(5, 1, -1):
        # affine_caches[k - 1] belongs to unit k + 1, sigmoid_caches[k - 2] to unit k.
        da_k, _, _ = affine_backward(deltas[k + 1], affine_caches[k - 1])
        deltas[k] = sigmoid_backward(da_k, sigmoid_caches[k - 2])

    assert_rounds_to(float(a6[0, 0]), "0.865990147")
    assert_rounds_to(float(deltas[6][0, 0]), "-0.134009853")
    assert_rounds_to(float(deltas[5][0, 0]), "-0.015554943")
    for k in range(5, 1, -1):
        assert abs(deltas[k][0, 0]) * MIN_SHRINK_PER_LAYER <= abs(deltas[k + 1][0, 0]), k


def test_vanishing_gradient_chain_true_gradients_match_torch_and_shrink() -> None:
    """The strict squared-error gradients dE/dz_k of the same chain, from
    reference.layers, agree with torch autograd and shrink at least four-fold
    per layer going back too."""
    target = 1.0
    acts, affine_caches, sigmoid_caches = run_sigmoid_chain(CHAIN_A1)
    _, dE_da6 = squared_error(acts[-1], np.array([[target]]))
    dz = {6: sigmoid_backward(dE_da6, sigmoid_caches[4])}
    for k in range(5, 1, -1):
        da_k, _, _ = affine_backward(dz[k + 1], affine_caches[k - 1])
        dz[k] = sigmoid_backward(da_k, sigmoid_caches[k - 2])

    a = torch.tensor(CHAIN_A1, dtype=torch.float64, requires_grad=True)
    zs = {}
    for k in range(2, 7):
        zs[k] = 1.0 * a + 1.0
        zs[k].retain_grad()
        a = torch.sigmoid(zs[k])
    (0.5 * (target - a) ** 2).backward()
    for k in range(2, 7):
        np.testing.assert_allclose(dz[k][0, 0], zs[k].grad.item(), rtol=1e-12, atol=0)
    for k in range(5, 1, -1):
        assert abs(dz[k][0, 0]) * MIN_SHRINK_PER_LAYER <= abs(dz[k + 1][0, 0]), k
