"""reference.losses against PyTorch (float64 values and autograd) and finite differences."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812 (the universal torch alias)

from reference import losses
from reference.gradcheck import eval_numerical_gradient, rel_error

# Same float64 maths on both sides: only rounding may differ.
TORCH_RTOL = 1e-12
TORCH_ATOL = 1e-15
# Centred differences with h = 1e-5 on smooth functions of O(1) inputs.
FD_TOL = 1e-7

LossFn = Callable[..., tuple[float, np.ndarray]]
TorchLoss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _t(x: np.ndarray, grad: bool = False) -> torch.Tensor:
    return torch.tensor(x, dtype=torch.float64, requires_grad=grad)


def _torch_loss_and_grad(
    torch_fn: TorchLoss, first: np.ndarray, second: torch.Tensor
) -> tuple[float, np.ndarray]:
    xt = _t(first, grad=True)
    loss = torch_fn(xt, second)
    loss.backward()
    assert xt.grad is not None
    return float(loss.detach()), xt.grad.numpy()


def _assert_matches_torch(
    ours: tuple[float, np.ndarray], theirs: tuple[float, np.ndarray], shape: tuple[int, ...]
) -> None:
    loss, grad = ours
    assert isinstance(loss, float)
    assert grad.shape == shape and grad.dtype == np.float64
    np.testing.assert_allclose(loss, theirs[0], rtol=TORCH_RTOL, atol=TORCH_ATOL)
    np.testing.assert_allclose(grad, theirs[1], rtol=TORCH_RTOL, atol=TORCH_ATOL)


def _focal_torch(gamma: float) -> TorchLoss:
    def fn(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        log_pt = F.log_softmax(z, dim=1).gather(1, y[:, None]).squeeze(1)
        return (-((1 - log_pt.exp()) ** gamma) * log_pt).mean()

    return fn


# --- elementwise losses: (pred, target) of the same shape -----------------------


def _regression_pair(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """pred, target of shape (3, 4) with |pred - target| in [0.05, 2.5]."""
    rng = np.random.default_rng(seed)
    target = rng.standard_normal((3, 4))
    gap = rng.choice([-1.0, 1.0], size=(3, 4)) * rng.uniform(0.05, 2.5, size=(3, 4))
    return target + gap, target


def _probability_pair(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """prob in [0.05, 0.95] and targets mixing hard 0/1 and soft values."""
    rng = np.random.default_rng(seed)
    prob = rng.uniform(0.05, 0.95, size=(3, 4))
    target = rng.integers(0, 2, size=(3, 4)).astype(np.float64)
    target[0] = rng.uniform(0, 1, size=4)
    return prob, target


def _logit_pair(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(scale=3.0, size=(3, 4)), rng.integers(0, 2, size=(3, 4)).astype(float)


# (id, our loss, kwargs, torch loss, input maker taking a seed).
ELEMENTWISE: list[tuple[str, LossFn, dict[str, Any], TorchLoss, Callable]] = [
    ("mse", losses.mse_loss, {}, F.mse_loss, _regression_pair),
    ("mae", losses.mae_loss, {}, F.l1_loss, _regression_pair),
    ("smooth_l1", losses.smooth_l1_loss, {}, F.smooth_l1_loss, _regression_pair),
    (
        "smooth_l1-0.5",
        losses.smooth_l1_loss,
        {"beta": 0.5},
        lambda a, b: F.smooth_l1_loss(a, b, beta=0.5),
        _regression_pair,
    ),
    (
        "smooth_l1-0",
        losses.smooth_l1_loss,
        {"beta": 0.0},
        lambda a, b: F.smooth_l1_loss(a, b, beta=0.0),
        _regression_pair,
    ),
    ("bce", losses.bce_loss, {}, F.binary_cross_entropy, _probability_pair),
    (
        "bce_with_logits",
        losses.bce_with_logits_loss,
        {},
        F.binary_cross_entropy_with_logits,
        _logit_pair,
    ),
]
ELEMENTWISE_IDS = [c[0] for c in ELEMENTWISE]


@pytest.mark.parametrize(
    ("case", "loss_fn", "kw", "torch_fn", "make"), ELEMENTWISE, ids=ELEMENTWISE_IDS
)
def test_elementwise_loss_matches_torch(
    case: str, loss_fn: LossFn, kw: dict, torch_fn: TorchLoss, make: Callable
) -> None:
    first, second = make(seed=1)
    expected = _torch_loss_and_grad(torch_fn, first, _t(second))
    _assert_matches_torch(loss_fn(first, second, **kw), expected, first.shape)


@pytest.mark.parametrize(
    ("case", "loss_fn", "kw", "torch_fn", "make"), ELEMENTWISE, ids=ELEMENTWISE_IDS
)
def test_elementwise_grad_matches_finite_differences(
    case: str, loss_fn: LossFn, kw: dict, torch_fn: TorchLoss, make: Callable
) -> None:
    first, second = make(seed=2)
    beta = kw.get("beta", 1.0)
    if case.startswith("smooth_l1"):
        # The FD stencil must not straddle the |d| = beta seam.
        assert np.min(np.abs(np.abs(first - second) - beta)) > 1e-4
    numeric = eval_numerical_gradient(lambda v: loss_fn(v, second, **kw)[0], first.copy())
    assert rel_error(loss_fn(first, second, **kw)[1], numeric) < FD_TOL


def test_mae_and_smooth_l1_grad_is_zero_at_ties_like_torch() -> None:
    pred = np.array([1.0, 2.0, -3.0, 0.5])
    target = np.array([1.0, 0.0, -3.0, 0.0])
    for loss_fn, torch_fn in [
        (losses.mae_loss, F.l1_loss),
        (
            lambda a, b: losses.smooth_l1_loss(a, b, beta=0.0),
            lambda a, b: F.smooth_l1_loss(a, b, beta=0.0),
        ),
    ]:
        expected = _torch_loss_and_grad(torch_fn, pred, _t(target))
        _assert_matches_torch(loss_fn(pred, target), expected, (4,))
        assert loss_fn(pred, target)[1][0] == 0.0


def test_smooth_l1_at_the_seam_matches_torch() -> None:
    pred = np.array([1.0, -1.0, 0.5, 3.0])
    target = np.zeros(4)
    expected = _torch_loss_and_grad(F.smooth_l1_loss, pred, _t(target))
    _assert_matches_torch(losses.smooth_l1_loss(pred, target), expected, (4,))


def test_bce_at_probabilities_zero_and_one() -> None:
    prob = np.array([0.0, 0.0, 1.0, 1.0, 0.3])
    target = np.array([1.0, 0.0, 0.0, 1.0, 1.0])
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, grad = losses.bce_loss(prob, target)
    # torch clamps each log at -100: the two wrong-and-certain terms cost 100 each.
    expected_loss = float(F.binary_cross_entropy(_t(prob), _t(target)))
    np.testing.assert_allclose(loss, expected_loss, rtol=TORCH_RTOL)
    np.testing.assert_allclose(loss, (100 + 0 + 100 + 0 - np.log(0.3)) / 5, rtol=TORCH_RTOL)
    # Documented grad: a clamped log term has slope 0; the other term is exact.
    # At p=0: (1 - t)/(1 - p); at p=1: -t/p; interior: (p - t)/(p (1 - p)); all / N.
    expected_grad = np.array([0.0, 1.0, 0.0, -1.0, (0.3 - 1.0) / (0.3 * 0.7)]) / 5
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-14, atol=0)


def test_bce_near_the_clamp_matches_torch_where_its_floor_is_inactive() -> None:
    # torch's grad is (p - t) / max(p (1 - p), 1e-12); above 1e-12 that is exact.
    prob = np.array([1e-9, 1 - 1e-9, 1e-6, 0.5])
    target = np.array([1.0, 0.0, 0.0, 1.0])
    expected = _torch_loss_and_grad(F.binary_cross_entropy, prob, _t(target))
    _assert_matches_torch(losses.bce_loss(prob, target), expected, (4,))


def test_bce_with_logits_is_stable_for_huge_logits() -> None:
    logits = np.array([1e4, -1e4, 1000.0, -1000.0, 1e4, -1e4])
    target = np.array([1.0, 1.0, 0.0, 0.0, 0.3, 0.3])
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = losses.bce_with_logits_loss(logits, target)
    expected = _torch_loss_and_grad(F.binary_cross_entropy_with_logits, logits, _t(target))
    assert np.isfinite(ours[0]) and np.all(np.isfinite(ours[1]))
    _assert_matches_torch(ours, expected, (6,))


# --- classification losses: (N, C) scores and (N,) integer labels ---------------


def _classification(seed: int, scale: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(scale=scale, size=(5, 4)), rng.integers(0, 4, size=5)


def _log_probs(seed: int, scale: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    z, y = _classification(seed, scale)
    return F.log_softmax(_t(z), dim=1).numpy(), y


CLASSIFICATION: list[tuple[str, LossFn, dict[str, Any], TorchLoss, Callable]] = [
    ("cross_entropy", losses.cross_entropy_loss, {}, F.cross_entropy, _classification),
    ("nll", losses.nll_loss, {}, F.nll_loss, _log_probs),
    (
        "nll-unnormalised",
        losses.nll_loss,
        {},
        F.nll_loss,
        _classification,
    ),
    ("focal-2", losses.focal_loss, {}, _focal_torch(2.0), _classification),
    ("focal-0.5", losses.focal_loss, {"gamma": 0.5}, _focal_torch(0.5), _classification),
    ("focal-1", losses.focal_loss, {"gamma": 1.0}, _focal_torch(1.0), _classification),
    ("focal-3.5", losses.focal_loss, {"gamma": 3.5}, _focal_torch(3.5), _classification),
]
CLASSIFICATION_IDS = [c[0] for c in CLASSIFICATION]


@pytest.mark.parametrize(
    ("case", "loss_fn", "kw", "torch_fn", "make"), CLASSIFICATION, ids=CLASSIFICATION_IDS
)
def test_classification_loss_matches_torch(
    case: str, loss_fn: LossFn, kw: dict, torch_fn: TorchLoss, make: Callable
) -> None:
    scores, labels = make(seed=3)
    expected = _torch_loss_and_grad(torch_fn, scores, torch.tensor(labels, dtype=torch.long))
    _assert_matches_torch(loss_fn(scores, labels, **kw), expected, scores.shape)


@pytest.mark.parametrize(
    ("case", "loss_fn", "kw", "torch_fn", "make"), CLASSIFICATION, ids=CLASSIFICATION_IDS
)
def test_classification_grad_matches_finite_differences(
    case: str, loss_fn: LossFn, kw: dict, torch_fn: TorchLoss, make: Callable
) -> None:
    # Milder logits than elsewhere: a focal weight (1 - p_t)^gamma on a confident
    # sample shrinks its true slopes to ~1e-8, below the ~1e-11 absolute noise
    # of centred differences divided by FD_TOL. Seed 4 still has one p_t = 0.75.
    scores, labels = make(seed=4, scale=1.0)
    numeric = eval_numerical_gradient(lambda v: loss_fn(v, labels, **kw)[0], scores.copy())
    assert rel_error(loss_fn(scores, labels, **kw)[1], numeric) < FD_TOL


def test_focal_with_gamma_zero_is_cross_entropy() -> None:
    z, y = _classification(seed=5, scale=4.0)
    expected = _torch_loss_and_grad(F.cross_entropy, z, torch.tensor(y, dtype=torch.long))
    _assert_matches_torch(losses.focal_loss(z, y, gamma=0.0), expected, z.shape)


HUGE_LOGITS = np.array(
    [
        [1e4, -1e4, 0.0],
        [1e4, -1e4, 0.0],
        [1000.0, 1001.0, 999.0],
        [-1000.0, 0.0, 1000.0],
    ]
)
HUGE_LABELS = np.array([0, 1, 2, 1])


@pytest.mark.parametrize(
    ("loss_fn", "torch_fn"),
    [
        (losses.cross_entropy_loss, F.cross_entropy),
        (lambda z, y: losses.focal_loss(z, y, gamma=2.0), _focal_torch(2.0)),
        (lambda z, y: losses.focal_loss(z, y, gamma=1.0), _focal_torch(1.0)),
    ],
    ids=["cross_entropy", "focal-2", "focal-1"],
)
def test_classification_is_stable_for_huge_logits(loss_fn: LossFn, torch_fn: TorchLoss) -> None:
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = loss_fn(HUGE_LOGITS, HUGE_LABELS)
    assert np.isfinite(ours[0]) and np.all(np.isfinite(ours[1]))
    labels = torch.tensor(HUGE_LABELS, dtype=torch.long)
    expected = _torch_loss_and_grad(torch_fn, HUGE_LOGITS, labels)
    _assert_matches_torch(ours, expected, HUGE_LOGITS.shape)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
def test_focal_certain_and_right_costs_nothing_for_any_gamma(gamma: float) -> None:
    # p_t = 1 to float64 precision: (1 - p_t)^gamma log p_t and every slope are 0
    # (true values ~exp(-1000)). torch's autograd gives NaN here for gamma < 1,
    # from (1 - p_t)^(gamma - 1) = inf times 0, so the limit is the reference.
    z = np.array([[1000.0, 0.0, -5.0], [3.0, 1003.0, 2.0]])
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, grad = losses.focal_loss(z, np.array([0, 1]), gamma=gamma)
    assert loss == 0.0
    np.testing.assert_array_equal(grad, np.zeros((2, 3)))


@pytest.mark.parametrize(
    ("loss_fn", "gamma"),
    [(losses.cross_entropy_loss, 0.0), (lambda z, y: losses.focal_loss(z, y, gamma=2.0), 2.0)],
    ids=["cross_entropy", "focal-2"],
)
def test_relative_accuracy_when_p_t_is_within_1e_20_of_one(loss_fn: LossFn, gamma: float) -> None:
    # With two classes, 1 - p_t = sigmoid(d) and -log p_t = softplus(d) for
    # d = z_other - z_label: torch evaluates both without cancellation, while
    # 1 - softmax and log_softmax round to 0 here (true losses ~1e-20, 1e-60).
    z = np.array([[46.0, 0.0], [0.0, -50.0]])
    zt = _t(z, grad=True)
    d = zt[:, 1] - zt[:, 0]
    expected_loss = (torch.sigmoid(d) ** gamma * F.softplus(d)).mean()
    expected_loss.backward()
    assert zt.grad is not None
    loss, grad = loss_fn(z, np.array([0, 0]))
    # atol=0: every value here is below 1e-19, so only a relative test bites.
    np.testing.assert_allclose(loss, float(expected_loss.detach()), rtol=TORCH_RTOL, atol=0)
    np.testing.assert_allclose(grad, zt.grad.numpy(), rtol=TORCH_RTOL, atol=0)


def test_focal_certain_and_wrong_matches_torch() -> None:
    z = np.array([[1000.0, 0.0, -5.0]])
    for gamma in (0.5, 2.0):
        expected = _torch_loss_and_grad(_focal_torch(gamma), z, torch.tensor([2]))
        _assert_matches_torch(losses.focal_loss(z, np.array([2]), gamma=gamma), expected, (1, 3))


# --- bad input -------------------------------------------------------------------


@pytest.mark.parametrize(
    "loss_fn",
    [
        losses.mse_loss,
        losses.mae_loss,
        losses.smooth_l1_loss,
        losses.bce_loss,
        losses.bce_with_logits_loss,
    ],
)
def test_elementwise_losses_refuse_mismatched_shapes_and_empty_input(loss_fn: LossFn) -> None:
    with pytest.raises(ValueError, match="shape"):
        loss_fn(np.full((2, 3), 0.5), np.full((3, 2), 0.5))
    with pytest.raises(ValueError, match="shape"):
        loss_fn(np.full((2, 3), 0.5), np.full((3,), 0.5))
    with pytest.raises(ValueError, match="empty"):
        loss_fn(np.zeros((0, 3)), np.zeros((0, 3)))


@pytest.mark.parametrize("prob", [[-0.1, 0.5], [0.5, 1.5], [np.nan, 0.5]])
def test_bce_refuses_probabilities_outside_unit_interval(prob: list[float]) -> None:
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        losses.bce_loss(np.array(prob), np.array([1.0, 0.0]))


@pytest.mark.parametrize("beta", [-1.0, np.nan])
def test_smooth_l1_refuses_bad_beta(beta: float) -> None:
    with pytest.raises(ValueError, match="beta"):
        losses.smooth_l1_loss(np.zeros(2), np.ones(2), beta=beta)


@pytest.mark.parametrize("gamma", [-0.5, np.nan, np.inf])
def test_focal_refuses_bad_gamma(gamma: float) -> None:
    with pytest.raises(ValueError, match="gamma"):
        losses.focal_loss(np.zeros((2, 3)), np.array([0, 1]), gamma=gamma)


@pytest.mark.parametrize("loss_fn", [losses.cross_entropy_loss, losses.nll_loss, losses.focal_loss])
@pytest.mark.parametrize(
    ("scores", "labels", "match"),
    [
        (np.zeros((2, 3)), np.array([0, 3]), r"\[0, 3\)"),
        (np.zeros((2, 3)), np.array([-1, 0]), r"\[0, 3\)"),
        (np.zeros((2, 3)), np.array([-100, 0]), r"\[0, 3\)"),
        (np.zeros((2, 3)), np.array([0, 1, 2]), "shape"),
        (np.zeros((2, 3)), np.array([[0], [1]]), "shape"),
        (np.zeros((2, 3)), np.array([0.0, 1.0]), "integer"),
        (np.zeros(3), np.array([0]), "shape"),
        (np.zeros((0, 3)), np.zeros(0, dtype=int), "shape"),
        (np.zeros((2, 0)), np.array([0, 0]), "shape"),
    ],
)
def test_classification_losses_refuse_bad_scores_or_labels(
    loss_fn: LossFn, scores: np.ndarray, labels: np.ndarray, match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        loss_fn(scores, labels)


def test_labels_may_be_a_list_of_python_ints() -> None:
    z, y = _classification(seed=6)
    expected = _torch_loss_and_grad(F.cross_entropy, z, torch.tensor(y, dtype=torch.long))
    _assert_matches_torch(losses.cross_entropy_loss(z.tolist(), y.tolist()), expected, z.shape)


def test_inputs_are_not_modified() -> None:
    z, y = _classification(seed=7)
    z_before, y_before = z.copy(), y.copy()
    for loss_fn in (losses.cross_entropy_loss, losses.nll_loss, losses.focal_loss):
        loss_fn(z, y)
    np.testing.assert_array_equal(z, z_before)
    np.testing.assert_array_equal(y, y_before)
