"""Homework: back-propagation, layer by layer, in NumPy only.

Every layer is a pair of functions (the CS231n style of the notes):

- ``<layer>_forward(inputs...) -> (out, cache)``: ``cache`` holds what the
  backward pass needs. It travels to the grader and back, so build it from
  arrays, numbers and tuples/lists/dicts of those (no objects of your own).
- ``<layer>_backward(dout, cache) -> gradient(s)``: ``dout`` is dL/dout; return
  dL/d(each input), each shaped like that input.

Every backward is graded against the reference AND against finite differences
of YOUR forward, so a report tells a wrong forward from a wrong backward. At a
kink use relu'(0) = 0 (as the notes and torch). sigmoid_forward must return the
right, finite values for |x| as large as 1000. Only values are graded.
"""

import numpy as np  # noqa: F401  (you will need it)


def affine_forward(x, w, b):
    """out = x.reshape(N, D) @ w + b.

    x: (N, d_1, ..., d_k), each example flattened to D = d_1 * ... * d_k;
    w: (D, M); b: (M,). Returns (out of shape (N, M), cache).
    """
    raise NotImplementedError


def affine_backward(dout, cache):
    """dout: (N, M). Returns (dx shaped like x, dw (D, M), db (M,))."""
    raise NotImplementedError


def relu_forward(x):
    """max(0, x) elementwise. Returns (out, cache)."""
    raise NotImplementedError


def relu_backward(dout, cache):
    """dout where x > 0, else 0. Returns dx shaped like x."""
    raise NotImplementedError


def sigmoid_forward(x):
    """1 / (1 + exp(-x)) elementwise, right for |x| up to 1000. Returns (out, cache)."""
    raise NotImplementedError


def sigmoid_backward(dout, cache):
    """Returns dx = dout * sigmoid'(x), shaped like x."""
    raise NotImplementedError


def tanh_forward(x):
    """tanh elementwise. Returns (out, cache)."""
    raise NotImplementedError


def tanh_backward(dout, cache):
    """Returns dx = dout * tanh'(x), shaped like x."""
    raise NotImplementedError


def two_layer_net(x, target, params):
    """The notes' network: affine - sigmoid - affine - sigmoid, squared error.

    x: (N, D); target: (N, M); params: dict with "W1" (D, H), "b1" (H,),
    "W2" (H, M), "b2" (M,). The loss is the notes' E_total = sum over every
    sample and output of 1/2 (target - out)^2 (a sum, not a mean).
    Returns (loss, grads) with grads a dict of the same keys and shapes.
    Build it from your layers above.
    """
    raise NotImplementedError


def sgd_update(params, grads, learning_rate):
    """One gradient-descent step: a NEW dict {k: params[k] - learning_rate * grads[k]}."""
    raise NotImplementedError
