"""Initialisers: shapes, seeding, bounds, and spreads checked against torch.nn.init.

Statistical checks use large draws and a tolerance of Z standard errors of
the estimate. The seeds are fixed, so the tests are deterministic; Z = 5 means
a correct implementation would fail a fresh seed with probability < 1e-6.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
import torch

from reference import init

Z = 5.0
# Unequal fans so that swapping fan_in and fan_out changes He's std threefold.
FAN_IN, FAN_OUT = 100, 900
N = FAN_IN * FAN_OUT

Initializer = Callable[[int, int, np.random.Generator | int], np.ndarray]
FAN_INITIALIZERS: list[Initializer] = [
    init.xavier_normal,
    init.xavier_uniform,
    init.he_normal,
    init.he_uniform,
]


def _se_std_normal(sigma: float, n: int) -> float:
    """Standard error of the sample std of n normal draws: sigma / sqrt(2n)."""
    return sigma / math.sqrt(2 * n)


def _se_std_uniform(bound: float, n: int) -> float:
    """Standard error of the sample std of n draws of U[-a, a).

    Var(s^2) = (mu4 - sigma^4) / n with mu4 = a^4 / 5, sigma^2 = a^2 / 3, and
    by the delta method SE(s) = SE(s^2) / (2 sigma) = a / sqrt(15 n).
    """
    return bound / math.sqrt(15 * n)


def _assert_mean_and_std(x: np.ndarray, std: float, se_std: float, mean: float = 0.0) -> None:
    n = x.size
    assert abs(x.mean() - mean) < Z * std / math.sqrt(n), (x.mean(), mean)
    assert abs(x.std() - std) < Z * se_std, (x.std(), std, se_std)


@pytest.mark.parametrize("fn", FAN_INITIALIZERS)
def test_shape_is_fan_in_by_fan_out(fn: Initializer) -> None:
    w = fn(3, 7, 0)
    assert w.shape == (3, 7)
    assert w.dtype == np.float64


@pytest.mark.parametrize("fn", FAN_INITIALIZERS)
def test_same_seed_same_weights(fn: Initializer) -> None:
    np.testing.assert_array_equal(fn(4, 5, 42), fn(4, 5, 42))
    np.testing.assert_array_equal(
        fn(4, 5, np.random.default_rng(42)), fn(4, 5, np.random.default_rng(42))
    )
    # An integer seed and a generator made from it are the same source.
    np.testing.assert_array_equal(fn(4, 5, 42), fn(4, 5, np.random.default_rng(42)))
    assert not np.array_equal(fn(4, 5, 42), fn(4, 5, 43))


@pytest.mark.parametrize("fn", FAN_INITIALIZERS)
def test_generator_is_advanced(fn: Initializer) -> None:
    rng = np.random.default_rng(0)
    assert not np.array_equal(fn(4, 5, rng), fn(4, 5, rng))


@pytest.mark.parametrize(
    ("fn", "scale"),
    [
        (init.xavier_normal, math.sqrt(2 / 12)),
        (init.he_normal, math.sqrt(2 / 5)),
    ],
)
def test_normal_draw_is_the_documented_one(fn: Initializer, scale: float) -> None:
    expected = scale * np.random.default_rng(3).standard_normal((5, 7))
    np.testing.assert_allclose(fn(5, 7, 3), expected, rtol=1e-15, atol=0)


@pytest.mark.parametrize(
    ("fn", "bound"),
    [
        (init.xavier_uniform, math.sqrt(6 / 12)),
        (init.he_uniform, math.sqrt(6 / 5)),
    ],
)
def test_uniform_draw_is_the_documented_one(fn: Initializer, bound: float) -> None:
    expected = np.random.default_rng(3).uniform(-bound, bound, (5, 7))
    np.testing.assert_allclose(fn(5, 7, 3), expected, rtol=1e-15, atol=0)


@pytest.mark.parametrize(
    ("fn", "std"),
    [
        (init.xavier_normal, math.sqrt(2 / (FAN_IN + FAN_OUT))),
        (init.he_normal, math.sqrt(2 / FAN_IN)),
    ],
)
def test_normal_initialisers_have_the_stated_spread(fn: Initializer, std: float) -> None:
    w = fn(FAN_IN, FAN_OUT, 11)
    _assert_mean_and_std(w, std, _se_std_normal(std, N))


@pytest.mark.parametrize(
    ("fn", "bound"),
    [
        (init.xavier_uniform, math.sqrt(6 / (FAN_IN + FAN_OUT))),
        (init.he_uniform, math.sqrt(6 / FAN_IN)),
    ],
)
def test_uniform_initialisers_have_the_stated_bound_and_spread(
    fn: Initializer, bound: float
) -> None:
    w = fn(FAN_IN, FAN_OUT, 12)
    assert np.all(w >= -bound)
    assert np.all(w < bound)
    # Each draw lands within 0.1% of a given end with probability 5e-4, so
    # P(none of 90 000 does) = (1 - 5e-4)^90000 ~ e^-45.
    assert w.max() > bound * (1 - 1e-3)
    assert w.min() < -bound * (1 - 1e-3)
    _assert_mean_and_std(w, bound / math.sqrt(3), _se_std_uniform(bound, N))


def _torch_weight(fill: Callable[[torch.Tensor, torch.Generator], object]) -> np.ndarray:
    """A torch weight of nn.Linear(FAN_IN, FAN_OUT)'s layout, filled by ``fill``."""
    w = torch.empty(FAN_OUT, FAN_IN, dtype=torch.float64)
    fill(w, torch.Generator().manual_seed(0))
    return w.numpy()


def test_torch_linear_layout_is_the_transpose_of_ours() -> None:
    layer = torch.nn.Linear(FAN_IN, FAN_OUT)
    assert tuple(layer.weight.shape) == (FAN_OUT, FAN_IN)
    assert init.he_normal(FAN_IN, FAN_OUT, 0).T.shape == tuple(layer.weight.shape)


@pytest.mark.parametrize(
    ("ours", "fill"),
    [
        (init.xavier_normal, lambda w, g: torch.nn.init.xavier_normal_(w, generator=g)),
        (
            init.he_normal,
            lambda w, g: torch.nn.init.kaiming_normal_(
                w, mode="fan_in", nonlinearity="relu", generator=g
            ),
        ),
    ],
)
def test_normal_spread_agrees_with_torch(ours: Initializer, fill: Callable[..., object]) -> None:
    theirs = _torch_weight(fill)
    mine = ours(FAN_IN, FAN_OUT, 21)
    # Two independent estimates of one std: their difference has
    # SE sqrt(2) * sigma / sqrt(2n) = sigma / sqrt(n).
    sigma = theirs.std()
    assert abs(mine.std() - theirs.std()) < Z * sigma / math.sqrt(N), (mine.std(), sigma)


@pytest.mark.parametrize(
    ("ours", "fill"),
    [
        (init.xavier_uniform, lambda w, g: torch.nn.init.xavier_uniform_(w, generator=g)),
        (
            init.he_uniform,
            lambda w, g: torch.nn.init.kaiming_uniform_(
                w, mode="fan_in", nonlinearity="relu", generator=g
            ),
        ),
    ],
)
def test_uniform_bound_agrees_with_torch(ours: Initializer, fill: Callable[..., object]) -> None:
    theirs = np.abs(_torch_weight(fill)).max()
    mine = np.abs(ours(FAN_IN, FAN_OUT, 22)).max()
    # Both maxima lie within 0.1% below the true bound (see the bound test).
    assert math.isclose(mine, theirs, rel_tol=1e-3), (mine, theirs)


def test_he_uses_fan_in_not_fan_out() -> None:
    # Swapped fans would give std sqrt(2 / 900), a third of the right value.
    w = init.he_normal(FAN_IN, FAN_OUT, 5)
    wrong = math.sqrt(2 / FAN_OUT)
    right = math.sqrt(2 / FAN_IN)
    assert abs(w.std() - right) < Z * _se_std_normal(right, N)
    assert abs(w.std() - wrong) > 0.5 * right


def test_normal_and_uniform_generic() -> None:
    x = init.normal((300, 300), mean=2.0, std=3.0, rng=1)
    assert x.shape == (300, 300)
    _assert_mean_and_std(x, 3.0, _se_std_normal(3.0, x.size), mean=2.0)

    u = init.uniform((300, 300), low=-1.0, high=3.0, rng=2)
    assert np.all(u >= -1.0)
    assert np.all(u < 3.0)
    half = 2.0  # U[-1, 3) is 1 + U[-2, 2)
    _assert_mean_and_std(u, half / math.sqrt(3), _se_std_uniform(half, u.size), mean=1.0)


def test_normal_and_uniform_defaults() -> None:
    x = init.normal(10_000, rng=3)
    _assert_mean_and_std(x, 1.0, _se_std_normal(1.0, x.size))
    u = init.uniform(10_000, rng=4)
    assert np.all((u >= 0.0) & (u < 1.0))
    _assert_mean_and_std(u, 0.5 / math.sqrt(3), _se_std_uniform(0.5, u.size), mean=0.5)
    # Without a seed the draws still have the right shape (but are not reproducible).
    assert init.normal((2, 3)).shape == (2, 3)


def test_constant_and_identity() -> None:
    np.testing.assert_array_equal(init.constant((2, 3), 0.5), np.full((2, 3), 0.5))
    np.testing.assert_array_equal(init.identity(3), torch.eye(3, dtype=torch.float64).numpy())
    rect = torch.empty(3, 5, dtype=torch.float64)
    torch.nn.init.eye_(rect)
    np.testing.assert_array_equal(init.identity((3, 5)), rect.numpy())
    assert init.identity(np.int64(2)).shape == (2, 2)
    assert init.constant(4, 0.0).dtype == np.float64


@pytest.mark.parametrize(
    "call",
    [
        lambda: init.xavier_normal(0, 5, 0),
        lambda: init.he_uniform(5, -1, 0),
        lambda: init.identity(0),
        lambda: init.normal((2, 2), std=-1.0, rng=0),
        lambda: init.uniform((2, 2), low=1.0, high=0.0, rng=0),
    ],
)
def test_invalid_arguments_are_rejected(call: Callable[[], np.ndarray]) -> None:
    with pytest.raises(ValueError):
        call()
