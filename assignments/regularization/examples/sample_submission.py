"""A sample student submission for the regularisation homework.

Mostly right, with two mistakes students really make: the L2 penalty
regularises the biases too, and early stopping ignores min_delta. It also
prints, to show the captured output.
"""

import math

import numpy as np

FLOAT = np.float64


def _f(x):
    return np.asarray(x, dtype=FLOAT)


def is_weight(name):
    """Weights are named W...; biases (b...) are never regularised."""
    return name.startswith("W")


def l2_penalty(params, lam):
    print("debug: l2_penalty over", list(params))
    value = FLOAT(0)
    grads = {}
    for name, p in params.items():
        p = _f(p)
        value = value + FLOAT(0.5) * FLOAT(lam) * np.sum(p * p)
        grads[name] = FLOAT(lam) * p
    return FLOAT(value), grads


def l1_penalty(params, lam):
    value = FLOAT(0)
    grads = {}
    for name, p in params.items():
        p = _f(p)
        if is_weight(name):
            value = value + FLOAT(lam) * np.sum(np.abs(p))
            grads[name] = FLOAT(lam) * np.sign(p)
        else:
            grads[name] = np.zeros_like(p)
    return FLOAT(value), grads


def weight_decay_step(params, grads, lam, learning_rate):
    _, decay = l2_penalty(params, lam)
    return {k: _f(p) - learning_rate * (_f(grads[k]) + decay[k]) for k, p in params.items()}


class EarlyStopping:
    def __init__(self, patience, min_delta=0.0, mode="min"):
        self.patience = patience
        self.min_delta = min_delta
        self.mode = mode
        self.best = math.inf if mode == "min" else -math.inf
        self.best_epoch = None
        self.num_bad_epochs = 0
        self.should_stop = False
        self._epoch = 0

    def step(self, metric):
        better = metric < self.best if self.mode == "min" else metric > self.best
        if better:
            self.best, self.best_epoch, self.num_bad_epochs = float(metric), self._epoch, 0
        else:
            self.num_bad_epochs += 1
        self._epoch += 1
        if self.num_bad_epochs >= self.patience:
            self.should_stop = True
        return self.should_stop


def dropout_forward(x, p, mode, seed):
    x = _f(x)
    if mode == "test":
        return x.copy()  # inverted dropout: nothing to do at test time
    keep = np.random.default_rng(seed).random(x.shape) >= p
    return x * keep / FLOAT(1 - p)
