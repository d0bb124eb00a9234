"""First-order optimisers in the CS231n form ``update(w, dw, config) -> (next_w, config)``.

Every optimiser here shares one contract, which a caller may rely on:

- ``w`` is the current parameter array (any shape) and ``dw`` the gradient of
  the loss with respect to it (same shape). Both are read as float64.
- ``next_w`` is a *new* float64 array of ``w``'s shape; neither ``w`` nor
  ``dw`` is modified.
- ``config`` is a dict of hyperparameters and optimiser state, or ``None``
  (then a fresh dict is made). Missing hyperparameters are filled in with
  ``config.setdefault``, so after a call the dict shows the values used.
  State (``velocity``, ``cache``, ``m``, ``v``, ``t``) is stored in the same
  dict, which is returned; pass it back on the next call to continue. State
  arrays are replaced, never updated in place, so a dict saved earlier keeps
  the values it had.

The learning rate is folded into the velocity of the momentum methods, as the
course notes write them (``v = momentum * v + learning_rate * dw``). With a
constant learning rate this is exactly PyTorch's ``torch.optim.SGD``, whose
buffer holds ``v / learning_rate``; if the learning rate changes between
steps, the two conventions give different trajectories.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

Config = dict[str, Any]
Optimizer = Callable[[np.ndarray, np.ndarray, Config | None], tuple[np.ndarray, Config]]


def _prepare(
    w: np.ndarray, dw: np.ndarray, config: Config | None
) -> tuple[np.ndarray, np.ndarray, Config]:
    w = np.asarray(w, dtype=np.float64)
    dw = np.asarray(dw, dtype=np.float64)
    if w.shape != dw.shape:
        raise ValueError(f"w has shape {w.shape} but dw has shape {dw.shape}")
    return w, dw, ({} if config is None else config)


def _state(config: Config, key: str, w: np.ndarray) -> np.ndarray:
    """The state array ``config[key]``, zeros like ``w`` on the first call."""
    value = config.get(key)
    if value is None:
        return np.zeros_like(w)
    value = np.asarray(value, dtype=np.float64)
    if value.shape != w.shape:
        # A config reused for a parameter of another shape is a caller bug that
        # broadcasting could otherwise hide.
        raise ValueError(f"config[{key!r}] has shape {value.shape}, expected {w.shape}")
    return value


def sgd(w: np.ndarray, dw: np.ndarray, config: Config | None = None) -> tuple[np.ndarray, Config]:
    """Vanilla stochastic gradient descent: ``next_w = w - learning_rate * dw``.

    w, dw: arrays of the same shape. Returns (next_w of w's shape, config).
    config keys: learning_rate (default 1e-2). No state.
    """
    w, dw, config = _prepare(w, dw, config)
    config.setdefault("learning_rate", 1e-2)
    next_w = w - config["learning_rate"] * dw
    return next_w, config


def sgd_momentum(
    w: np.ndarray, dw: np.ndarray, config: Config | None = None
) -> tuple[np.ndarray, Config]:
    """SGD with (heavy-ball) momentum, velocity convention of the course notes::

        v = momentum * v + learning_rate * dw
        next_w = w - v

    w, dw: arrays of the same shape. Returns (next_w of w's shape, config).
    config keys: learning_rate (default 1e-2), momentum (default 0.9).
    State: velocity (w's shape, zeros at the first call).
    Equals ``torch.optim.SGD(momentum=..., dampening=0)`` for a constant
    learning rate.
    """
    w, dw, config = _prepare(w, dw, config)
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = _state(config, "velocity", w)
    v = config["momentum"] * v + config["learning_rate"] * dw
    config["velocity"] = v
    return w - v, config


def nesterov(
    w: np.ndarray, dw: np.ndarray, config: Config | None = None
) -> tuple[np.ndarray, Config]:
    """Nesterov accelerated gradient, in the same velocity convention::

        v_new = momentum * v + learning_rate * dw
        next_w = w - (learning_rate * dw + momentum * v_new)
               = w - ((1 + momentum) * v_new - momentum * v)

    ``dw`` is the gradient at the current ``w``: the parameters are kept at the
    look-ahead point, which is why no second gradient evaluation is needed.
    w, dw: arrays of the same shape. Returns (next_w of w's shape, config).
    config keys: learning_rate (default 1e-2), momentum (default 0.9).
    State: velocity (w's shape, zeros at the first call).
    Equals ``torch.optim.SGD(momentum=..., nesterov=True, dampening=0)`` for a
    constant learning rate.
    """
    w, dw, config = _prepare(w, dw, config)
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    mu = config["momentum"]
    step = config["learning_rate"] * dw
    v = mu * _state(config, "velocity", w) + step
    config["velocity"] = v
    return w - (step + mu * v), config


def adagrad(
    w: np.ndarray, dw: np.ndarray, config: Config | None = None
) -> tuple[np.ndarray, Config]:
    """Adagrad: per-coordinate steps shrink with the sum of squared gradients::

        cache = cache + dw ** 2
        next_w = w - learning_rate * dw / (sqrt(cache) + epsilon)

    w, dw: arrays of the same shape. Returns (next_w of w's shape, config).
    config keys: learning_rate (default 1e-2), epsilon (default 1e-8).
    State: cache (w's shape, zeros at the first call).
    Equals ``torch.optim.Adagrad(lr_decay=0, initial_accumulator_value=0,
    eps=epsilon)``; note torch's own default eps is 1e-10.
    """
    w, dw, config = _prepare(w, dw, config)
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("epsilon", 1e-8)
    cache = _state(config, "cache", w) + dw * dw
    config["cache"] = cache
    next_w = w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"])
    return next_w, config


def rmsprop(
    w: np.ndarray, dw: np.ndarray, config: Config | None = None
) -> tuple[np.ndarray, Config]:
    """RMSProp: Adagrad with a leaky (exponential moving average) cache::

        cache = decay_rate * cache + (1 - decay_rate) * dw ** 2
        next_w = w - learning_rate * dw / (sqrt(cache) + epsilon)

    w, dw: arrays of the same shape. Returns (next_w of w's shape, config).
    config keys: learning_rate (default 1e-2), decay_rate (default 0.99),
    epsilon (default 1e-8). State: cache (w's shape, zeros at the first call).
    Equals ``torch.optim.RMSprop(alpha=decay_rate, eps=epsilon)`` without
    momentum or centring; the defaults are torch's defaults.
    """
    w, dw, config = _prepare(w, dw, config)
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    rho = config["decay_rate"]
    cache = rho * _state(config, "cache", w) + (1 - rho) * dw * dw
    config["cache"] = cache
    next_w = w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"])
    return next_w, config


def adam(w: np.ndarray, dw: np.ndarray, config: Config | None = None) -> tuple[np.ndarray, Config]:
    """Adam with bias correction; ``t`` counts the updates made so far::

        t = t + 1
        m = beta1 * m + (1 - beta1) * dw
        v = beta2 * v + (1 - beta2) * dw ** 2
        m_hat = m / (1 - beta1 ** t),  v_hat = v / (1 - beta2 ** t)
        next_w = w - learning_rate * m_hat / (sqrt(v_hat) + epsilon)

    w, dw: arrays of the same shape. Returns (next_w of w's shape, config).
    config keys: learning_rate (default 1e-3, as in CS231n and torch),
    beta1 (default 0.9), beta2 (default 0.999), epsilon (default 1e-8).
    State: m, v (w's shape, zeros at the first call) and t (int, 0 before the
    first call, so 1 after it). Equals ``torch.optim.Adam(betas=(beta1,
    beta2), eps=epsilon)`` without weight decay or amsgrad.
    """
    w, dw, config = _prepare(w, dw, config)
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    b1, b2 = config["beta1"], config["beta2"]
    t = int(config.get("t", 0)) + 1
    m = b1 * _state(config, "m", w) + (1 - b1) * dw
    v = b2 * _state(config, "v", w) + (1 - b2) * dw * dw
    config["t"], config["m"], config["v"] = t, m, v
    m_hat = m / (1 - b1**t)
    v_hat = v / (1 - b2**t)
    next_w = w - config["learning_rate"] * m_hat / (np.sqrt(v_hat) + config["epsilon"])
    return next_w, config


OPTIMIZERS: dict[str, Optimizer] = {
    "sgd": sgd,
    "sgd_momentum": sgd_momentum,
    "nesterov": nesterov,
    "adagrad": adagrad,
    "rmsprop": rmsprop,
    "adam": adam,
}
"""Every optimiser of this module by its course name."""
