"""Learning-rate schedules against torch.optim.lr_scheduler and hand-checked values."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
import torch
from torch.optim import lr_scheduler

from reference import schedules

LR0 = 0.1
STEPS = 50
# torch updates most rates recursively (lr_t from lr_{t-1}); 50 rounded
# multiplications drift by at most ~50 ulp from our closed forms.
RTOL = 1e-12
ATOL = 1e-15

SchedulerFactory = Callable[[torch.optim.Optimizer], lr_scheduler.LRScheduler]


def _torch_rates(make_scheduler: SchedulerFactory, steps: int = STEPS) -> list[float]:
    """The lr a real torch optimiser uses at steps 0 .. steps - 1."""
    p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=LR0)
    sched = make_scheduler(opt)
    rates = []
    for _ in range(steps):
        rates.append(opt.param_groups[0]["lr"])
        p.grad = torch.ones_like(p)
        opt.step()
        sched.step()
    return rates


def _assert_rates(ours: list[float], theirs: list[float]) -> None:
    assert len(ours) == len(theirs)
    for step, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        assert math.isclose(a, b, rel_tol=RTOL, abs_tol=ATOL), (step, a, b)
    # Guard against comparing two constant sequences.
    assert len(set(round(r, 12) for r in theirs)) > 2


def test_step_decay_matches_StepLR() -> None:
    theirs = _torch_rates(lambda o: lr_scheduler.StepLR(o, step_size=7, gamma=0.5))
    ours = [schedules.step_decay(LR0, s, 7, 0.5) for s in range(STEPS)]
    _assert_rates(ours, theirs)


@pytest.mark.parametrize("milestones", [[5, 12, 30], [30, 5, 12], [10, 20, 20]])
def test_multistep_decay_matches_MultiStepLR(milestones: list[int]) -> None:
    theirs = _torch_rates(lambda o: lr_scheduler.MultiStepLR(o, milestones, gamma=0.3))
    ours = [schedules.multistep_decay(LR0, s, milestones, 0.3) for s in range(STEPS)]
    _assert_rates(ours, theirs)


def test_exponential_decay_matches_ExponentialLR() -> None:
    theirs = _torch_rates(lambda o: lr_scheduler.ExponentialLR(o, gamma=0.93))
    ours = [schedules.exponential_decay(LR0, s, 0.93) for s in range(STEPS)]
    _assert_rates(ours, theirs)


@pytest.mark.parametrize("total_steps", [10, 49])
def test_cosine_decay_matches_CosineAnnealingLR(total_steps: int) -> None:
    steps = total_steps + 1  # compare through step == total_steps, where both are 0
    theirs = _torch_rates(
        lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=total_steps, eta_min=0.0), steps
    )
    ours = [schedules.cosine_decay(LR0, s, total_steps) for s in range(steps)]
    _assert_rates(ours, theirs)
    assert ours[-1] == 0.0


def test_cosine_decay_stays_at_zero_after_total_steps() -> None:
    assert [schedules.cosine_decay(LR0, s, 10) for s in (11, 15, 20, 1000)] == [0.0] * 4
    # Hand-checked: half way down the half cosine the rate is lr0 / 2.
    assert math.isclose(schedules.cosine_decay(LR0, 5, 10), LR0 / 2, rel_tol=1e-15)


def test_inverse_time_decay_matches_LambdaLR() -> None:
    theirs = _torch_rates(lambda o: lr_scheduler.LambdaLR(o, lambda s: 1.0 / (1.0 + 0.2 * s)))
    ours = [schedules.inverse_time_decay(LR0, s, 0.2) for s in range(STEPS)]
    _assert_rates(ours, theirs)


def test_natural_exp_decay_matches_LambdaLR() -> None:
    theirs = _torch_rates(lambda o: lr_scheduler.LambdaLR(o, lambda s: math.exp(-0.07 * s)))
    ours = [schedules.natural_exp_decay(LR0, s, 0.07) for s in range(STEPS)]
    _assert_rates(ours, theirs)


@pytest.mark.parametrize(
    ("lr0", "step", "beta", "expected"),
    [(0.1, 0, 0.5, 0.1), (0.1, 4, 0.5, 0.1 / 3), (1.0, 9, 1.0, 0.1), (0.3, 100, 0.0, 0.3)],
)
def test_inverse_time_decay_hand_checked(lr0: float, step: int, beta: float, expected: float):
    assert math.isclose(schedules.inverse_time_decay(lr0, step, beta), expected, rel_tol=1e-15)


@pytest.mark.parametrize(
    ("lr0", "step", "beta", "expected"),
    [(0.5, 0, math.log(2), 0.5), (0.5, 3, math.log(2), 0.0625), (1.0, 2, math.log(10) / 2, 0.1)],
)
def test_natural_exp_decay_hand_checked(lr0: float, step: int, beta: float, expected: float):
    assert math.isclose(schedules.natural_exp_decay(lr0, step, beta), expected, rel_tol=1e-14)


def test_linear_warmup_matches_LinearLR() -> None:
    # LinearLR cannot start at 0 (start_factor must be > 0), but its rate is
    # lr0 * (s + (1 - s) * min(t, T) / T): an affine image of ours, which we undo.
    start, warmup = 0.25, 12
    theirs = _torch_rates(
        lambda o: lr_scheduler.LinearLR(o, start_factor=start, total_iters=warmup), 30
    )
    ours = [schedules.linear_warmup(LR0, t, warmup) for t in range(30)]
    undone = [(r - LR0 * start) / (1.0 - start) for r in theirs]
    _assert_rates(ours, undone)


def test_linear_warmup_hand_checked() -> None:
    got = [schedules.linear_warmup(0.1, s, 4) for s in range(7)]
    expected = [0.0, 0.025, 0.05, 0.075, 0.1, 0.1, 0.1]
    for step, (a, b) in enumerate(zip(got, expected, strict=True)):
        assert math.isclose(a, b, rel_tol=1e-15, abs_tol=0.0), (step, a, b)


def test_step_counts_from_zero() -> None:
    assert schedules.step_decay(LR0, 0, 5, 0.5) == LR0
    assert schedules.step_decay(LR0, 4, 5, 0.5) == LR0
    assert schedules.step_decay(LR0, 5, 5, 0.5) == LR0 * 0.5
    assert schedules.multistep_decay(LR0, 9, [10], 0.1) == LR0
    assert math.isclose(schedules.multistep_decay(LR0, 10, [10], 0.1), LR0 * 0.1, rel_tol=1e-15)
    assert schedules.exponential_decay(LR0, 0, 0.9) == LR0
    assert schedules.cosine_decay(LR0, 0, 10) == LR0


ALL_WITH_ARGS: list[tuple[Callable[..., float], tuple[object, ...]]] = [
    (schedules.step_decay, (5, 0.5)),
    (schedules.multistep_decay, ([3, 6], 0.5)),
    (schedules.exponential_decay, (0.9,)),
    (schedules.inverse_time_decay, (0.5,)),
    (schedules.natural_exp_decay, (0.5,)),
    (schedules.cosine_decay, (10,)),
    (schedules.linear_warmup, (10,)),
]


@pytest.mark.parametrize(("fn", "args"), ALL_WITH_ARGS)
def test_negative_step_is_rejected(fn: Callable[..., float], args: tuple[object, ...]) -> None:
    with pytest.raises(ValueError, match="step must be >= 0"):
        fn(LR0, -1, *args)


@pytest.mark.parametrize(("fn", "args"), ALL_WITH_ARGS)
def test_non_integer_step_is_rejected(fn: Callable[..., float], args: tuple[object, ...]) -> None:
    with pytest.raises(TypeError):
        fn(LR0, 1.5, *args)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: schedules.step_decay(LR0, 3, 0, 0.5), "step_size"),
        (lambda: schedules.step_decay(LR0, 3, -2, 0.5), "step_size"),
        (lambda: schedules.cosine_decay(LR0, 3, 0), "total_steps"),
        (lambda: schedules.linear_warmup(LR0, 3, 0), "warmup_steps"),
        (lambda: schedules.linear_warmup(LR0, 3, -5), "warmup_steps"),
        (lambda: schedules.multistep_decay(LR0, 3, [2, -1], 0.5), "milestone"),
        (lambda: schedules.exponential_decay(LR0, 3, 0.0), "gamma"),
        (lambda: schedules.step_decay(LR0, 3, 2, -0.5), "gamma"),
        (lambda: schedules.inverse_time_decay(LR0, 3, -0.1), "beta"),
        (lambda: schedules.natural_exp_decay(LR0, 3, -0.1), "beta"),
    ],
)
def test_invalid_sizes_and_rates_are_rejected(call: Callable[[], float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()
