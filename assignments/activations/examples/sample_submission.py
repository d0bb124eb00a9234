"""A sample student submission, bundled for `dlgrade demo`.

Mostly right, with three mistakes students really make: a sigmoid written
exp(x) / (1 + exp(x)), which is inf / inf = NaN for large x, relu'(0) = 1, and
a softmax_jacobian with the outer product's sign flipped. It also prints, to
show the captured output.
"""

import numpy as np

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
GELU_C = np.sqrt(2.0 / np.pi)


def _f(x):
    return np.asarray(x, dtype=np.float64)


def identity(x):
    return _f(x).copy()


def identity_grad(x):
    return np.ones_like(_f(x))


def binary_step(x):
    return (_f(x) >= 0).astype(np.float64)


def binary_step_grad(x):
    return np.zeros_like(_f(x))


def sigmoid(x):
    e = np.exp(_f(x))
    return e / (1.0 + e)


def sigmoid_grad(x):
    s = sigmoid(x)
    return s * (1.0 - s)


def tanh(x):
    return np.tanh(_f(x))


def tanh_grad(x):
    return 1.0 - np.tanh(_f(x)) ** 2


def arctan(x):
    return np.arctan(_f(x))


def arctan_grad(x):
    x = _f(x)
    return 1.0 / (1.0 + x * x)


def relu(x):
    return np.maximum(_f(x), 0.0)


def relu_grad(x):
    return (_f(x) >= 0).astype(np.float64)


def leaky_relu(x, alpha=0.01):
    x = _f(x)
    return np.where(x > 0, x, alpha * x)


def leaky_relu_grad(x, alpha=0.01):
    return np.where(_f(x) > 0, 1.0, alpha)


def elu(x, alpha=1.0):
    x = _f(x)
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))


def elu_grad(x, alpha=1.0):
    x = _f(x)
    return np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0.0)))


def selu(x):
    return SELU_SCALE * elu(x, SELU_ALPHA)


def selu_grad(x):
    return SELU_SCALE * elu_grad(x, SELU_ALPHA)


def swish(x, beta=1.0):
    x = _f(x)
    return x * sigmoid(beta * x)


def swish_grad(x, beta=1.0):
    x = _f(x)
    s = sigmoid(beta * x)
    return s + beta * x * s * (1.0 - s)


def gelu(x):
    x = _f(x)
    return 0.5 * x * (1.0 + np.tanh(GELU_C * (x + 0.044715 * x**3)))


def gelu_grad(x):
    x = _f(x)
    t = np.tanh(GELU_C * (x + 0.044715 * x**3))
    return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * GELU_C * (1.0 + 3 * 0.044715 * x * x)


def softplus(x):
    x = _f(x)
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def softplus_grad(x):
    return sigmoid(x)


def softsign(x):
    x = _f(x)
    return x / (1.0 + np.abs(x))


def softsign_grad(x):
    x = _f(x)
    return 1.0 / (1.0 + np.abs(x)) ** 2


def softmax(x, axis=-1):
    x = _f(x)
    shifted = x - np.max(x, axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=axis, keepdims=True)


def softmax_jacobian(z):
    s = softmax(_f(z))
    print("debug: softmax_jacobian called with", z.shape)
    return np.diag(s) + np.outer(s, s)
