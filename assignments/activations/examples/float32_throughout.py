"""A correct activations homework computed entirely in float32 (a student's choice, not a mistake).

Inputs are converted to float32 on entry, every constant is a float32, and
every result is returned as float32 by ``_out``. The tests also grade copies
whose ``_out`` converts the float32 result to float64 or to nested lists at
the very end: the values are float32's either way, and each scores full
marks (grader/checks.py's compare judges them at float32's resolution).
"""

import numpy as np

F = np.float32
SELU_ALPHA = F(1.6732632423543772848170429916717)
SELU_SCALE = F(1.0507009873554804934193349852946)
GELU_C = F(np.sqrt(2.0 / np.pi))
GELU_K = F(0.044715)
ONE, HALF, ZERO = F(1.0), F(0.5), F(0.0)


def _f(x):
    return np.asarray(x, dtype=F)


def _out(y):
    return np.asarray(y, dtype=F)


def identity(x):
    return _out(_f(x).copy())


def identity_grad(x):
    return _out(np.ones_like(_f(x)))


def binary_step(x):
    return _out((_f(x) >= 0).astype(F))


def binary_step_grad(x):
    return _out(np.zeros_like(_f(x)))


def _sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, ONE / (ONE + e), e / (ONE + e)).astype(F)


def sigmoid(x):
    return _out(_sigmoid(_f(x)))


def sigmoid_grad(x):
    s = _sigmoid(_f(x))
    return _out(s * (ONE - s))


def tanh(x):
    return _out(np.tanh(_f(x)))


def tanh_grad(x):
    t = np.tanh(_f(x))
    return _out(ONE - t * t)


def arctan(x):
    return _out(np.arctan(_f(x)))


def arctan_grad(x):
    x = _f(x)
    return _out(ONE / (ONE + x * x))


def relu(x):
    return _out(np.maximum(_f(x), ZERO))


def relu_grad(x):
    return _out((_f(x) > 0).astype(F))


def leaky_relu(x, alpha=0.01):
    x, a = _f(x), F(alpha)
    return _out(np.where(x > 0, x, a * x))


def leaky_relu_grad(x, alpha=0.01):
    return _out(np.where(_f(x) > 0, ONE, F(alpha)))


def _elu(x, a):
    return np.where(x > 0, x, a * np.expm1(np.minimum(x, ZERO))).astype(F)


def _elu_grad(x, a):
    return np.where(x > 0, ONE, a * np.exp(np.minimum(x, ZERO))).astype(F)


def elu(x, alpha=1.0):
    return _out(_elu(_f(x), F(alpha)))


def elu_grad(x, alpha=1.0):
    return _out(_elu_grad(_f(x), F(alpha)))


def selu(x):
    return _out(SELU_SCALE * _elu(_f(x), SELU_ALPHA))


def selu_grad(x):
    return _out(SELU_SCALE * _elu_grad(_f(x), SELU_ALPHA))


def swish(x, beta=1.0):
    x = _f(x)
    return _out(x * _sigmoid(F(beta) * x))


def swish_grad(x, beta=1.0):
    x, b = _f(x), F(beta)
    s = _sigmoid(b * x)
    return _out(s + b * x * s * (ONE - s))


def _gelu_t(x):
    return np.tanh(GELU_C * (x + GELU_K * x * x * x))


def gelu(x):
    x = _f(x)
    return _out(HALF * x * (ONE + _gelu_t(x)))


def gelu_grad(x):
    x = _f(x)
    t = _gelu_t(x)
    return _out(
        HALF * (ONE + t) + HALF * x * (ONE - t * t) * GELU_C * (ONE + F(3) * GELU_K * x * x)
    )


def softplus(x):
    x = _f(x)
    return _out(np.maximum(x, ZERO) + np.log1p(np.exp(-np.abs(x))))


def softplus_grad(x):
    return _out(_sigmoid(_f(x)))


def softsign(x):
    x = _f(x)
    return _out(x / (ONE + np.abs(x)))


def softsign_grad(x):
    d = ONE + np.abs(_f(x))
    return _out(ONE / (d * d))


def _softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def softmax(x, axis=-1):
    return _out(_softmax(_f(x), axis))


def softmax_jacobian(z):
    s = _softmax(_f(z))
    return _out(np.diag(s) - np.outer(s, s))
