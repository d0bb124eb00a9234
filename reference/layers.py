"""Layers of a feed-forward network as forward/backward function pairs, in float64.

Every layer follows one contract, in the style of the CS231n assignments:

- ``*_forward(inputs..., params...) -> (out, cache)``: ``cache`` holds whatever
  the backward pass needs and is opaque to callers (do not rely on its layout).
- ``*_backward(dout, cache) -> gradient(s)``: ``dout`` is the upstream gradient
  ``dL/dout`` (shaped like ``out``); the result holds ``dL/d<input>`` for each
  input, each shaped like that input.

Inputs are converted to float64 (no copy when they already are); outputs are
float64 arrays that never alias the caller's inputs. Nothing here mutates its
array arguments; ``batchnorm_forward`` stores new running statistics in the
``bn_param`` dict it is given, as documented there.

Convolution is cross-correlation (no kernel flip), as in
``torch.nn.functional.conv2d``. Sizes that do not tile exactly are refused with
a ``ValueError`` (see ``conv_output_size``) rather than silently cropped.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = [
    "affine_backward",
    "affine_forward",
    "avg_pool_backward",
    "avg_pool_forward",
    "batchnorm_backward",
    "batchnorm_forward",
    "conv_backward",
    "conv_backward_naive",
    "conv_forward",
    "conv_forward_naive",
    "conv_output_size",
    "dropout_backward",
    "dropout_forward",
    "max_pool_backward",
    "max_pool_forward",
    "relu_backward",
    "relu_forward",
    "sigmoid_backward",
    "sigmoid_forward",
    "tanh_backward",
    "tanh_forward",
]


def _f64(a: Any) -> np.ndarray:
    return np.asarray(a, dtype=np.float64)


# --------------------------------------------------------------------------- affine


def affine_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, Any]:
    """Fully connected layer ``out = x.reshape(N, D) @ w + b``.

    x: input of shape (N, d_1, ..., d_k); each example is flattened in C order
       to length D = d_1 * ... * d_k.
    w: weights of shape (D, M).
    b: biases of shape (M,).
    Returns out of shape (N, M) and a cache for ``affine_backward``.
    """
    x, w, b = _f64(x), _f64(w), _f64(b)
    x_flat = x.reshape(x.shape[0], -1)
    if x_flat.shape[1] != w.shape[0]:
        raise ValueError(
            f"x flattens to {x_flat.shape[1]} features per example but w has {w.shape[0]} rows"
        )
    out = x_flat @ w + b
    return out, (x, w)


def affine_backward(dout: np.ndarray, cache: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of the affine layer.

    dout: upstream gradient of shape (N, M).
    Returns (dx, dw, db) with the shapes of x (N, d_1, ..., d_k), w (D, M) and b (M,).
    """
    x, w = cache
    dout = _f64(dout)
    x_flat = x.reshape(x.shape[0], -1)
    dx = (dout @ w.T).reshape(x.shape)
    dw = x_flat.T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db


# ---------------------------------------------------------------------- activations


def relu_forward(x: np.ndarray) -> tuple[np.ndarray, Any]:
    """Rectified linear unit ``max(0, x)`` elementwise.

    x: array of any shape. Returns out of the same shape and a cache.
    """
    x = _f64(x)
    return np.maximum(x, 0.0), x


def relu_backward(dout: np.ndarray, cache: Any) -> np.ndarray:
    """Gradient of ReLU: ``dout`` where x > 0, else 0 (so relu'(0) = 0, as in torch).

    dout: upstream gradient shaped like x. Returns dx shaped like x.
    """
    x = cache
    return np.where(x > 0, _f64(dout), 0.0)


def sigmoid_forward(x: np.ndarray) -> tuple[np.ndarray, Any]:
    """Logistic sigmoid ``1 / (1 + exp(-x))`` elementwise.

    x: array of any shape. Returns out (same shape, values in [0, 1]) and a cache.
    Stable for large |x| (e.g. +-1000): no overflow warnings, saturates to 0 or 1.
    """
    x = _f64(x)
    # exp of a non-positive number never overflows; each branch uses the form
    # whose exponent is -|x|.
    e = np.exp(-np.abs(x))
    out = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return out, out


def sigmoid_backward(dout: np.ndarray, cache: Any) -> np.ndarray:
    """Gradient of the sigmoid: ``dout * s * (1 - s)`` with s the forward output.

    dout: upstream gradient shaped like x. Returns dx shaped like x.
    """
    s = cache
    return _f64(dout) * s * (1.0 - s)


def tanh_forward(x: np.ndarray) -> tuple[np.ndarray, Any]:
    """Hyperbolic tangent elementwise.

    x: array of any shape. Returns out (same shape, values in [-1, 1]) and a cache.
    """
    out = np.tanh(_f64(x))
    return out, out


def tanh_backward(dout: np.ndarray, cache: Any) -> np.ndarray:
    """Gradient of tanh: ``dout * (1 - tanh(x)**2)``.

    dout: upstream gradient shaped like x. Returns dx shaped like x.
    """
    t = cache
    return _f64(dout) * (1.0 - t * t)


# -------------------------------------------------------------------------- dropout

_DROPOUT_MODES = ("train", "test")


def dropout_forward(
    x: np.ndarray, p: float, mode: str, rng: np.random.Generator | None = None
) -> tuple[np.ndarray, Any]:
    """Inverted dropout.

    x: array of any shape.
    p: probability of DROPPING each unit, 0 <= p < 1 (torch's convention).
    mode: 'train' zeroes each unit independently with probability p and scales
        the kept ones by 1 / (1 - p), so E[out] = x; 'test' returns x unchanged.
    rng: the generator that draws the mask; required in 'train' mode, unused in
        'test'. The same generator state gives the same mask.
    Returns out shaped like x and a cache for ``dropout_backward``.
    Raises ValueError for p outside [0, 1), an unknown mode, or a missing rng in
    'train' mode.
    """
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout probability p must satisfy 0 <= p < 1, got {p!r}")
    if mode not in _DROPOUT_MODES:
        raise ValueError(f"dropout mode must be 'train' or 'test', got {mode!r}")
    x = _f64(x)
    if mode == "test":
        return x.copy(), (mode, None)
    if rng is None:
        raise ValueError("dropout in 'train' mode needs an np.random.Generator as rng")
    # Scaling at train time keeps the test-time pass a plain identity.
    mask = (rng.random(x.shape) >= p) / (1.0 - p)
    return x * mask, (mode, mask)


def dropout_backward(dout: np.ndarray, cache: Any) -> np.ndarray:
    """Gradient of inverted dropout: ``dout`` times the same scaled mask the forward used.

    dout: upstream gradient shaped like x. Returns dx shaped like x.
    """
    mode, mask = cache
    dout = _f64(dout)
    if mode == "test":
        return dout.copy()
    return dout * mask


# ------------------------------------------------------------------------ batchnorm


def batchnorm_forward(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, bn_param: dict[str, Any]
) -> tuple[np.ndarray, Any]:
    """Batch normalisation over the batch axis of x (N, D).

    gamma, beta: scale and shift of shape (D,).
    bn_param: dict with
      - 'mode': 'train' or 'test' (required);
      - 'eps': added to the variance, default 1e-5;
      - 'momentum': weight of the OLD running value, default 0.9, i.e.
        ``running = momentum * running + (1 - momentum) * batch_stat``
        (torch's ``momentum`` argument is 1 - this);
      - 'running_mean', 'running_var': shape (D,); created as zeros and ones
        when missing.
    Train mode normalises with the batch mean and the biased batch variance
    (divide by N) and then stores updated running statistics in ``bn_param``
    (new arrays under the same keys; arrays the caller passed in are not
    mutated). The running variance is updated with the UNBIASED batch variance
    (divide by N - 1), as torch does, so the statistics match
    ``torch.nn.BatchNorm1d(momentum=1 - momentum)``; train mode therefore needs
    N >= 2. Test mode normalises with the running statistics and does not
    change them (it only stores the zeros/ones defaults when they were missing).
    Returns out of shape (N, D) and a cache for ``batchnorm_backward``.
    """
    mode = bn_param.get("mode")
    if mode not in ("train", "test"):
        raise ValueError(f"bn_param['mode'] must be 'train' or 'test', got {mode!r}")
    x, gamma, beta = _f64(x), _f64(gamma), _f64(beta)
    if x.ndim != 2:
        raise ValueError(f"batchnorm expects x of shape (N, D), got {x.shape}")
    N, D = x.shape
    eps = float(bn_param.get("eps", 1e-5))
    momentum = float(bn_param.get("momentum", 0.9))
    running_mean = _f64(bn_param.get("running_mean", np.zeros(D)))
    running_var = _f64(bn_param.get("running_var", np.ones(D)))

    if mode == "train":
        if N < 2:
            raise ValueError("batchnorm in 'train' mode needs at least 2 examples per batch")
        mean = x.mean(axis=0)
        var = x.var(axis=0)
        bn_param["running_mean"] = momentum * running_mean + (1.0 - momentum) * mean
        bn_param["running_var"] = momentum * running_var + (1.0 - momentum) * var * (N / (N - 1))
    else:
        mean, var = running_mean, running_var
        bn_param.setdefault("running_mean", running_mean)
        bn_param.setdefault("running_var", running_var)

    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mean) * inv_std
    out = gamma * x_hat + beta
    return out, (mode, x_hat, gamma, inv_std)


def batchnorm_backward(dout: np.ndarray, cache: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of batch normalisation.

    dout: upstream gradient of shape (N, D).
    Returns (dx, dgamma, dbeta) of shapes (N, D), (D,), (D,). In train mode dx
    accounts for the dependence of the batch mean and variance on x; in test
    mode the running statistics are constants.
    """
    mode, x_hat, gamma, inv_std = cache
    dout = _f64(dout)
    dgamma = (dout * x_hat).sum(axis=0)
    dbeta = dout.sum(axis=0)
    dx_hat = dout * gamma
    if mode == "test":
        return dx_hat * inv_std, dgamma, dbeta
    N = dout.shape[0]
    # The batch statistics remove the mean of dx_hat and its projection on x_hat.
    dx = (inv_std / N) * (N * dx_hat - dx_hat.sum(axis=0) - x_hat * (dx_hat * x_hat).sum(axis=0))
    return dx, dgamma, dbeta


# ---------------------------------------------------------------------- convolution


def conv_output_size(
    h: int, w: int, fh: int, fw: int, stride: int = 1, pad: int = 0
) -> tuple[int, int]:
    """Spatial output size of a filter (or pooling window) sliding over an input.

    h, w: input height and width; fh, fw: filter height and width; stride >= 1;
    pad >= 0 zeros added on every side.
    Returns (oh, ow) = ((h + 2 pad - fh) / stride + 1, (w + 2 pad - fw) / stride + 1).
    Raises ValueError when the filter is larger than the padded input or when
    the filter positions do not tile the padded input exactly (the division is
    not exact) -- this library refuses to crop silently.
    """
    if stride < 1:
        raise ValueError(f"stride must be a positive integer, got {stride}")
    if pad < 0:
        raise ValueError(f"pad must be a non-negative integer, got {pad}")
    if min(h, w, fh, fw) < 1:
        raise ValueError(f"sizes must be positive: input {h}x{w}, filter {fh}x{fw}")
    sizes = []
    for axis, n, f in (("height", h, fh), ("width", w, fw)):
        span = n + 2 * pad - f
        if span < 0:
            raise ValueError(
                f"filter {axis} {f} is larger than the padded input {axis} {n + 2 * pad} "
                f"(input {n}, pad {pad})"
            )
        if span % stride != 0:
            raise ValueError(
                f"sizes do not fit along {axis}: (input {n} + 2*pad {pad} - filter {f}) = "
                f"{span} is not divisible by stride {stride}"
            )
        sizes.append(span // stride + 1)
    return sizes[0], sizes[1]


def _check_conv_shapes(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> None:
    if x.ndim != 4 or w.ndim != 4:
        raise ValueError(
            f"conv expects x (N, C, H, W) and w (F, C, HH, WW); got {x.shape}, {w.shape}"
        )
    if x.shape[1] != w.shape[1]:
        raise ValueError(f"x has {x.shape[1]} channels but w expects {w.shape[1]}")
    if b.shape != (w.shape[0],):
        raise ValueError(f"b must have shape ({w.shape[0]},), got {b.shape}")


def _pad_hw(x: np.ndarray, pad: int) -> np.ndarray:
    return np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))) if pad else x


def conv_forward_naive(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int = 1, pad: int = 0
) -> tuple[np.ndarray, Any]:
    """Convolution (cross-correlation) written as explicit loops; the readable twin of
    ``conv_forward``, with the same contract and results.

    x: input of shape (N, C, H, W); w: filters of shape (F, C, HH, WW); b: (F,).
    stride, pad: as in ``conv_output_size``, which decides H', W' and the errors.
    Returns out of shape (N, F, H', W') with
    ``out[n, f, i, j] = b[f] + sum(xpad[n, :, i*s : i*s+HH, j*s : j*s+WW] * w[f])``.
    """
    x, w, b = _f64(x), _f64(w), _f64(b)
    _check_conv_shapes(x, w, b)
    N, _, H, W = x.shape
    F, _, HH, WW = w.shape
    OH, OW = conv_output_size(H, W, HH, WW, stride, pad)
    xp = _pad_hw(x, pad)
    out = np.empty((N, F, OH, OW))
    for n in range(N):
        for f in range(F):
            for i in range(OH):
                for j in range(OW):
                    window = xp[n, :, i * stride : i * stride + HH, j * stride : j * stride + WW]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    return out, (x, w, stride, pad)


def conv_backward_naive(dout: np.ndarray, cache: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of ``conv_forward_naive``, written as explicit loops.

    dout: upstream gradient of shape (N, F, H', W').
    Returns (dx, dw, db) of shapes (N, C, H, W), (F, C, HH, WW), (F,).
    """
    x, w, stride, pad = cache
    dout = _f64(dout)
    N, F, OH, OW = dout.shape
    _, _, HH, WW = w.shape
    xp = _pad_hw(x, pad)
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    for n in range(N):
        for f in range(F):
            for i in range(OH):
                for j in range(OW):
                    rows = slice(i * stride, i * stride + HH)
                    cols = slice(j * stride, j * stride + WW)
                    g = dout[n, f, i, j]
                    dxp[n, :, rows, cols] += g * w[f]
                    dw[f] += g * xp[n, :, rows, cols]
    db = dout.sum(axis=(0, 2, 3))
    dx = dxp[:, :, pad : pad + x.shape[2], pad : pad + x.shape[3]].copy() if pad else dxp
    return dx, dw, db


def conv_forward(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int = 1, pad: int = 0
) -> tuple[np.ndarray, Any]:
    """Convolution (cross-correlation, as ``torch.nn.functional.conv2d``), vectorised.

    x: input of shape (N, C, H, W); w: filters of shape (F, C, HH, WW); b: (F,).
    stride >= 1, pad >= 0 zeros on every side; H', W' come from
    ``conv_output_size``, which also raises the ValueError for sizes that do not fit.
    Returns out of shape (N, F, H', W'), equal (to rounding) to
    ``conv_forward_naive``, and a cache for ``conv_backward``.
    """
    x, w, b = _f64(x), _f64(w), _f64(b)
    _check_conv_shapes(x, w, b)
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    OH, OW = conv_output_size(H, W, HH, WW, stride, pad)
    xp = _pad_hw(x, pad)
    # im2col: a strided view of every window, (N, C, OH, OW, HH, WW), then one
    # contiguous copy with a row per output position and a column per weight.
    windows = sliding_window_view(xp, (HH, WW), axis=(2, 3))[:, :, ::stride, ::stride]
    cols = windows.transpose(0, 2, 3, 1, 4, 5).reshape(N * OH * OW, C * HH * WW)
    out = cols @ w.reshape(F, -1).T + b
    out = out.reshape(N, OH, OW, F).transpose(0, 3, 1, 2).copy()
    return out, (x.shape, w, stride, pad, cols)


def conv_backward(dout: np.ndarray, cache: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of ``conv_forward``, vectorised.

    dout: upstream gradient of shape (N, F, H', W').
    Returns (dx, dw, db) of shapes (N, C, H, W), (F, C, HH, WW), (F,), equal (to
    rounding) to ``conv_backward_naive``.
    """
    x_shape, w, stride, pad, cols = cache
    dout = _f64(dout)
    N, C, H, W = x_shape
    F, _, HH, WW = w.shape
    _, _, OH, OW = dout.shape
    dout_rows = dout.transpose(0, 2, 3, 1).reshape(N * OH * OW, F)
    db = dout_rows.sum(axis=0)
    dw = (dout_rows.T @ cols).reshape(w.shape)
    dcols = (dout_rows @ w.reshape(F, -1)).reshape(N, OH, OW, C, HH, WW)
    # col2im: one strided scatter-add per kernel offset; windows overlap, so
    # each input pixel collects contributions from several offsets.
    dxp = np.zeros((N, C, H + 2 * pad, W + 2 * pad))
    for di in range(HH):
        for dj in range(WW):
            dxp[:, :, di : di + stride * OH : stride, dj : dj + stride * OW : stride] += dcols[
                :, :, :, :, di, dj
            ].transpose(0, 3, 1, 2)
    dx = dxp[:, :, pad : pad + H, pad : pad + W].copy() if pad else dxp
    return dx, dw, db


# -------------------------------------------------------------------------- pooling


def _pool_windows(x: np.ndarray, pool: int, stride: int) -> np.ndarray:
    """View of every pooling window, shape (N, C, OH, OW, pool, pool); raises like conv."""
    if x.ndim != 4:
        raise ValueError(f"pooling expects x of shape (N, C, H, W), got {x.shape}")
    conv_output_size(x.shape[2], x.shape[3], pool, pool, stride, 0)
    return sliding_window_view(x, (pool, pool), axis=(2, 3))[:, :, ::stride, ::stride]


def max_pool_forward(x: np.ndarray, pool: int = 2, stride: int = 2) -> tuple[np.ndarray, Any]:
    """Max pooling over square windows, no padding.

    x: input of shape (N, C, H, W); pool: window side; stride: step between windows.
    H', W' come from ``conv_output_size(H, W, pool, pool, stride)``, which raises
    the same ValueError as convolution for sizes that do not fit.
    Returns out of shape (N, C, H', W') and a cache for ``max_pool_backward``.
    """
    x = _f64(x)
    windows = _pool_windows(x, pool, stride)
    flat = windows.reshape(*windows.shape[:4], pool * pool)
    # argmax returns the first maximum in row-major window order; the backward
    # pass routes the gradient there, as torch's CPU max_pool2d does on ties.
    arg = flat.argmax(axis=-1)
    out = np.take_along_axis(flat, arg[..., None], axis=-1)[..., 0]
    return out, (x.shape, arg, pool, stride)


def max_pool_backward(dout: np.ndarray, cache: Any) -> np.ndarray:
    """Gradient of max pooling.

    dout: upstream gradient of shape (N, C, H', W'). Returns dx of shape (N, C, H, W):
    each window's gradient goes to its maximum only -- to the first maximum in
    row-major order on ties -- and accumulates where overlapping windows
    (stride < pool) share a maximum.
    """
    x_shape, arg, pool, stride = cache
    dout = _f64(dout)
    N, C, OH, OW = dout.shape
    n, c, i, j = np.indices((N, C, OH, OW), sparse=True)
    rows = i * stride + arg // pool
    cols = j * stride + arg % pool
    dx = np.zeros(x_shape)
    np.add.at(dx, (n, c, rows, cols), dout)
    return dx


def avg_pool_forward(x: np.ndarray, pool: int = 2, stride: int = 2) -> tuple[np.ndarray, Any]:
    """Average pooling over square windows, no padding.

    x: input of shape (N, C, H, W); pool, stride and the ValueError for sizes
    that do not fit as in ``max_pool_forward``.
    Returns out of shape (N, C, H', W') and a cache for ``avg_pool_backward``.
    """
    x = _f64(x)
    out = _pool_windows(x, pool, stride).mean(axis=(-2, -1))
    return out, (x.shape, pool, stride)


def avg_pool_backward(dout: np.ndarray, cache: Any) -> np.ndarray:
    """Gradient of average pooling.

    dout: upstream gradient of shape (N, C, H', W'). Returns dx of shape (N, C, H, W):
    each window spreads dout / pool**2 over its pool*pool inputs, accumulating
    where windows overlap.
    """
    x_shape, pool, stride = cache
    dout = _f64(dout)
    _, _, OH, OW = dout.shape
    share = dout / (pool * pool)
    dx = np.zeros(x_shape)
    for di in range(pool):
        for dj in range(pool):
            dx[:, :, di : di + stride * OH : stride, dj : dj + stride * OW : stride] += share
    return dx
