"""Homework: the vanishing gradient, measured, in NumPy only.

1. The notes' chain of sigmoid units: a_1 is given, then for k = 2 .. units + 1
   a_k = sigmoid(w * a_{k-1} + b). The notes' deltas: at the output
   delta = a_last - target (the sigmoid's derivative is NOT applied there), and
   going back delta_k = w * delta_{k+1} * a_k * (1 - a_k). With the notes'
   numbers (a1 = 0.6922, w = b = target = 1, five units) a6 = 0.865990147,
   delta6 = -0.134009853, delta5 = -0.015554943: every step back shrinks the
   gradient at least four-fold, because sigmoid' <= 1/4.

2. Per-layer gradient norms of a deep network: hidden layers
   h_l = act(h_{l-1} @ W_l + b_l), a linear output layer, and the loss
   mean over the N samples of 1/2 ||out - y||^2.

3. The experiment: the same measurement for a sigmoid network with Xavier
   initialisation and a ReLU network with He initialisation. The grader
   checks the ratio first-layer norm / last-layer norm: tiny for sigmoid
   (the gradient vanishes), of order 1 for ReLU with He.
"""

import numpy as np  # noqa: F401  (you will need it)


def sigmoid_chain(a1, w=1.0, b=1.0, target=1.0, units=5):
    """Returns (activations, deltas) as arrays: activations [a_1, ..., a_{units+1}]
    (units + 1 numbers) and deltas [delta_2, ..., delta_{units+1}] (units numbers).
    """
    raise NotImplementedError


def gradient_norms(x, y, weights, biases, activation):
    """Frobenius norm of dLoss/dW_l for every layer l, first to last.

    x: (N, D); y: (N, M); weights: list of L arrays, W_l of shape (fan_in, fan_out);
    biases: list of L arrays (fan_out,); activation: "sigmoid" or "relu" for the
    L - 1 hidden layers (the output layer is linear). Returns an array of L numbers.
    """
    raise NotImplementedError


def vanishing_experiment(depth, width, seed):
    """Both networks, measured: {"sigmoid": norms, "relu": norms}, each of depth numbers.

    With rng = np.random.default_rng(seed): x ~ N(0, 1) of shape (64, width),
    y ~ N(0, 1) of shape (64, 1); depth weight layers (width -> width, ...,
    width -> 1) with zero biases; the sigmoid net Xavier-normal
    (std sqrt(2 / (fan_in + fan_out))), the ReLU net He-normal (std sqrt(2 / fan_in)).
    """
    raise NotImplementedError
