"""Checks for the optimisers homework.

Optimisers: one step from a random state (the next weights AND the state kept
in config, by its name), then whole trajectories driven from here: the
gradient of a quadratic or of Rosenbrock's function is computed on the trusted
side at the student's own weights, step after step, and the path is compared
with reference.optim's. Momentum is the notes' (v = m v + lr dw; w -= v): a
trajectory whose learning rate changes between steps tells it from torch's
form, which agrees at a constant rate.

Schedules: the rate at steps 0..30 against reference.schedules.

Initialisers are judged statistically on a (fan_in, fan_out) draw of 37 500
to 90 000 weights: the mean, the variance and the distribution's shape
(kurtosis for the normal ones; the bound, exceeded never and approached
always, for the uniform ones), each at Z = 6 standard errors. Each statistic
is near normal at these sizes, so a correct initialiser fails one with
probability about 2e-9, and a submission's whole grading (12 statistics)
falsely fails with probability below 1e-7.

Hidden checks draw their inputs from the rng they receive (a secret per
submission). Inputs and hyperparameters are exactly representable in float32.
"""

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from grader.checks import CheckFailed, Verdict, all_of, check, compare, unchanged
from reference import optim as ref_optim
from reference import schedules as ref_sched

RTOL, ATOL = 1e-7, 1e-9
PATH_RTOL, PATH_ATOL = 1e-6, 1e-9  # a path of 15 steps accumulates rounding
Z = 6.0  # standard errors allowed per statistic of an initialiser


def f32(x: Any) -> Any:
    """x rounded to float32 and held in float64 (a Python float for a scalar)."""
    arr = np.asarray(x, dtype=np.float32).astype(np.float64)
    return float(arr) if arr.ndim == 0 else arr


STATE = {
    "sgd": (),
    "sgd_momentum": ("velocity",),
    "nesterov": ("velocity",),
    "adagrad": ("cache",),
    "rmsprop": ("cache",),
    "adam": ("m", "v", "t"),
}


def hyperparameters(name: str, rng: np.random.Generator) -> dict[str, float]:
    config = {"learning_rate": f32(rng.uniform(0.01, 0.1))}
    if name in ("sgd_momentum", "nesterov"):
        config["momentum"] = f32(rng.uniform(0.5, 0.95))
    if name == "rmsprop":
        config["decay_rate"] = f32(rng.uniform(0.9, 0.999))
    if name == "adam":
        config["beta1"] = f32(rng.uniform(0.8, 0.95))
        config["beta2"] = f32(rng.uniform(0.99, 0.9999))
    if name in ("adagrad", "rmsprop", "adam"):
        config["epsilon"] = 1e-8
    return config


def random_state(name: str, rng: np.random.Generator, shape: tuple[int, ...]) -> dict[str, Any]:
    """Optimiser state as if some steps had been taken already."""
    state: dict[str, Any] = {}
    for key in STATE[name]:
        if key == "t":
            state[key] = int(rng.integers(1, 6))
        elif key in ("cache", "v"):
            state[key] = f32(rng.uniform(0.01, 1.0, size=shape) ** 2)
        else:
            state[key] = f32(rng.normal(0.0, 0.1, size=shape))
    return state


# Where the starter's epsilon sits (sqrt(cache) + epsilon, not sqrt(cache + epsilon)) shows
# only where the cache is tiny: a gradient of 1e-9..1e-7 after such gradients, which the
# step check places at two random entries of w.
TINY = (1e-9, 1e-7)


def with_tiny_entries(
    name: str, rng: np.random.Generator, dw: np.ndarray, state: dict[str, Any]
) -> None:
    """Two random entries where the gradient and the state kept from it are tiny (in place)."""
    if not {"cache", "v"} & set(STATE[name]):
        return
    at = rng.choice(dw.size, size=2, replace=False)
    sign = rng.choice([-1.0, 1.0], size=2)
    dw.flat[at] = f32(sign * rng.uniform(*TINY, size=2))
    for key in ("cache", "v"):
        if key in state:
            state[key].flat[at] = f32(rng.uniform(*TINY, size=2) ** 2)
    if "m" in state:
        state["m"].flat[at] = f32(sign * rng.uniform(*TINY, size=2))


def given_state(name: str, config: dict[str, Any]) -> str:
    """The config a step started from, as a message shows it (hyperparameters and state)."""

    def shown(value: Any) -> str:
        if isinstance(value, np.ndarray):
            return np.array2string(value, precision=6, separator=", ", max_line_width=10_000)
        return f"{value:.6g}" if isinstance(value, float) else str(value)

    return ", ".join(f"{key}={shown(value)}" for key, value in config.items())


def result(value: Any, name: str) -> tuple[Any, dict[str, Any]]:
    if not isinstance(value, tuple | list) or len(value) != 2 or not isinstance(value[1], dict):
        raise CheckFailed(f"{name} must return (next_w, config) with config a dict")
    return value[0], value[1]


def _step_check(name: str) -> Any:
    def run(student: Any, rng: np.random.Generator) -> Verdict:
        w = f32(rng.normal(size=(3, 4)))
        dw = f32(rng.normal(size=(3, 4)))
        state = random_state(name, rng, w.shape)
        with_tiny_entries(name, rng, dw, state)
        config = {**hyperparameters(name, rng), **state}
        watched = student.call_watched(name, w, dw, dict(config))
        next_w, got = result(watched.value, name)
        expected_w, expected = getattr(ref_optim, name)(w, dw, dict(config))
        verdicts = [
            compare(next_w, expected_w, rtol=RTOL, atol=ATOL, name=f"{name}: next_w"),
            # The starter: "Return a new array; do not modify w or dw".
            unchanged(watched, {0: "w", 1: "dw"}, call=f"{name}(w, dw, config)"),
        ]
        for key in STATE[name]:
            if key not in got:
                raise CheckFailed(f"{name}: the returned config has no '{key}' (see the starter)")
            verdicts.append(
                compare(
                    got[key], expected[key], rtol=RTOL, atol=ATOL, name=f"{name}: config['{key}']"
                )
            )
        # The starter: config is None on the first call, "then fill in the defaults".
        first_w, _ = result(student.call(name, w, dw, None), f"{name}(w, dw, None)")
        expected_first_w, _ = getattr(ref_optim, name)(w, dw, None)
        verdicts.append(
            compare(
                first_w,
                expected_first_w,
                rtol=RTOL,
                atol=ATOL,
                name=f"{name}(w, dw, None): next_w with the starter's defaults",
            )
        )
        verdict = all_of(*verdicts)
        if verdict.passed:
            return verdict
        # The step started from a state the grader gave: without it the numbers cannot be
        # reproduced, and a wrong velocity or cache looks like a wrong formula.
        return Verdict(
            False,
            verdict.message
            + f"\n(the step started from the config the grader gave: {given_state(name, config)})",
        )

    run.__doc__ = (
        f"{name}: one step from a random state (next_w and the state in config; w and dw "
        "left as they were), and a first step from config None (the starter's defaults)."
    )
    return check(points=1, name=name + "_step")(run)


# -- trajectories -----------------------------------------------------------------------


def quadratic(rng: np.random.Generator) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]:
    """f(w) = 1/2 w^T A w - b^T w with A's eigenvalues in [0.5, 2]; returns a start and grad f.

    One coordinate of the start, at random, is within 1e-9..1e-7 of where its gradient
    vanishes: its first step divides a tiny gradient by the root of a tiny cache, where
    the starter's sqrt(cache) + epsilon and a sqrt(cache + epsilon) part ways.
    """
    q, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    a = q @ np.diag(rng.uniform(0.5, 2.0, size=4)) @ q.T
    b = rng.normal(size=4)
    w0 = f32(rng.normal(0.0, 2.0, size=4))
    k = int(rng.integers(4))
    b[k] = (a @ w0)[k] - rng.choice([-1.0, 1.0]) * rng.uniform(*TINY)

    def grad(w: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):  # a diverging submission's weights overflow here
            return a @ w - b

    return w0, grad


def rosenbrock(rng: np.random.Generator) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]:
    """f(x, y) = (1 - x)^2 + 100 (y - x^2)^2 from near the classic start (-1.2, 1)."""

    def grad(w: np.ndarray) -> np.ndarray:
        x, y = w
        with np.errstate(all="ignore"):  # a diverging submission's weights overflow here
            return np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])

    return f32(np.array([-1.2, 1.0]) + rng.uniform(-0.1, 0.1, size=2)), grad


LEARNING_RATES = {  # (quadratic, rosenbrock): stable rates for 15 steps of each method
    "sgd": (0.1, 1e-3),
    "sgd_momentum": (0.05, 5e-4),
    "nesterov": (0.05, 5e-4),
    "adagrad": (0.3, 0.05),
    "rmsprop": (0.01, 1e-3),
    "adam": (0.05, 0.01),
}
STEPS = 15


def path(
    update: Callable[..., Any],
    w0: np.ndarray,
    grad: Callable[[np.ndarray], np.ndarray],
    config: dict[str, Any],
    rates: list[float],
    name: str,
) -> np.ndarray:
    """The weights after each step, the gradient taken at the optimiser's own weights."""
    w, points = w0, []
    for lr in rates:
        config = {**config, "learning_rate": lr}
        next_w, config = result(update(w, grad(np.asarray(w, dtype=np.float64)), config), name)
        arr = np.asarray(next_w)
        if arr.shape != w0.shape or arr.dtype.kind not in "iuf":
            raise CheckFailed(f"{name}: next_w has shape {arr.shape}, expected {w0.shape}")
        points.append(arr)
        w = next_w
    return np.stack(points)


def compare_path(student: Any, name: str, problem: str, w0, grad, config, rates) -> Verdict:
    got = path(lambda *a: student.call(name, *a), w0, grad, dict(config), rates, name)
    expected = path(getattr(ref_optim, name), w0, grad, dict(config), rates, name)
    # Row k of the path is the weights after step k + 1.
    return compare(
        got, expected, rtol=PATH_RTOL, atol=PATH_ATOL, name=f"{name} on {problem}: path[step - 1]"
    )


def _trajectory_check(name: str) -> Any:
    def run(student: Any, rng: np.random.Generator) -> Verdict:
        verdicts = []
        for problem, make, lr in zip(
            ("a quadratic", "Rosenbrock"),
            (quadratic, rosenbrock),
            LEARNING_RATES[name],
            strict=True,
        ):
            w0, grad = make(rng)
            config = hyperparameters(name, rng)
            verdicts.append(compare_path(student, name, problem, w0, grad, config, [lr] * STEPS))
        return all_of(*verdicts)

    run.__doc__ = f"{name}: {STEPS} steps on a quadratic and on Rosenbrock, from no state."
    return check(points=1, hidden=True, name=name + "_trajectories")(run)


for _name in STATE:
    globals()[f"check_{_name}_step"] = _step_check(_name)
    globals()[f"check_{_name}_trajectories"] = _trajectory_check(_name)


@check(points=1)
def momentum_changing_lr(student, rng):
    """Momentum and Nesterov with a learning rate that halves every 4 steps: the notes' form
    (lr inside the velocity) follows another path than torch's (lr outside)."""
    verdicts = []
    for name in ("sgd_momentum", "nesterov"):
        w0, grad = quadratic(rng)
        lr0 = f32(rng.uniform(0.05, 0.2))
        rates = [ref_sched.step_decay(lr0, k, 4, 0.5) for k in range(STEPS)]
        config = hyperparameters(name, rng)
        verdicts.append(
            compare_path(
                student, name, "a quadratic, lr halving every 4 steps", w0, grad, config, rates
            )
        )
    return all_of(*verdicts)


# -- schedules --------------------------------------------------------------------------

SCHEDULE_STEPS = 31


def schedule_args(name: str, rng: np.random.Generator) -> tuple[Any, ...]:
    if name == "step_decay":
        return int(rng.integers(2, 8)), f32(rng.uniform(0.3, 0.9))
    if name == "multistep_decay":
        return sorted(int(m) for m in rng.choice(np.arange(1, 30), 3, replace=False)), f32(
            rng.uniform(0.3, 0.9)
        )
    if name == "exponential_decay":
        return (f32(rng.uniform(0.8, 0.99)),)
    if name in ("inverse_time_decay", "natural_exp_decay"):
        return (f32(rng.uniform(0.01, 0.5)),)
    if name == "cosine_decay":
        return (int(rng.integers(10, 25)),)
    return (int(rng.integers(3, 10)),)  # linear_warmup


def as_number(value: Any, what: str) -> float:
    arr = np.asarray(value) if isinstance(value, np.ndarray | int | float) else None
    if arr is None or arr.size != 1 or arr.dtype.kind not in "iuf":
        raise CheckFailed(f"{what} must return a number; got {type(value).__name__}")
    return arr


def _schedule_check(name: str) -> Any:
    def run(student: Any, rng: np.random.Generator) -> Verdict:
        lr0 = f32(rng.uniform(0.01, 1.0))
        args = schedule_args(name, rng)
        shown = ", ".join(str(a) if not isinstance(a, float) else f"{a:.6g}" for a in args)
        what = f"{name}(lr0={lr0:.6g}, step, {shown}) at step = index"
        got = [as_number(student.call(name, lr0, k, *args), what) for k in range(SCHEDULE_STEPS)]
        dtype = np.result_type(*got)
        values = np.array(
            [np.asarray(g).reshape(()) for g in got],
            dtype=dtype if dtype.kind == "f" else np.float64,
        )
        expected = [getattr(ref_sched, name)(lr0, k, *args) for k in range(SCHEDULE_STEPS)]
        return compare(values, expected, rtol=RTOL, atol=ATOL, name=what)

    run.__doc__ = f"{name}: the learning rate at steps 0..{SCHEDULE_STEPS - 1}."
    return check(points=0.5, name=name)(run)


for _name in (
    "step_decay",
    "multistep_decay",
    "exponential_decay",
    "inverse_time_decay",
    "natural_exp_decay",
    "cosine_decay",
    "linear_warmup",
):
    globals()["check_" + _name] = _schedule_check(_name)


# -- initialisation ---------------------------------------------------------------------


def within(stat: float, expected: float, stderr: float, what: str) -> Verdict:
    ok = abs(stat - expected) <= Z * stderr
    return Verdict(
        ok,
        f"{what}: {stat:.6g}, expected {expected:.6g} +- {Z * stderr:.3g} ({Z:g} standard errors)",
    )


def _init_check(name: str) -> Any:
    uniform = name.endswith("uniform")

    def run(student: Any, rng: np.random.Generator) -> Verdict:
        fan_in = int(rng.integers(150, 300))
        fan_out = fan_in + int(rng.integers(100, 200))
        seed = int(rng.integers(2**31))
        w = np.asarray(student.call(name, fan_in, fan_out, seed))
        if w.shape != (fan_in, fan_out) or w.dtype.kind != "f":
            raise CheckFailed(
                f"{name}({fan_in}, {fan_out}, seed): shape {w.shape} dtype {w.dtype}, "
                f"expected ({fan_in}, {fan_out}) floats"
            )
        w = w.astype(np.float64)
        if not np.isfinite(w).all():
            raise CheckFailed(f"{name}: the weights contain NaN or inf")
        n = w.size
        # The spreads reference.init documents: Xavier 2 / (fan_in + fan_out), He 2 / fan_in.
        std = (
            math.sqrt(2.0 / (fan_in + fan_out))
            if name.startswith("xavier")
            else math.sqrt(2.0 / fan_in)
        )
        kurt = 9.0 / 5.0 if uniform else 3.0  # E[w^4] / std^4
        what = f"{name}({fan_in}, {fan_out})"
        var = float(np.mean(w * w))
        verdicts = [
            within(float(np.mean(w)), 0.0, std / math.sqrt(n), f"{what}: mean"),
            within(
                var / std**2, 1.0, math.sqrt((kurt - 1.0) / n), f"{what}: variance / {std:.4g}^2"
            ),
        ]
        if uniform:
            bound = math.sqrt(3.0) * std
            top = float(np.max(np.abs(w)))
            # P(max |w| < bound (1 - 20/n)) = (1 - 20/n)^n < e^-20 for a correct draw.
            ok = bound * (1 - 20.0 / n) <= top <= bound * (1 + 1e-6)
            verdicts.append(
                Verdict(
                    ok, f"{what}: max |w| = {top:.6g}, expected just below the bound {bound:.6g}"
                )
            )
        else:
            excess = float(np.mean(w**4) / var**2 - 3.0)
            verdicts.append(
                within(
                    excess, 0.0, math.sqrt(24.0 / n), f"{what}: excess kurtosis (0 for a normal)"
                )
            )
        return all_of(*verdicts)

    run.__doc__ = (
        f"{name}: mean, variance and shape of one draw, each within {Z:g} standard errors "
        "(a correct initialiser fails with probability below 1e-8)."
    )
    return check(points=1, name=name)(run)


for _name in ("xavier_normal", "xavier_uniform", "he_normal", "he_uniform"):
    globals()["check_" + _name] = _init_check(_name)
