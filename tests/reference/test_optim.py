"""Optimisers against torch.optim trajectories, plus the update/config contract."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from reference import optim

STEPS = 20
# Both sides compute the same float64 formulas in a different order; over 20
# steps of a contracting loss the rounding differences stay near 1e-15.
RTOL = 1e-10
ATOL = 1e-12


def _loss_grad(w: np.ndarray) -> np.ndarray:
    """Gradient of a non-quadratic loss that couples the coordinates.

    loss(W) = 0.5 * ||A W - B||^2 + 0.25 * sum(W ** 4), W of shape (4, 3),
    so the gradient is A^T (A W - B) + W ** 3, written out by hand here.
    """
    rng = np.random.default_rng(7)
    A = rng.standard_normal((5, 4))
    B = rng.standard_normal((5, 3))
    return A.T @ (A @ w - B) + w**3


def _w0() -> np.ndarray:
    return np.random.default_rng(0).standard_normal((4, 3))


def _our_trajectory(update: optim.Optimizer, config: dict[str, Any] | None) -> list[np.ndarray]:
    w = _w0()
    out = []
    for _ in range(STEPS):
        w, config = update(w, _loss_grad(w), config)
        out.append(w)
    return out


def _torch_trajectory(opt_cls: type[torch.optim.Optimizer], **kwargs: Any) -> list[np.ndarray]:
    p = torch.tensor(_w0(), dtype=torch.float64, requires_grad=True)
    opt = opt_cls([p], foreach=False, **kwargs)
    out = []
    for _ in range(STEPS):
        p.grad = torch.from_numpy(_loss_grad(p.detach().numpy().copy()))
        opt.step()
        out.append(p.detach().numpy().copy())
    return out


def _assert_same_trajectory(ours: list[np.ndarray], theirs: list[np.ndarray]) -> None:
    assert len(ours) == len(theirs) == STEPS
    for step, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL, err_msg=f"step {step}")
    # The trajectory must actually move, or matching it would prove nothing.
    assert np.max(np.abs(ours[-1] - _w0())) > 1e-2


@pytest.mark.parametrize(
    ("name", "config", "opt_cls", "kwargs"),
    [
        ("sgd", {"learning_rate": 0.05}, torch.optim.SGD, {"lr": 0.05}),
        (
            "sgd_momentum",
            {"learning_rate": 0.02, "momentum": 0.9},
            torch.optim.SGD,
            {"lr": 0.02, "momentum": 0.9},
        ),
        (
            "nesterov",
            {"learning_rate": 0.02, "momentum": 0.8},
            torch.optim.SGD,
            {"lr": 0.02, "momentum": 0.8, "nesterov": True},
        ),
        (
            "adagrad",
            {"learning_rate": 0.3, "epsilon": 1e-6},
            torch.optim.Adagrad,
            {"lr": 0.3, "eps": 1e-6, "initial_accumulator_value": 0.0, "lr_decay": 0.0},
        ),
        (
            "rmsprop",
            {"learning_rate": 0.01, "decay_rate": 0.9, "epsilon": 1e-6},
            torch.optim.RMSprop,
            {"lr": 0.01, "alpha": 0.9, "eps": 1e-6},
        ),
        (
            "adam",
            {"learning_rate": 0.05, "beta1": 0.8, "beta2": 0.99, "epsilon": 1e-6},
            torch.optim.Adam,
            {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-6},
        ),
    ],
)
def test_trajectory_matches_torch(
    name: str,
    config: dict[str, Any],
    opt_cls: type[torch.optim.Optimizer],
    kwargs: dict[str, Any],
) -> None:
    ours = _our_trajectory(optim.OPTIMIZERS[name], dict(config))
    theirs = _torch_trajectory(opt_cls, **kwargs)
    _assert_same_trajectory(ours, theirs)


@pytest.mark.parametrize(
    ("name", "opt_cls", "kwargs"),
    [
        # Our documented defaults coincide with torch's own here ...
        ("rmsprop", torch.optim.RMSprop, {}),
        ("adam", torch.optim.Adam, {}),
        # ... and differ only in eps for Adagrad (torch: 1e-10).
        ("adagrad", torch.optim.Adagrad, {"eps": 1e-8}),
        ("sgd_momentum", torch.optim.SGD, {"lr": 1e-2, "momentum": 0.9}),
        ("nesterov", torch.optim.SGD, {"lr": 1e-2, "momentum": 0.9, "nesterov": True}),
        ("sgd", torch.optim.SGD, {"lr": 1e-2}),
    ],
)
def test_defaults_when_config_is_none(
    name: str, opt_cls: type[torch.optim.Optimizer], kwargs: dict[str, Any]
) -> None:
    ours = _our_trajectory(optim.OPTIMIZERS[name], None)
    theirs = _torch_trajectory(opt_cls, **kwargs)
    _assert_same_trajectory(ours, theirs)


EXPECTED_DEFAULTS = {
    "sgd": {"learning_rate": 1e-2},
    "sgd_momentum": {"learning_rate": 1e-2, "momentum": 0.9},
    "nesterov": {"learning_rate": 1e-2, "momentum": 0.9},
    "adagrad": {"learning_rate": 1e-2, "epsilon": 1e-8},
    "rmsprop": {"learning_rate": 1e-2, "decay_rate": 0.99, "epsilon": 1e-8},
    "adam": {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
}


@pytest.mark.parametrize("name", sorted(optim.OPTIMIZERS))
def test_defaults_are_filled_in_and_caller_values_kept(name: str) -> None:
    update = optim.OPTIMIZERS[name]
    w = _w0()
    _, config = update(w, _loss_grad(w), None)
    for key, value in EXPECTED_DEFAULTS[name].items():
        assert config[key] == value, key

    mine = {"learning_rate": 0.123}
    _, returned = update(w, _loss_grad(w), mine)
    assert returned is mine
    assert mine["learning_rate"] == 0.123


def test_registry_names() -> None:
    assert set(optim.OPTIMIZERS) == set(EXPECTED_DEFAULTS)


@pytest.mark.parametrize("name", sorted(optim.OPTIMIZERS))
def test_inputs_not_mutated_and_result_is_new(name: str) -> None:
    update = optim.OPTIMIZERS[name]
    w = _w0()
    dw = _loss_grad(w)
    w_before, dw_before = w.copy(), dw.copy()
    config: dict[str, Any] | None = None
    for _ in range(3):
        next_w, config = update(w, dw, config)
        np.testing.assert_array_equal(w, w_before)
        np.testing.assert_array_equal(dw, dw_before)
        assert not np.shares_memory(next_w, w)
        assert next_w.dtype == np.float64
        assert next_w.shape == w.shape
        assert not np.array_equal(next_w, w)


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("sgd_momentum", "velocity"),
        ("nesterov", "velocity"),
        ("adagrad", "cache"),
        ("rmsprop", "cache"),
        ("adam", "m"),
        ("adam", "v"),
    ],
)
def test_state_arrays_are_replaced_not_updated_in_place(name: str, key: str) -> None:
    update = optim.OPTIMIZERS[name]
    w = _w0()
    _, config = update(w, _loss_grad(w), None)
    saved = config[key]
    saved_copy = saved.copy()
    update(w, _loss_grad(w), config)
    np.testing.assert_array_equal(saved, saved_copy)
    assert config[key] is not saved


def test_momentum_state_after_first_steps() -> None:
    # Hand-worked: with v0 = 0, v1 = lr * g1 and v2 = mu * lr * g1 + lr * g2.
    g1, g2 = np.array([1.0, -2.0]), np.array([0.5, 4.0])
    w = np.zeros(2)
    w, config = optim.sgd_momentum(w, g1, {"learning_rate": 0.1, "momentum": 0.5})
    np.testing.assert_allclose(config["velocity"], [0.1, -0.2], rtol=1e-15)
    np.testing.assert_allclose(w, [-0.1, 0.2], rtol=1e-15)
    w, config = optim.sgd_momentum(w, g2, config)
    np.testing.assert_allclose(config["velocity"], [0.1, 0.3], rtol=1e-15)
    np.testing.assert_allclose(w, [-0.2, -0.1], rtol=1e-15)


def test_adam_counts_steps_in_config() -> None:
    w = _w0()
    config: dict[str, Any] | None = None
    for expected_t in (1, 2, 3):
        w, config = optim.adam(w, _loss_grad(w), config)
        assert config["t"] == expected_t


def test_adam_first_step_is_sign_times_lr() -> None:
    # Hand-worked: after bias correction m_hat = g and v_hat = g^2 at t = 1,
    # so the step is lr * g / (|g| + eps), i.e. lr * sign(g) up to eps.
    g = np.array([3.0, -0.5, 1e-2])
    next_w, _ = optim.adam(np.zeros(3), g, {"learning_rate": 0.1, "epsilon": 0.0})
    np.testing.assert_allclose(next_w, [-0.1, 0.1, -0.1], rtol=1e-14)


def test_fresh_config_each_step_loses_state() -> None:
    # Without the persisted velocity momentum degenerates to plain SGD, so the
    # persisted trajectory must differ from it: state really lives in config.
    w_persist = w_fresh = _w0()
    config: dict[str, Any] = {"learning_rate": 0.02}
    for _ in range(3):
        w_persist, config = optim.sgd_momentum(w_persist, _loss_grad(w_persist), config)
        w_fresh, _ = optim.sgd_momentum(w_fresh, _loss_grad(w_fresh), {"learning_rate": 0.02})
    expected_fresh = _w0()
    for _ in range(3):
        expected_fresh = expected_fresh - 0.02 * _loss_grad(expected_fresh)
    np.testing.assert_allclose(w_fresh, expected_fresh, rtol=1e-13)
    assert np.max(np.abs(w_persist - w_fresh)) > 1e-3


@pytest.mark.parametrize("name", sorted(optim.OPTIMIZERS))
def test_shape_mismatch_is_rejected(name: str) -> None:
    with pytest.raises(ValueError, match="shape"):
        optim.OPTIMIZERS[name](np.zeros((2, 3)), np.zeros((3, 2)), None)


@pytest.mark.parametrize("name", ["sgd_momentum", "adagrad", "adam"])
def test_state_of_wrong_shape_is_rejected(name: str) -> None:
    update = optim.OPTIMIZERS[name]
    _, config = update(np.zeros((2, 3)), np.ones((2, 3)), None)
    with pytest.raises(ValueError, match="shape"):
        update(np.zeros((3, 2)), np.ones((3, 2)), config)
