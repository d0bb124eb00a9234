"""Weight penalties against torch autograd and finite differences; early stopping by hand."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch

from reference.gradcheck import eval_numerical_gradient, rel_error
from reference.regularization import EarlyStopping, l1_penalty, l2_penalty

# Same float64 formulas on both sides: only summation order differs.
RTOL = 1e-12
# Centred differences of a smooth function with h = 1e-5.
FD_TOL = 1e-7

Penalty = Callable[..., tuple[float, object]]


def _weights(seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    ws = [rng.standard_normal((4, 3)), rng.standard_normal((3,)), rng.standard_normal((2, 2, 3))]
    # Keep every entry at least 0.1 from 0 so |w| is smooth within the
    # finite-difference step, except one exact zero that pins sign(0) = 0.
    ws = [w + 0.1 * np.sign(w) for w in ws]
    ws[0][1, 2] = 0.0
    return ws


def _torch_penalty(name: str, ws: list[np.ndarray], lam: float) -> tuple[float, list[np.ndarray]]:
    ts = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in ws]
    if name == "l2":
        value = lam / 2 * sum((t**2).sum() for t in ts)
    else:
        value = lam * sum(t.abs().sum() for t in ts)
    value.backward()
    return value.item(), [t.grad.numpy() for t in ts]


@pytest.mark.parametrize(("name", "fn"), [("l2", l2_penalty), ("l1", l1_penalty)])
def test_penalty_matches_torch_autograd(name: str, fn: Penalty) -> None:
    ws, lam = _weights(), 0.37
    value, grads = fn(ws, lam)
    t_value, t_grads = _torch_penalty(name, ws, lam)
    assert isinstance(value, float)
    np.testing.assert_allclose(value, t_value, rtol=RTOL)
    assert isinstance(grads, list)
    assert len(grads) == len(ws)
    for g, tg, w in zip(grads, t_grads, ws, strict=True):
        assert g.shape == w.shape
        np.testing.assert_allclose(g, tg, rtol=RTOL, atol=0)


@pytest.mark.parametrize("fn", [l2_penalty, l1_penalty])
def test_penalty_gradient_matches_finite_differences(fn: Penalty) -> None:
    ws, lam = _weights(1), 0.8
    ws[0][1, 2] = 0.3  # away from the kink of |w|
    _, grads = fn(ws, lam)
    for k in range(len(ws)):

        def value_of(wk: np.ndarray, k: int = k) -> float:
            return fn([*ws[:k], wk, *ws[k + 1 :]], lam)[0]

        numeric = eval_numerical_gradient(value_of, ws[k].copy())
        assert rel_error(grads[k], numeric) < FD_TOL


def test_penalty_values_hand_checked() -> None:
    ws = [np.array([[1.0, -2.0], [0.0, 3.0]]), np.array([-0.5])]
    # L2: 0.1 / 2 * (1 + 4 + 0 + 9 + 0.25) = 0.7125; L1: 0.1 * (1 + 2 + 0 + 3 + 0.5) = 0.65
    assert abs(l2_penalty(ws, 0.1)[0] - 0.7125) < 1e-15
    assert abs(l1_penalty(ws, 0.1)[0] - 0.65) < 1e-15
    np.testing.assert_array_equal(l1_penalty(ws, 0.1)[1][0], [[0.1, -0.1], [0.0, 0.1]])


@pytest.mark.parametrize("fn", [l2_penalty, l1_penalty])
def test_dict_weights_give_dict_grads(fn: Penalty) -> None:
    ws = _weights(2)
    named = {"W1": ws[0], "W2": ws[1], "W3": ws[2]}
    value_d, grads_d = fn(named, 0.5)
    value_l, grads_l = fn(ws, 0.5)
    assert isinstance(grads_d, dict)
    assert list(grads_d) == ["W1", "W2", "W3"]
    assert value_d == value_l
    for key, g in zip(named, grads_l, strict=True):
        np.testing.assert_array_equal(grads_d[key], g)


@pytest.mark.parametrize("fn", [l2_penalty, l1_penalty])
def test_weights_not_mutated_and_grads_are_new(fn: Penalty) -> None:
    ws = _weights(3)
    before = [w.copy() for w in ws]
    _, grads = fn(ws, 1.0)
    for w, b, g in zip(ws, before, grads, strict=True):
        np.testing.assert_array_equal(w, b)
        assert not np.shares_memory(w, g)


def test_l2_grad_is_torch_sgd_weight_decay() -> None:
    rng = np.random.default_rng(4)
    w0, data_grad = rng.standard_normal((5, 4)), rng.standard_normal((5, 4))
    lr, lam = 0.1, 0.03

    p = torch.tensor(w0, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=lr, weight_decay=lam)
    p.grad = torch.from_numpy(data_grad.copy())
    opt.step()

    _, (reg_grad,) = l2_penalty([w0], lam)
    ours = w0 - lr * (data_grad + reg_grad)
    np.testing.assert_allclose(ours, p.detach().numpy(), rtol=RTOL, atol=1e-15)
    # The decay must have mattered at this tolerance.
    assert np.max(np.abs(ours - (w0 - lr * data_grad))) > 1e-4


@pytest.mark.parametrize("fn", [l2_penalty, l1_penalty])
def test_penalty_input_validation(fn: Penalty) -> None:
    with pytest.raises(TypeError, match="wrap"):
        fn(np.ones((2, 2)), 0.1)
    with pytest.raises(ValueError, match="lam"):
        fn([np.ones(2)], -0.1)
    assert fn([], 0.1) == (0.0, [])


def _run(stopper: EarlyStopping, metrics: list[float]) -> list[bool]:
    return [stopper.step(m) for m in metrics]


def test_early_stopping_counts_patience() -> None:
    es = EarlyStopping(patience=3)
    # epoch:         0     1     2     3     4     5
    got = _run(es, [1.0, 0.8, 0.9, 0.85, 0.81, 0.95])
    assert got == [False, False, False, False, True, True]
    assert es.best == 0.8
    assert es.best_epoch == 1
    assert es.num_bad_epochs == 4
    assert es.should_stop


def test_early_stopping_resets_on_improvement() -> None:
    es = EarlyStopping(patience=2)
    got = _run(es, [5.0, 6.0, 4.0, 4.5, 3.0, 3.5, 3.2])
    assert got == [False, False, False, False, False, False, True]
    assert (es.best, es.best_epoch, es.num_bad_epochs) == (3.0, 4, 2)


def test_early_stopping_state_before_and_after_first_call() -> None:
    es = EarlyStopping(patience=1)
    assert es.best == float("inf")
    assert es.best_epoch is None
    assert (es.num_bad_epochs, es.should_stop) == (0, False)
    assert es.step(10.0) is False
    assert (es.best, es.best_epoch, es.num_bad_epochs) == (10.0, 0, 0)
    # patience=1: the first call that fails to improve stops training.
    assert es.step(10.0) is True


def test_early_stopping_min_delta_needs_strictly_more() -> None:
    es = EarlyStopping(patience=2, min_delta=0.5)
    # 9.5 improves by exactly min_delta (not more), 9.4 by 0.6: only the latter counts.
    got = _run(es, [10.0, 9.5, 9.4, 9.0, 8.95])
    assert got == [False, False, False, False, True]
    assert (es.best, es.best_epoch) == (9.4, 2)


def test_early_stopping_mode_max() -> None:
    es = EarlyStopping(patience=2, min_delta=0.01, mode="max")
    assert es.best == float("-inf")
    got = _run(es, [0.50, 0.60, 0.605, 0.62, 0.61, 0.625])
    assert got == [False, False, False, False, False, True]
    assert (es.best, es.best_epoch, es.num_bad_epochs) == (0.62, 3, 2)


def test_early_stopping_nan_is_never_an_improvement() -> None:
    es = EarlyStopping(patience=2)
    assert _run(es, [1.0, float("nan"), float("nan")]) == [False, False, True]
    assert es.best == 1.0


def test_early_stopping_should_stop_is_sticky() -> None:
    es = EarlyStopping(patience=1)
    _run(es, [1.0, 2.0])
    assert es.should_stop
    assert es.step(0.1) is True
    assert (es.best, es.best_epoch, es.num_bad_epochs) == (0.1, 2, 0)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"patience": 0}, ValueError),
        ({"patience": -1}, ValueError),
        ({"patience": 2.5}, TypeError),
        ({"patience": 2, "min_delta": -0.1}, ValueError),
        ({"patience": 2, "mode": "maximise"}, ValueError),
    ],
)
def test_early_stopping_rejects_bad_arguments(kwargs: dict, error: type[Exception]) -> None:
    with pytest.raises(error):
        EarlyStopping(**kwargs)
