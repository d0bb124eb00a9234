"""Homework: optimisers, learning-rate schedules and weight initialisation, in NumPy only.

Optimisers follow one contract (CS231n's, as the notes): ``update(w, dw, config)
-> (next_w, config)``. ``w`` is a parameter array, ``dw`` its gradient (same
shape); ``config`` is a dict of hyperparameters and state, or None on the first
call (then fill in the defaults given below). Keep the state in config under
the names given (the grader reads and sets them): ``velocity`` (momentum,
Nesterov), ``cache`` (Adagrad, RMSProp), ``m``, ``v`` and ``t`` (Adam; ``t``
counts the updates made so far). Return a new array; do not modify w or dw.

Momentum as the notes write it, learning rate inside the velocity:
    v = momentum * v + learning_rate * dw;   next_w = w - v
(the grader changes config["learning_rate"] between steps, where the torch
form v = momentum * v + dw; w -= lr * v gives another trajectory).

Schedules return the learning rate for ``step`` (counted from 0) as a number.
Initialisers return a (fan_in, fan_out) array drawn from np.random.default_rng(seed);
they are judged statistically (mean, variance and the distribution's shape).
"""

import numpy as np  # noqa: F401  (you will need it)


def sgd(w, dw, config=None):
    """next_w = w - learning_rate * dw. Default learning_rate 1e-2."""
    raise NotImplementedError


def sgd_momentum(w, dw, config=None):
    """Momentum as the notes: v = momentum * v + learning_rate * dw; next_w = w - v.

    Defaults: learning_rate 1e-2, momentum 0.9; state: velocity (zeros at first).
    """
    raise NotImplementedError


def nesterov(w, dw, config=None):
    """Nesterov momentum in the same convention: v_new = momentum * v + learning_rate * dw;
    next_w = w - (learning_rate * dw + momentum * v_new). Defaults as sgd_momentum.
    """
    raise NotImplementedError


def adagrad(w, dw, config=None):
    """cache += dw^2; next_w = w - learning_rate * dw / (sqrt(cache) + epsilon).

    Defaults: learning_rate 1e-2, epsilon 1e-8.
    """
    raise NotImplementedError


def rmsprop(w, dw, config=None):
    """cache = decay_rate * cache + (1 - decay_rate) * dw^2; step as Adagrad.

    Defaults: learning_rate 1e-2, decay_rate 0.99, epsilon 1e-8.
    """
    raise NotImplementedError


def adam(w, dw, config=None):
    """Adam with bias correction (t counts updates; t = 1 after the first):
    m = beta1 m + (1 - beta1) dw; v = beta2 v + (1 - beta2) dw^2;
    next_w = w - learning_rate * m_hat / (sqrt(v_hat) + epsilon) with
    m_hat = m / (1 - beta1^t), v_hat = v / (1 - beta2^t).
    Defaults: learning_rate 1e-3, beta1 0.9, beta2 0.999, epsilon 1e-8.
    """
    raise NotImplementedError


def step_decay(lr0, step, step_size, gamma):
    """lr0 * gamma ** (step // step_size) (torch's StepLR)."""
    raise NotImplementedError


def multistep_decay(lr0, step, milestones, gamma):
    """lr0 * gamma ** (number of milestones <= step) (torch's MultiStepLR)."""
    raise NotImplementedError


def exponential_decay(lr0, step, gamma):
    """lr0 * gamma ** step."""
    raise NotImplementedError


def inverse_time_decay(lr0, step, beta):
    """lr0 / (1 + beta * step)."""
    raise NotImplementedError


def natural_exp_decay(lr0, step, beta):
    """lr0 * exp(-beta * step)."""
    raise NotImplementedError


def cosine_decay(lr0, step, total_steps):
    """lr0 * (1 + cos(pi * step / total_steps)) / 2 up to total_steps, then 0 for ever."""
    raise NotImplementedError


def linear_warmup(lr0, step, warmup_steps):
    """lr0 * step / warmup_steps up to warmup_steps (0 at step 0), then lr0."""
    raise NotImplementedError


def xavier_normal(fan_in, fan_out, seed):
    """(fan_in, fan_out) weights ~ N(0, 2 / (fan_in + fan_out))."""
    raise NotImplementedError


def xavier_uniform(fan_in, fan_out, seed):
    """(fan_in, fan_out) weights ~ U[-a, a], a = sqrt(6 / (fan_in + fan_out))."""
    raise NotImplementedError


def he_normal(fan_in, fan_out, seed):
    """(fan_in, fan_out) weights ~ N(0, 2 / fan_in), for ReLU layers."""
    raise NotImplementedError


def he_uniform(fan_in, fan_out, seed):
    """(fan_in, fan_out) weights ~ U[-a, a], a = sqrt(6 / fan_in)."""
    raise NotImplementedError
