"""A sample student submission for the back-propagation homework.

Mostly right, with two mistakes students really make: tanh's backward written
with the input (1 - x^2) instead of the output, and an SGD step that adds the
gradient. It also prints, to show the captured output.
"""

import numpy as np

FLOAT = np.float64


def _f(x):
    return np.asarray(x, dtype=FLOAT)


def affine_forward(x, w, b):
    x, w, b = _f(x), _f(w), _f(b)
    out = x.reshape(x.shape[0], -1) @ w + b
    return out, (x, w)


def affine_backward(dout, cache):
    x, w = _f(cache[0]), _f(cache[1])
    dout = _f(dout)
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db


def relu_forward(x):
    x = _f(x)
    return np.maximum(x, 0), x


def relu_backward(dout, cache):
    return np.where(_f(cache) > 0, _f(dout), 0)


def sigmoid_forward(x):
    x = _f(x)
    e = np.exp(-np.abs(x))  # exp of a non-positive number never overflows
    out = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
    return out, out


def sigmoid_backward(dout, cache):
    s = _f(cache)
    return _f(dout) * s * (1 - s)


def tanh_forward(x):
    x = _f(x)
    return np.tanh(x), x


def tanh_backward(dout, cache):
    x = _f(cache)
    return _f(dout) * (1 - x * x)


def two_layer_net(x, target, params):
    """affine - sigmoid - affine - sigmoid, E = sum 1/2 (target - out)^2."""
    h_pre, c1 = affine_forward(x, params["W1"], params["b1"])
    h, c2 = sigmoid_forward(h_pre)
    o_pre, c3 = affine_forward(h, params["W2"], params["b2"])
    out, c4 = sigmoid_forward(o_pre)
    diff = out - _f(target)
    loss = FLOAT(0.5 * np.sum(diff * diff))
    dh, dW2, db2 = affine_backward(sigmoid_backward(diff, c4), c3)
    _, dW1, db1 = affine_backward(sigmoid_backward(dh, c2), c1)
    return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


def sgd_update(params, grads, learning_rate):
    print("debug: sgd_update with lr", learning_rate)
    return {k: _f(v) + learning_rate * _f(grads[k]) for k, v in params.items()}
