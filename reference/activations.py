"""Activation functions and their elementwise derivatives, plus softmax.

Every elementwise activation comes as a pair ``<name>(x, ...)`` and
``<name>_grad(x, ...)``; the grad takes the same extra parameters and returns
d<name>/dx elementwise, so a backward pass is ``dx = dout * <name>_grad(x)``.
``ACTIVATIONS`` maps each name to its ``(fn, grad_fn)`` pair.

What a caller may rely on, for every function here:

- x may be any real array-like or Python number; the result is a new float64
  array of x's shape (0-d for a scalar), never a view of x.
- Numerical stability: for finite x of any size (the tests use |x| up to 1e4
  and 1e300) no overflow, division-by-zero or invalid-operation floating-point
  error is raised, and the result is finite wherever the true value is.
  Results that underflow become 0 (or a subnormal), which is the correct
  float64 answer; we silence underflow reports locally for that reason, so the
  functions work under ``np.errstate(all="raise")``.
- NaN in gives NaN out for the forward functions.

Conventions at the kinks (the course notes' choices; every test of a student's
code at a kink uses these):

- ``relu_grad(0) == 0``; ``leaky_relu_grad`` is 1 only for x > 0, so its value
  at 0 is ``alpha``.
- ``binary_step(x) == 1`` for x >= 0 and 0 otherwise; ``binary_step_grad`` is 0
  everywhere, including at 0 (the derivative is 0 wherever it exists and we
  do not return a Dirac delta).
- ``elu`` and ``selu`` take the x > 0 branch test, so at 0 their grads are the
  negative-side value: ``elu_grad(0, alpha) == alpha`` and
  ``selu_grad(0) == SELU_SCALE * SELU_ALPHA``. PyTorch's autograd makes the
  same choices for relu, leaky_relu, elu and selu.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Concatenate, ParamSpec

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
P = ParamSpec("P")

# Constants from Klambauer et al. (2017), as used by torch.nn.SELU.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946

_GELU_C = math.sqrt(2.0 / math.pi)
_GELU_K = 0.044715
# For |x| >= 22 the tanh-GELU gate sigmoid(2u) is exactly 0 or 1 in float64,
# so evaluating the cubic at a clipped x changes no result but keeps x**3
# finite for x up to the float64 limit.
_GELU_CLIP = 50.0


def _elementwise(
    fn: Callable[Concatenate[FloatArray, P], FloatArray],
) -> Callable[Concatenate[npt.ArrayLike, P], FloatArray]:
    """Give ``fn`` the module's calling contract (see the module docstring).

    ``fn`` receives a private float64 copy of x and runs with underflow
    silenced; whatever it returns (a NumPy scalar for 0-d input) is turned
    back into a float64 array.
    """

    @functools.wraps(fn)
    def wrapper(x: npt.ArrayLike, *args: P.args, **kwargs: P.kwargs) -> FloatArray:
        if np.iscomplexobj(x):
            raise TypeError("activations are defined for real inputs only; got a complex array")
        x64 = np.array(x, dtype=np.float64)
        with np.errstate(under="ignore"):
            out = fn(x64, *args, **kwargs)
        return np.asarray(out, dtype=np.float64)

    return wrapper


def _sigmoid(x: FloatArray) -> FloatArray:
    """Logistic sigmoid of a float64 array, without overflow.

    exp is only ever taken of -|x| <= 0; the two branches are algebraically
    equal and each is accurate on its own side.
    """
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _sigmoid_slope(x: FloatArray) -> FloatArray:
    """sigmoid(x) * (1 - sigmoid(x)), written as sigmoid(x) * sigmoid(-x).

    1 - sigmoid(x) cancels to 0 for x beyond ~37 although the true slope is
    still representable; sigmoid(-x) keeps full relative accuracy in both tails.
    """
    return _sigmoid(x) * _sigmoid(-x)


@_elementwise
def identity(x: FloatArray) -> FloatArray:
    """f(x) = x. x: any shape; returns a float64 copy of x."""
    return x


@_elementwise
def identity_grad(x: FloatArray) -> FloatArray:
    """f'(x) = 1. x: any shape; returns ones of x's shape."""
    return np.ones_like(x)


@_elementwise
def binary_step(x: FloatArray) -> FloatArray:
    """Heaviside step: 1 for x >= 0, else 0 (NaN stays NaN). x: any shape; same shape out."""
    return np.where(np.isnan(x), np.nan, np.where(x >= 0, 1.0, 0.0))


@_elementwise
def binary_step_grad(x: FloatArray) -> FloatArray:
    """Derivative of binary_step taken as 0 everywhere, including x = 0. Same shape as x."""
    return np.zeros_like(x)


@_elementwise
def sigmoid(x: FloatArray) -> FloatArray:
    """Logistic sigmoid 1 / (1 + exp(-x)), in [0, 1]. x: any shape; same shape out."""
    return _sigmoid(x)


@_elementwise
def sigmoid_grad(x: FloatArray) -> FloatArray:
    """sigmoid(x) (1 - sigmoid(x)), accurate in both tails. x: any shape; same shape out."""
    return _sigmoid_slope(x)


@_elementwise
def tanh(x: FloatArray) -> FloatArray:
    """Hyperbolic tangent, in [-1, 1]. x: any shape; same shape out."""
    return np.tanh(x)


@_elementwise
def tanh_grad(x: FloatArray) -> FloatArray:
    """1 - tanh(x)^2. x: any shape; same shape out.

    Computed as 4 e / (1 + e)^2 with e = exp(-2|x|), which keeps full relative
    accuracy where 1 - tanh^2 would cancel to 0 (|x| beyond ~19).
    """
    e = np.exp(-2.0 * np.abs(x))
    return 4.0 * e / (1.0 + e) ** 2


@_elementwise
def arctan(x: FloatArray) -> FloatArray:
    """Inverse tangent, in (-pi/2, pi/2). x: any shape; same shape out."""
    return np.arctan(x)


@_elementwise
def arctan_grad(x: FloatArray) -> FloatArray:
    """1 / (1 + x^2). x: any shape; same shape out."""
    ax = np.abs(x)
    small = np.minimum(ax, 1.0)
    # For |x| > 1 divide through by x^2 so that huge x cannot overflow x * x.
    inv = 1.0 / np.maximum(ax, 1.0)
    return np.where(ax <= 1.0, 1.0 / (1.0 + small * small), inv * inv / (1.0 + inv * inv))


@_elementwise
def relu(x: FloatArray) -> FloatArray:
    """max(x, 0). x: any shape; same shape out."""
    return np.maximum(x, 0.0)


@_elementwise
def relu_grad(x: FloatArray) -> FloatArray:
    """1 for x > 0, else 0 (so relu_grad(0) == 0). x: any shape; same shape out."""
    return np.where(x > 0, 1.0, 0.0)


@_elementwise
def leaky_relu(x: FloatArray, alpha: float = 0.01) -> FloatArray:
    """x for x > 0, alpha * x otherwise. x: any shape; same shape out."""
    return np.where(x > 0, x, alpha * x)


@_elementwise
def leaky_relu_grad(x: FloatArray, alpha: float = 0.01) -> FloatArray:
    """1 for x > 0, alpha otherwise (so the value at 0 is alpha). Same shape as x."""
    return np.where(x > 0, 1.0, alpha)


@_elementwise
def elu(x: FloatArray, alpha: float = 1.0) -> FloatArray:
    """x for x > 0, alpha (exp(x) - 1) otherwise. x: any shape; same shape out."""
    # np.where evaluates both branches: clamp so the unused one cannot overflow.
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))


@_elementwise
def elu_grad(x: FloatArray, alpha: float = 1.0) -> FloatArray:
    """1 for x > 0, alpha exp(x) otherwise (so elu_grad(0) == alpha). Same shape as x."""
    return np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0.0)))


@_elementwise
def selu(x: FloatArray) -> FloatArray:
    """SELU_SCALE * elu(x, SELU_ALPHA) (torch.nn.SELU). x: any shape; same shape out."""
    return SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0.0)))


@_elementwise
def selu_grad(x: FloatArray) -> FloatArray:
    """SELU_SCALE for x > 0, SELU_SCALE SELU_ALPHA exp(x) otherwise (x = 0 included)."""
    return SELU_SCALE * np.where(x > 0, 1.0, SELU_ALPHA * np.exp(np.minimum(x, 0.0)))


@_elementwise
def swish(x: FloatArray, beta: float = 1.0) -> FloatArray:
    """x sigmoid(beta x); beta = 1 is SiLU. x: any shape; same shape out."""
    return x * _sigmoid(beta * x)


@_elementwise
def swish_grad(x: FloatArray, beta: float = 1.0) -> FloatArray:
    """sigmoid(beta x) + beta x sigmoid(beta x) (1 - sigmoid(beta x)). Same shape as x."""
    bx = beta * x
    return _sigmoid(bx) + bx * _sigmoid_slope(bx)


def _gelu_gate_argument(x: FloatArray) -> tuple[FloatArray, FloatArray]:
    """u(x) = sqrt(2/pi) (x + 0.044715 x^3) and du/dx, evaluated at x clipped (see _GELU_CLIP)."""
    xc = np.clip(x, -_GELU_CLIP, _GELU_CLIP)
    u = _GELU_C * (xc + _GELU_K * xc**3)
    du = _GELU_C * (1.0 + 3.0 * _GELU_K * xc * xc)
    return u, du


@_elementwise
def gelu(x: FloatArray) -> FloatArray:
    """GELU, tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).

    Equal to torch.nn.functional.gelu(x, approximate="tanh"). x: any shape;
    same shape out. Evaluated as x sigmoid(2u), the same function, because
    1 + tanh(u) cancels badly for negative x while sigmoid(2u) does not.
    """
    u, _ = _gelu_gate_argument(x)
    return x * _sigmoid(2.0 * u)


@_elementwise
def gelu_grad(x: FloatArray) -> FloatArray:
    """Derivative of the tanh-approximation GELU. x: any shape; same shape out."""
    u, du = _gelu_gate_argument(x)
    # The gate's slope is exactly 0 wherever x is huge, so form it before
    # multiplying by x: x * 2 could itself overflow near the float64 limit.
    return _sigmoid(2.0 * u) + x * (2.0 * _sigmoid_slope(2.0 * u) * du)


@_elementwise
def softplus(x: FloatArray) -> FloatArray:
    """log(1 + exp(x)), computed as max(x, 0) + log1p(exp(-|x|)). Same shape as x.

    Unlike torch.nn.functional.softplus this has no threshold above which it
    returns x itself; the two differ by less than 3e-9 (at x = 20) and agree
    exactly once exp(-x) is below float64 resolution.
    """
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


@_elementwise
def softplus_grad(x: FloatArray) -> FloatArray:
    """sigmoid(x). x: any shape; same shape out."""
    return _sigmoid(x)


@_elementwise
def softsign(x: FloatArray) -> FloatArray:
    """x / (1 + |x|), in (-1, 1). x: any shape; same shape out."""
    return x / (1.0 + np.abs(x))


@_elementwise
def softsign_grad(x: FloatArray) -> FloatArray:
    """1 / (1 + |x|)^2. x: any shape; same shape out."""
    # Square the reciprocal rather than divide by a square that could overflow.
    r = 1.0 / (1.0 + np.abs(x))
    return r * r


@_elementwise
def softmax(x: FloatArray, axis: int = -1) -> FloatArray:
    """Softmax along ``axis``: exp(x) / sum(exp(x)), each slice summing to 1.

    x: array of at least one dimension, finite; returns float64 of x's shape
    with entries in [0, 1]. Subtracting the slice maximum first means exp is
    never taken of a positive number, so logits of any size are safe.
    """
    shifted = x - np.max(x, axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=axis, keepdims=True)


@_elementwise
def softmax_jacobian(z: FloatArray) -> FloatArray:
    """Jacobian of softmax at a 1-D z: J[i, j] = d s_i / d z_j = diag(s) - s s^T.

    z: shape (K,), finite. Returns shape (K, K), symmetric, rows summing to 0.
    """
    if z.ndim != 1:
        raise ValueError(f"softmax_jacobian needs a 1-D z; got shape {z.shape}")
    s = softmax(z)
    return np.diag(s) - np.outer(s, s)


ActivationFn = Callable[..., FloatArray]

# Elementwise activations only: softmax couples its inputs, so it has a
# Jacobian (softmax_jacobian) rather than an elementwise derivative.
ACTIVATIONS: dict[str, tuple[ActivationFn, ActivationFn]] = {
    "identity": (identity, identity_grad),
    "binary_step": (binary_step, binary_step_grad),
    "sigmoid": (sigmoid, sigmoid_grad),
    "tanh": (tanh, tanh_grad),
    "arctan": (arctan, arctan_grad),
    "relu": (relu, relu_grad),
    "leaky_relu": (leaky_relu, leaky_relu_grad),
    "elu": (elu, elu_grad),
    "selu": (selu, selu_grad),
    "swish": (swish, swish_grad),
    "gelu": (gelu, gelu_grad),
    "softplus": (softplus, softplus_grad),
    "softsign": (softsign, softsign_grad),
}
