"""Instructor's solution for the CNN layers homework (NumPy only).

Written apart from reference/ (which never enters the sandbox): validation
grades it against reference.layers. FLOAT is the precision every function
computes in; the tests swap in float32.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

FLOAT = np.float64


def _f(x):
    return np.asarray(x, dtype=FLOAT)


def conv_output_size(h, w, fh, fw, stride=1, pad=0):
    return (h + 2 * pad - fh) // stride + 1, (w + 2 * pad - fw) // stride + 1


def _sizes(x, w, stride, pad):
    # computed here, not through conv_output_size, so each function stands on its own
    return (
        (x.shape[2] + 2 * pad - w.shape[2]) // stride + 1,
        (x.shape[3] + 2 * pad - w.shape[3]) // stride + 1,
    )


def _pad(x, pad):
    return np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))) if pad else x


def conv_forward_naive(x, w, b, stride=1, pad=0):
    x, w, b = _f(x), _f(w), _f(b)
    n_, f_ = x.shape[0], w.shape[0]
    hh, ww = w.shape[2], w.shape[3]
    oh, ow = _sizes(x, w, stride, pad)
    xp = _pad(x, pad)
    out = np.zeros((n_, f_, oh, ow), dtype=FLOAT)
    for n in range(n_):
        for f in range(f_):
            for i in range(oh):
                for j in range(ow):
                    window = xp[n, :, i * stride : i * stride + hh, j * stride : j * stride + ww]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    return out, (x, w, b, stride, pad)


def conv_backward_naive(dout, cache):
    x, w, _, stride, pad = cache
    x, w, dout = _f(x), _f(w), _f(dout)
    n_, f_, oh, ow = dout.shape
    hh, ww = w.shape[2], w.shape[3]
    xp = _pad(x, pad)
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    for n in range(n_):
        for f in range(f_):
            for i in range(oh):
                for j in range(ow):
                    rows = slice(i * stride, i * stride + hh)
                    cols = slice(j * stride, j * stride + ww)
                    dxp[n, :, rows, cols] += dout[n, f, i, j] * w[f]
                    dw[f] += dout[n, f, i, j] * xp[n, :, rows, cols]
    dx = dxp[:, :, pad : pad + x.shape[2], pad : pad + x.shape[3]]
    return dx, dw, dout.sum(axis=(0, 2, 3))


def conv_forward(x, w, b, stride=1, pad=0):
    x, w, b = _f(x), _f(w), _f(b)
    n_, c_ = x.shape[0], x.shape[1]
    f_, hh, ww = w.shape[0], w.shape[2], w.shape[3]
    oh, ow = _sizes(x, w, stride, pad)
    # im2col: a view of every window, then one row per output position
    windows = sliding_window_view(_pad(x, pad), (hh, ww), axis=(2, 3))[:, :, ::stride, ::stride]
    cols = windows.transpose(0, 2, 3, 1, 4, 5).reshape(n_ * oh * ow, c_ * hh * ww)
    out = (cols @ w.reshape(f_, -1).T + b).reshape(n_, oh, ow, f_).transpose(0, 3, 1, 2)
    return np.ascontiguousarray(out), (x, w, b, stride, pad)


def conv_backward(dout, cache):
    x, w, _, stride, pad = cache
    x, w, dout = _f(x), _f(w), _f(dout)
    n_, c_, h_, w_ = x.shape
    f_, _, hh, ww = w.shape
    oh, ow = dout.shape[2], dout.shape[3]
    windows = sliding_window_view(_pad(x, pad), (hh, ww), axis=(2, 3))[:, :, ::stride, ::stride]
    cols = windows.transpose(0, 2, 3, 1, 4, 5).reshape(n_ * oh * ow, c_ * hh * ww)
    rows = dout.transpose(0, 2, 3, 1).reshape(n_ * oh * ow, f_)
    dw = (rows.T @ cols).reshape(w.shape)
    dcols = (rows @ w.reshape(f_, -1)).reshape(n_, oh, ow, c_, hh, ww)
    dxp = np.zeros((n_, c_, h_ + 2 * pad, w_ + 2 * pad), dtype=FLOAT)
    for di in range(hh):  # col2im: one strided add per kernel offset
        for dj in range(ww):
            dxp[:, :, di : di + stride * oh : stride, dj : dj + stride * ow : stride] += dcols[
                :, :, :, :, di, dj
            ].transpose(0, 3, 1, 2)
    return dxp[:, :, pad : pad + h_, pad : pad + w_], dw, rows.sum(axis=0)


def _windows(x, pool, stride):
    return sliding_window_view(x, (pool, pool), axis=(2, 3))[:, :, ::stride, ::stride]


def max_pool_forward(x, pool=2, stride=2):
    x = _f(x)
    flat = _windows(x, pool, stride)
    flat = flat.reshape(*flat.shape[:4], pool * pool)
    arg = flat.argmax(axis=-1)  # the first maximum in row-major order, as torch
    return flat.max(axis=-1), (x.shape, arg, pool, stride)


def max_pool_backward(dout, cache):
    shape, arg, pool, stride = cache
    dout = _f(dout)
    dx = np.zeros(tuple(shape), dtype=FLOAT)
    n_, c_, oh, ow = dout.shape
    for i in range(oh):
        for j in range(ow):
            a = np.asarray(arg)[:, :, i, j]
            r, c = i * stride + a // pool, j * stride + a % pool
            nn, cc = np.indices((n_, c_))
            np.add.at(dx, (nn, cc, r, c), dout[:, :, i, j])
    return dx


def avg_pool_forward(x, pool=2, stride=2):
    x = _f(x)
    return _windows(x, pool, stride).mean(axis=(-2, -1)), (x.shape, pool, stride)


def avg_pool_backward(dout, cache):
    shape, pool, stride = cache
    dout = _f(dout)
    oh, ow = dout.shape[2], dout.shape[3]
    dx = np.zeros(tuple(shape), dtype=FLOAT)
    for di in range(pool):
        for dj in range(pool):
            dx[:, :, di : di + stride * oh : stride, dj : dj + stride * ow : stride] += dout / (
                pool * pool
            )
    return dx


def batchnorm_forward(x, gamma, beta, bn_param):
    x, gamma, beta = _f(x), _f(gamma), _f(beta)
    n, d = x.shape
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    running_mean = _f(bn_param.get("running_mean", np.zeros(d)))
    running_var = _f(bn_param.get("running_var", np.ones(d)))
    if bn_param["mode"] == "train":
        mean, var = x.mean(axis=0), x.var(axis=0)
        bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mean
        # the running variance is the unbiased one (divide by N - 1), as torch keeps it
        bn_param["running_var"] = momentum * running_var + (1 - momentum) * var * n / (n - 1)
    else:
        mean, var = running_mean, running_var
    inv_std = 1 / np.sqrt(var + eps)
    x_hat = (x - mean) * inv_std
    return gamma * x_hat + beta, (bn_param["mode"], x_hat, gamma, inv_std), bn_param


def batchnorm_backward(dout, cache):
    mode, x_hat, gamma, inv_std = cache
    dout, x_hat = _f(dout), _f(x_hat)
    dgamma = (dout * x_hat).sum(axis=0)
    dbeta = dout.sum(axis=0)
    dx_hat, inv_std = dout * _f(gamma), _f(inv_std)
    if mode == "test":
        return dx_hat * inv_std, dgamma, dbeta
    n = dout.shape[0]
    dx = inv_std / n * (n * dx_hat - dx_hat.sum(axis=0) - x_hat * (dx_hat * x_hat).sum(axis=0))
    return dx, dgamma, dbeta


def dropout_forward(x, p, mode, seed):
    x = _f(x)
    if mode == "test":
        return x.copy(), (mode, None)
    mask = (np.random.default_rng(seed).random(x.shape) >= p) / FLOAT(1 - p)
    return x * mask, (mode, mask.astype(FLOAT))


def dropout_backward(dout, cache):
    mode, mask = cache
    return _f(dout).copy() if mode == "test" else _f(dout) * _f(mask)
