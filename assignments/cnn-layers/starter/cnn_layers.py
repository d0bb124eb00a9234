"""Homework: the layers of a convolutional network, in NumPy only.

Layers are forward/backward pairs as in the backprop homework: ``*_forward``
returns ``(out, cache)`` and ``*_backward(dout, cache)`` the gradient(s). The
cache travels to the grader and back: build it from arrays, numbers, strings
and tuples/lists/dicts of those.

Convolution is cross-correlation (no kernel flip), as torch's conv2d:
x (N, C, H, W), w (F, C, HH, WW), b (F,); out (N, F, H', W') with
    out[n, f, i, j] = b[f] + sum(xpad[n, :, i*s : i*s+HH, j*s : j*s+WW] * w[f]).
Write it twice: with explicit loops (``*_naive``) and vectorised (im2col or
stride tricks). The two must agree, and a check times them: ``conv_forward``
must be at least 10x faster than ``conv_forward_naive`` on a batch x of
shape (8, 3, 32, 32) with 8 filters of 3x3, stride 1, pad 1.

Max pooling's backward sends each window's gradient to its FIRST maximum in
row-major order when several entries tie (as torch does), not to all of them.
Dropout is inverted dropout, with the grader's generator: the mask is
``np.random.default_rng(seed).random(x.shape) >= p`` (p the probability of
DROPPING a unit), and the kept units are scaled by 1 / (1 - p).
"""

import numpy as np  # noqa: F401  (you will need it)


def conv_output_size(h, w, fh, fw, stride=1, pad=0):
    """(H', W') = ((h + 2 pad - fh) / stride + 1, (w + 2 pad - fw) / stride + 1), as ints."""
    raise NotImplementedError


def conv_forward_naive(x, w, b, stride=1, pad=0):
    """Convolution with explicit loops. Returns (out (N, F, H', W'), cache)."""
    raise NotImplementedError


def conv_backward_naive(dout, cache):
    """Returns (dx (N, C, H, W), dw (F, C, HH, WW), db (F,)), with explicit loops."""
    raise NotImplementedError


def conv_forward(x, w, b, stride=1, pad=0):
    """Vectorised convolution: the same result as conv_forward_naive, >= 10x faster."""
    raise NotImplementedError


def conv_backward(dout, cache):
    """Vectorised gradients of conv_forward: (dx, dw, db)."""
    raise NotImplementedError


def max_pool_forward(x, pool=2, stride=2):
    """Max over pool x pool windows, no padding. x (N, C, H, W). Returns (out, cache)."""
    raise NotImplementedError


def max_pool_backward(dout, cache):
    """Each window's gradient to its first maximum (row-major order). Returns dx."""
    raise NotImplementedError


def avg_pool_forward(x, pool=2, stride=2):
    """Mean over pool x pool windows, no padding. Returns (out, cache)."""
    raise NotImplementedError


def avg_pool_backward(dout, cache):
    """Returns dx: each window spreads dout / pool^2 over its inputs."""
    raise NotImplementedError


def batchnorm_forward(x, gamma, beta, bn_param):
    """Batch normalisation of x (N, D) over the batch axis.

    bn_param: dict with "mode" ("train" or "test"), optional "eps" (default
    1e-5), "momentum" (default 0.9, the weight of the OLD running value) and
    "running_mean", "running_var" (default zeros and ones, shape (D,)).
    Train mode normalises with the batch mean and biased variance (divide by
    N) and updates running = momentum * running + (1 - momentum) * batch, using
    the UNBIASED batch variance (divide by N - 1) for running_var, as torch.
    Test mode normalises with the running statistics.
    Returns (out, cache, bn_param) with the running statistics in bn_param.
    """
    raise NotImplementedError


def batchnorm_backward(dout, cache):
    """Returns (dx (N, D), dgamma (D,), dbeta (D,))."""
    raise NotImplementedError


def dropout_forward(x, p, mode, seed):
    """Inverted dropout. mode "train": drop with probability p using the mask above,
    scale the kept units by 1 / (1 - p); mode "test": x unchanged. Returns (out, cache).
    """
    raise NotImplementedError


def dropout_backward(dout, cache):
    """Returns dx: dout through the same (scaled) mask."""
    raise NotImplementedError
