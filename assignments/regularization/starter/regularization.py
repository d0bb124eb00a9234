"""Homework: regularisation, in NumPy only.

Parameters come as a dict name -> array, as {"W1": ..., "b1": ..., "W2": ...}.
Weights are the arrays whose name starts with "W"; the others (biases,
named "b...") are NEVER regularised, as the notes insist: their penalty
gradient is zero.

Early stopping counts as Keras does: ``step`` returns True on the patience-th
consecutive call without improvement; an improvement must beat the best value
by MORE than min_delta; a NaN metric never improves.

Dropout is inverted dropout: mask ``np.random.default_rng(seed).random(x.shape) >= p``
(p the probability of dropping), kept units scaled by 1 / (1 - p) at training
time, so that at test time the layer is the identity.
"""

import numpy as np  # noqa: F401  (you will need it)


def l2_penalty(params, lam):
    """lam / 2 * sum over weights of sum(W^2). Returns (value, grads) with grads a dict of
    every key of params: lam * W for weights, zeros for biases."""
    raise NotImplementedError


def l1_penalty(params, lam):
    """lam * sum over weights of sum(|W|). Returns (value, grads): lam * sign(W) for weights
    (sign(0) = 0), zeros for biases."""
    raise NotImplementedError


def weight_decay_step(params, grads, lam, learning_rate):
    """One SGD step on the data loss plus the L2 penalty: a NEW dict
    {k: params[k] - learning_rate * (grads[k] + penalty gradient of k)}."""
    raise NotImplementedError


class EarlyStopping:
    """EarlyStopping(patience, min_delta=0.0, mode="min"); mode "max" for accuracy.

    Attributes after each step: best (inf / -inf before any), best_epoch (0-based
    index of the call that gave best; None before any), num_bad_epochs
    (consecutive calls without improvement), should_stop (stays True once True).
    """

    def __init__(self, patience, min_delta=0.0, mode="min"):
        raise NotImplementedError

    def step(self, metric):
        """Record one epoch's metric; return True when training should stop."""
        raise NotImplementedError


def dropout_forward(x, p, mode, seed):
    """Inverted dropout: mode "train" drops with the mask above and scales by 1 / (1 - p);
    mode "test" returns x unchanged. Returns the output only."""
    raise NotImplementedError
