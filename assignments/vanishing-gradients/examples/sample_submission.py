"""A sample student submission for the vanishing-gradients homework.

Mostly right, with one mistake students really make: the chain's deltas leave
the weight out (right only when every weight is 1, as in the notes' table).
It also prints, to show the captured output.
"""

import numpy as np

FLOAT = np.float64


def _f(x):
    return np.asarray(x, dtype=FLOAT)


def _sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_chain(a1, w=1.0, b=1.0, target=1.0, units=5):
    acts = [FLOAT(a1)]
    for _ in range(units):
        acts.append(_sigmoid(FLOAT(w) * acts[-1] + FLOAT(b)))
    deltas = [acts[-1] - FLOAT(target)]  # the notes' delta at the output: a - target
    for k in range(units - 1, 0, -1):  # back through units units..2 (acts[k] is unit k + 1)
        deltas.append(deltas[-1] * acts[k] * (1 - acts[k]))
    return _f(acts), _f(deltas[::-1])


def _act(z, activation):
    return _sigmoid(z) if activation == "sigmoid" else np.maximum(z, 0)


def _act_grad(z, a, activation):
    return a * (1 - a) if activation == "sigmoid" else (z > 0).astype(FLOAT)


def gradient_norms(x, y, weights, biases, activation):
    x, y = _f(x), _f(y)
    weights, biases = [_f(w) for w in weights], [_f(b) for b in biases]
    hs, zs = [x], []
    for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
        z = hs[-1] @ w + b
        zs.append(z)
        hs.append(z if i == len(weights) - 1 else _act(z, activation))
    delta = (hs[-1] - y) / x.shape[0]  # d/d out of the mean over N of 1/2 ||out - y||^2
    norms = []
    for i in range(len(weights) - 1, -1, -1):
        norms.append(np.sqrt(np.sum((hs[i].T @ delta) ** 2)))
        if i > 0:
            delta = (delta @ weights[i].T) * _act_grad(zs[i - 1], hs[i], activation)
    return _f(norms[::-1])


def vanishing_experiment(depth, width, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((64, width))
    y = rng.standard_normal((64, 1))
    result = {}
    print("debug: experiment", depth, width)
    for activation in ("sigmoid", "relu"):
        weights, biases = [], []
        for i in range(depth):
            fan_out = 1 if i == depth - 1 else width
            # Xavier for the sigmoid net, He for the ReLU net
            var = 2.0 / (width + fan_out) if activation == "sigmoid" else 2.0 / width
            weights.append(np.sqrt(var) * rng.standard_normal((width, fan_out)))
            biases.append(np.zeros(fan_out))
        result[activation] = gradient_norms(x, y, weights, biases, activation)
    return result
