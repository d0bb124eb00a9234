"""A sample student submission for the optimisers homework.

Mostly right, with two mistakes students really make: Adam without bias
correction, and a linear warm-up that counts steps from 1. It also prints, to
show the captured output.
"""

import math

import numpy as np

FLOAT = np.float64


def _f(x):
    return np.asarray(x, dtype=FLOAT)


def _begin(w, dw, config, **defaults):
    config = {} if config is None else dict(config)
    for key, value in defaults.items():
        config.setdefault(key, value)
    return _f(w), _f(dw), config


def _state(config, key, w):
    return _f(config[key]) if config.get(key) is not None else np.zeros_like(w)


def sgd(w, dw, config=None):
    w, dw, config = _begin(w, dw, config, learning_rate=1e-2)
    return w - config["learning_rate"] * dw, config


def sgd_momentum(w, dw, config=None):
    w, dw, config = _begin(w, dw, config, learning_rate=1e-2, momentum=0.9)
    v = config["momentum"] * _state(config, "velocity", w) + config["learning_rate"] * dw
    config["velocity"] = v
    return w - v, config


def nesterov(w, dw, config=None):
    w, dw, config = _begin(w, dw, config, learning_rate=1e-2, momentum=0.9)
    mu = config["momentum"]
    v_old = _state(config, "velocity", w)
    v = mu * v_old + config["learning_rate"] * dw
    config["velocity"] = v
    return w - ((1 + mu) * v - mu * v_old), config


def adagrad(w, dw, config=None):
    w, dw, config = _begin(w, dw, config, learning_rate=1e-2, epsilon=1e-8)
    cache = _state(config, "cache", w) + dw * dw
    config["cache"] = cache
    return w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"]), config


def rmsprop(w, dw, config=None):
    w, dw, config = _begin(w, dw, config, learning_rate=1e-2, decay_rate=0.99, epsilon=1e-8)
    rho = config["decay_rate"]
    cache = rho * _state(config, "cache", w) + (1 - rho) * dw * dw
    config["cache"] = cache
    return w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"]), config


def adam(w, dw, config=None):
    w, dw, config = _begin(w, dw, config, learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8)
    b1, b2 = config["beta1"], config["beta2"]
    t = int(config.get("t", 0)) + 1
    m = b1 * _state(config, "m", w) + (1 - b1) * dw
    v = b2 * _state(config, "v", w) + (1 - b2) * dw * dw
    config.update(t=t, m=m, v=v)
    print("debug: adam step", t)
    m_hat, v_hat = m, v
    return w - config["learning_rate"] * m_hat / (np.sqrt(v_hat) + config["epsilon"]), config


# -- learning-rate schedules --------------------------------------------------------------


def step_decay(lr0, step, step_size, gamma):
    return FLOAT(lr0 * gamma ** (step // step_size))


def multistep_decay(lr0, step, milestones, gamma):
    return FLOAT(lr0 * gamma ** sum(1 for m in milestones if m <= step))


def exponential_decay(lr0, step, gamma):
    return FLOAT(lr0 * gamma**step)


def inverse_time_decay(lr0, step, beta):
    return FLOAT(lr0 / (1 + beta * step))


def natural_exp_decay(lr0, step, beta):
    return FLOAT(lr0 * math.exp(-beta * step))


def cosine_decay(lr0, step, total_steps):
    if step >= total_steps:
        return FLOAT(0.0)
    return FLOAT(lr0 * (1 + math.cos(math.pi * step / total_steps)) / 2)


def linear_warmup(lr0, step, warmup_steps):
    return FLOAT(lr0 * min(step + 1, warmup_steps) / warmup_steps)


# -- initialisation -----------------------------------------------------------------------


def xavier_normal(fan_in, fan_out, seed):
    std = math.sqrt(2.0 / (fan_in + fan_out))
    return (std * np.random.default_rng(seed).standard_normal((fan_in, fan_out))).astype(FLOAT)


def xavier_uniform(fan_in, fan_out, seed):
    a = math.sqrt(6.0 / (fan_in + fan_out))
    return np.random.default_rng(seed).uniform(-a, a, (fan_in, fan_out)).astype(FLOAT)


def he_normal(fan_in, fan_out, seed):
    std = math.sqrt(2.0 / fan_in)
    return (std * np.random.default_rng(seed).standard_normal((fan_in, fan_out))).astype(FLOAT)


def he_uniform(fan_in, fan_out, seed):
    a = math.sqrt(6.0 / fan_in)
    return np.random.default_rng(seed).uniform(-a, a, (fan_in, fan_out)).astype(FLOAT)
