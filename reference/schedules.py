"""Learning-rate schedules as pure functions of the step.

Each schedule maps an initial learning rate ``lr0`` and a step count to the
learning rate to use at that step. Steps count from 0: ``step == 0`` is the
first update, and every schedule returns ``lr0`` there except
``linear_warmup`` (0.0) and ``multistep_decay`` with a milestone at 0. The
value depends only on the arguments (no state), so a caller may evaluate any
step in any order. All return a Python float.

The step-wise schedules agree with ``torch.optim.lr_scheduler`` when the
scheduler's ``step()`` is called once after each optimiser step: our ``step``
is torch's ``last_epoch``.

Invalid arguments raise at once: ``TypeError`` for a non-integer step or size,
``ValueError`` for a negative step, a non-positive size, a non-positive decay
factor ``gamma`` or a negative rate ``beta``.
"""

from __future__ import annotations

import bisect
import math
import operator
from collections.abc import Iterable


def _step(step: int, name: str = "step") -> int:
    if isinstance(step, bool):
        raise TypeError(f"{name} must be an integer, not a bool")
    step = operator.index(step)
    if step < 0:
        raise ValueError(f"{name} must be >= 0, got {step}")
    return step


def _size(value: int, name: str) -> int:
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an integer, not a bool")
    value = operator.index(value)
    if value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value}")
    return value


def _gamma(gamma: float) -> float:
    # gamma <= 0 would zero the rate or flip its sign, turning descent into ascent.
    if not gamma > 0:
        raise ValueError(f"gamma must be > 0, got {gamma}")
    return float(gamma)


def _beta(beta: float) -> float:
    if not beta >= 0:
        raise ValueError(f"beta must be >= 0, got {beta}")
    return float(beta)


def step_decay(lr0: float, step: int, step_size: int, gamma: float) -> float:
    """``lr0 * gamma ** (step // step_size)``: multiply by gamma every step_size steps.

    Matches ``torch.optim.lr_scheduler.StepLR(step_size, gamma)``.
    """
    step = _step(step)
    step_size = _size(step_size, "step_size")
    return float(lr0 * _gamma(gamma) ** (step // step_size))


def multistep_decay(lr0: float, step: int, milestones: Iterable[int], gamma: float) -> float:
    """``lr0 * gamma ** k`` where k counts the milestones ``<= step``.

    milestones: non-negative integers in any order; a milestone listed twice
    multiplies by gamma twice. The rate first changes *at* a milestone step.
    Matches ``torch.optim.lr_scheduler.MultiStepLR(milestones, gamma)``.
    """
    step = _step(step)
    points = sorted(_step(m, "milestone") for m in milestones)
    return float(lr0 * _gamma(gamma) ** bisect.bisect_right(points, step))


def exponential_decay(lr0: float, step: int, gamma: float) -> float:
    """``lr0 * gamma ** step``. Matches ``torch.optim.lr_scheduler.ExponentialLR(gamma)``."""
    return float(lr0 * _gamma(gamma) ** _step(step))


def inverse_time_decay(lr0: float, step: int, beta: float) -> float:
    """``lr0 / (1 + beta * step)`` (the 1/t decay of the notes), beta >= 0."""
    return float(lr0 / (1.0 + _beta(beta) * _step(step)))


def natural_exp_decay(lr0: float, step: int, beta: float) -> float:
    """``lr0 * exp(-beta * step)``, beta >= 0."""
    return float(lr0 * math.exp(-_beta(beta) * _step(step)))


def cosine_decay(lr0: float, step: int, total_steps: int) -> float:
    """Half a cosine from lr0 down to 0 over total_steps, then 0 for ever.

    ``lr0 * (1 + cos(pi * step / total_steps)) / 2`` for ``step <= total_steps``
    (exactly 0.0 at ``step == total_steps``) and ``0.0`` for later steps.
    Matches ``torch.optim.lr_scheduler.CosineAnnealingLR(T_max=total_steps,
    eta_min=0)`` up to total_steps; torch's rate rises again after T_max
    (it is periodic), ours stays at 0.
    """
    step = _step(step)
    total_steps = _size(total_steps, "total_steps")
    if step >= total_steps:
        return 0.0
    return float(lr0 * (1.0 + math.cos(math.pi * step / total_steps)) / 2.0)


def linear_warmup(lr0: float, step: int, warmup_steps: int) -> float:
    """Linear ramp ``lr0 * step / warmup_steps`` up to warmup_steps, then lr0.

    The value at step 0 is 0.0 (the first update does not move the weights);
    the ramp reaches lr0 exactly at ``step == warmup_steps`` and stays there.
    To combine with a decay, multiply: ``linear_warmup(1.0, s, w) * decay(lr0, s, ...)``.
    """
    step = _step(step)
    warmup_steps = _size(warmup_steps, "warmup_steps")
    if step >= warmup_steps:
        return float(lr0)
    return float(lr0 * step / warmup_steps)
