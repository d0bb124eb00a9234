"""The public API for assignment authors: declare checks, call the student's code, judge it.

A check is a plain function in an assignment's ``checks.py``::

    @check(points=2)
    def relu_forward(student, rng):
        x = rng.standard_normal((8, 5))
        return compare(student.relu(x), activations.relu(x), rtol=1e-7, atol=1e-9)

``student`` is a proxy: ``student.relu(x)`` sends ``x`` (a copy, as plain data)
to the sandbox and returns the plain data that came back. The check runs in
the trusted process and computes its expected values there. It returns a
``Verdict`` (or several), or raises ``CheckFailed``; a student's exception,
time-out or crash inside a call ends the check with that diagnosis.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grader.messages import CheckStatus
from grader.replies import Watched
from grader.session import RunnerSession, StudentError
from grader.tolerance import DEFAULT_ATOL, DEFAULT_RTOL

__all__ = [
    "CheckFailed",
    "CheckSpec",
    "Expected",
    "Student",
    "StudentError",
    "Verdict",
    "Watched",
    "accuracy",
    "all_of",
    "check",
    "compare",
    "computed_in_float32",
    "default_tolerances",
    "grad_check",
    "own_forward_grad_check",
    "own_forward_slopes",
    "reference_at",
    "unchanged",
]


class CheckFailed(Exception):
    """Raise inside a check to fail it with a message for the student."""


@dataclass(frozen=True)
class Verdict:
    passed: bool
    message: str = ""
    fraction: float | None = None  # partial credit in [0, 1]; default all or nothing
    # A training check's graded runs as plain data (their epochs' loss and accuracy, the
    # final network's confusion): grader/training.py writes it, the portal draws it.
    training: dict[str, Any] | None = None

    @property
    def credit(self) -> float:
        if self.fraction is not None:
            return float(min(1.0, max(0.0, self.fraction)))
        return 1.0 if self.passed else 0.0


@dataclass(frozen=True)
class CheckSpec:
    name: str
    points: float
    fn: Callable[..., Any]
    hidden: bool = False
    timeout: float | None = None
    description: str = ""
    wants_ctx: bool = field(default=False)


def check(
    points: float, *, hidden: bool = False, timeout: float | None = None, name: str | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a function of checks.py as a graded check worth ``points``.

    ``timeout`` (seconds) overrides the manifest's per-call limit for the calls
    this check makes. Hidden checks show only their points until release.
    """

    def mark(fn: Callable[..., Any]) -> Callable[..., Any]:
        params = inspect.signature(fn).parameters
        fn.__dlgrade_check__ = CheckSpec(  # type: ignore[attr-defined]
            name=name or fn.__name__,
            points=float(points),
            fn=fn,
            hidden=hidden,
            timeout=timeout,
            description=inspect.getdoc(fn) or "",
            wants_ctx=len(params) >= 3 or "ctx" in params,
        )
        return fn

    return mark


# -- the proxy ---------------------------------------------------------------------


class Student:
    """What a check sees of the submission: remote functions, classes and objects."""

    def __init__(self, session: RunnerSession, call_seconds: float) -> None:
        self._session = session
        self._seconds = call_seconds

    def _request(self, request: dict, seconds: float | None = None) -> Any:
        return self._session.request(request, seconds or self._seconds)

    def call(self, name: str, *args: Any, timeout: float | None = None, **kwargs: Any) -> Any:
        return self._request(
            {"op": "call", "name": name, "args": list(args), "kwargs": kwargs},
            timeout,
        )

    def call_watched(
        self, name: str, *args: Any, timeout: float | None = None, **kwargs: Any
    ) -> Watched:
        """``call``, and which arguments the student's function changed in place.

        Arguments reach the sandbox as copies, so an in-place edit never shows on
        this side; the runner compares each argument with a copy taken before the
        call and names those that changed (``Watched.changed``: "0", "1", ... by
        position, keywords by name). Judge them with ``unchanged``.
        """
        return self._request(
            {"op": "watched", "name": name, "args": list(args), "kwargs": kwargs},
            timeout,
        )

    def new(
        self, name: str, *args: Any, timeout: float | None = None, **kwargs: Any
    ) -> RemoteObject:
        """Instantiate the student's class ``name``; the object lives in the sandbox."""
        handle = self._request(
            {"op": "new", "name": name, "args": list(args), "kwargs": kwargs}, timeout
        )
        return RemoteObject(self, _handle(handle), name)

    def trained(self, timeout: float | None = None) -> RemoteObject:
        """The network a script (or a module that trains at import) left in a global."""
        result = self._session.ensure_loaded()
        if not isinstance(result, dict) or result.get("handle") is None:
            raise CheckFailed(
                "your script finished without leaving a network object (an object with a "
                "forward() method) in a global variable"
            )
        return RemoteObject(self, _handle(result["handle"]), str(result.get("global")))

    def get(self, name: str, timeout: float | None = None) -> Any:
        """A module-level value of the submission, e.g. a constant (plain data only)."""
        return self._request({"op": "get", "name": name}, timeout)

    def names(self) -> list[str]:
        result = self._session.ensure_loaded()
        names = result.get("names", []) if isinstance(result, dict) else []
        return [str(n) for n in names] if isinstance(names, list) else []

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self.call(name, *args, **kwargs)


def _handle(value: Any) -> int:
    """An object handle from the sandbox: an int, or the reply was broken (or forged)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise StudentError(
        CheckStatus.CRASH,
        f"the submission's process sent a malformed object handle ({type(value).__name__})",
    )


class RemoteObject:
    def __init__(self, student: Student, handle: int, label: str) -> None:
        self._student = student
        self._handle = handle
        self._label = label

    def call(self, method: str, *args: Any, timeout: float | None = None, **kwargs: Any) -> Any:
        return self._student._request(
            {
                "op": "call",
                "handle": self._handle,
                "name": method,
                "args": list(args),
                "kwargs": kwargs,
            },
            timeout,
        )

    @property
    def label(self) -> str:
        """What the object is: the class it was made from, or the global it was found in."""
        return self._label

    def get(self, attribute: str) -> Any:
        """Read an attribute's value (plain data only)."""
        return self._student._request({"op": "get", "handle": self._handle, "name": attribute})

    def set(self, attribute: str, value: Any) -> None:
        """Set an attribute (e.g. a weight matrix) to a copy of ``value``."""
        self._student._request(
            {"op": "set", "handle": self._handle, "name": attribute, "value": value}
        )

    def arrays(self) -> dict[str, np.ndarray]:
        """The object's float array attributes by name: its parameters, usually."""
        return self._student._request({"op": "arrays", "handle": self._handle})

    def train_epoch(
        self,
        x: str,
        y: str,
        *,
        batch_size: int = 64,
        seed: int = 0,
        one_hot: int | None = None,
        method: str = "step",
        order: np.ndarray | None = None,
        timeout: float | None = None,
    ) -> int:
        """One epoch of ``method(x_batch, y_batch)`` over public data files in the sandbox.

        x, y: paths of .npy files under the sandbox's data/ folder. Returns the
        number of examples seen. Shuffling is seeded, so runs are reproducible;
        ``order`` (a permutation of the example indices, chosen on the trusted
        side) replaces the seeded shuffle where a check must know the batches.
        """
        return self._student._request(
            {
                "op": "epoch",
                "handle": self._handle,
                "method": method,
                "x": x,
                "y": y,
                "batch_size": batch_size,
                "seed": seed,
                "one_hot": one_hot,
                "order": order,
            },
            timeout,
        )

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self.call(name, *args, **kwargs)


# -- judging -------------------------------------------------------------------------

_tolerances: ContextVar[tuple[float, float]] = ContextVar(
    "dlgrade_tolerances", default=(DEFAULT_RTOL, DEFAULT_ATOL)
)


@contextmanager
def default_tolerances(rtol: float, atol: float) -> Iterator[None]:
    """compare()'s ``rtol``/``atol`` where a check passes none, while the block runs.

    The engine runs every check inside this with the manifest's ``[tolerances]``
    (the check context's ``ctx.tolerances``), so an assignment states its
    tolerances once; a check that passes its own keeps them.
    """
    token = _tolerances.set((float(rtol), float(atol)))
    try:
        yield
    finally:
        _tolerances.reset(token)


# A float32 answer is held to this many float32 epsilons (2**-23 each): see compare().
FLOAT32_EPSILONS = 100.0
FLOAT32_EPS = float(np.finfo(np.float32).eps)


def is_float32_answer(arr: np.ndarray) -> bool:
    """Whether ``arr`` holds values computed in float32.

    A float32 array, or a float64 one (a float32 result converted at the end, or a
    list of Python floats made from one) whose every finite value is a float32
    number, at least one of them neither an integer nor a float16 number. A
    float64 computation lands on float32 numbers by chance with probability about
    2**-29 per value; short values (0, 1, 0.25, 1.5: integers and float16 numbers)
    are exact in either precision and say nothing about the one used.
    """
    if arr.dtype == np.float32:
        return True
    if arr.dtype != np.float64:
        return False
    finite = arr[np.isfinite(arr)]
    with np.errstate(over="ignore", under="ignore"):
        single = finite.astype(np.float32).astype(np.float64) == finite
        short = (finite.astype(np.float16).astype(np.float64) == finite) | (
            finite == np.round(finite)
        )
    return bool(single.all() and not short.all())


def float32_tolerances(rtol: float, atol: float, expected: np.ndarray) -> tuple[float, float]:
    """(rtol, atol) for a float32 answer: widened to float32's resolution, never narrowed.

    rtol' = max(rtol, 100 eps32); atol' = max(atol, 100 eps32 * s), where s is the
    largest finite |expected| (at least 1). Why: float32 rounds every input to
    6e-8 of its size before any arithmetic, and a function's conditioning and
    cancellations (1 + tanh(u) near -1 in GELU, x - max(x) in a softmax of values
    near 1000) carry that error into values much smaller than the inputs, as an
    absolute error on the data's scale. Measured on a correct float32 activations
    homework (assignments/activations/examples/float32_throughout.py, 300 draws of
    every check's inputs), the worst error is 9 epsilons of (|expected| + s) for
    gelu_grad and 35 for a softmax of values near 1000 (whose float32 inputs are
    already 3e-5 off): 100 leaves a margin of about 3, and an error of 1e-3
    relative (8,000 epsilons) still fails wherever values are near the data's scale.
    """
    eps = FLOAT32_EPS * FLOAT32_EPSILONS
    scale = float(np.max(np.abs(expected[np.isfinite(expected)]), initial=1.0))
    return max(rtol, eps), max(atol, eps * scale)


@dataclass(frozen=True)
class Expected:
    """A reference's value at a check's inputs, and at those inputs rounded to float32.

    A homework may round its inputs to float32 first (``x.astype(np.float32)``) and
    compute from there, in float32 or in float64: a correct answer for the numbers it
    was given at float32's resolution. Its distance from the reference at the exact
    inputs is then the function's conditioning times float32's rounding (1e-7 relative
    for GELU, 3e-5 for a softmax of values near 1000), which no float64 tolerance
    admits and a float64 answer carries no trace of. ``compare`` judges such an answer
    against ``at_float32_inputs`` too, at the same tolerances. None: rounding the
    inputs to float32 changes none of them.
    """

    value: Any
    at_float32_inputs: Any = None


def _rounded_to_float32(value: Any) -> Any:
    """Float arrays rounded to float32 and held at their own dtype; the rest as it is.

    Numbers stay: a homework rounds its data (``x.astype(np.float32)``), while a
    hyperparameter such as swish's beta reaches its arithmetic as the float it is.
    """
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        with np.errstate(over="ignore"):
            return value.astype(np.float32).astype(value.dtype)
    if isinstance(value, list | tuple):
        return type(value)(_rounded_to_float32(v) for v in value)
    if isinstance(value, dict):
        return {k: _rounded_to_float32(v) for k, v in value.items()}
    return value


def _same_inputs(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray):
        return bool(np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))
    if isinstance(a, list | tuple):
        return all(_same_inputs(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return all(_same_inputs(a[k], b[k]) for k in a)
    return a is b or a == b or (isinstance(a, float) and a != a and b != b)


def reference_at(reference: Callable[..., Any], *args: Any, **kwargs: Any) -> Expected:
    """``reference(*args, **kwargs)``, and its value at the float arrays rounded to float32.

    Arrays in lists, tuples and dicts are rounded too; numbers (hyperparameters),
    integer arrays (labels), strings and the rest are passed as they are. Hand the
    result to ``compare`` as ``expected``.
    """
    value = reference(*args, **kwargs)
    rounded_args = _rounded_to_float32(list(args))
    rounded_kwargs = _rounded_to_float32(kwargs)
    if _same_inputs(list(args), rounded_args) and _same_inputs(kwargs, rounded_kwargs):
        return Expected(value)
    with np.errstate(all="ignore"):
        return Expected(value, reference(*rounded_args, **rounded_kwargs))


def _as_numeric(value: Any, name: str) -> np.ndarray:
    if value is None:
        raise CheckFailed(f"{name}: your code returned None (is a `return` missing?)")
    if isinstance(value, np.ndarray):
        arr = value
    elif isinstance(value, bool | int | float) or (
        isinstance(value, list | tuple) and _all_numbers(value)
    ):
        try:
            arr = np.asarray(value)
        except (ValueError, OverflowError):
            # Ragged nested lists: the student's mistake, never the grader's error.
            raise CheckFailed(
                f"{name}: the nested lists returned are ragged (rows of different lengths)"
            ) from None
    else:
        raise CheckFailed(f"{name}: expected a NumPy array, got {type(value).__name__}")
    if arr.dtype.kind not in "biuf":
        raise CheckFailed(f"{name}: expected numbers, got an array of dtype {arr.dtype}")
    return arr


def _all_numbers(seq: Iterable[Any]) -> bool:
    return all(
        isinstance(v, bool | int | float) or (isinstance(v, list | tuple) and _all_numbers(v))
        for v in seq
    )


# What a non-finite answer usually means, said where one is found.
_NON_FINITE = "NaN comes from inf - inf, 0 * inf or inf / inf, often after exp() overflowed"


def _number(value: float) -> str:
    """A value as a message shows it: NaN and infinities named as such."""
    value = float(value)
    if np.isnan(value):
        return "NaN"
    if np.isinf(value):
        return "+inf" if value > 0 else "-inf"
    return f"{value:.10g}"


def _fmt_index(idx: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(i) for i in idx) + "]"


def compare(
    got: Any,
    expected: Any,
    *,
    rtol: float | None = None,
    atol: float | None = None,
    name: str = "output",
    check_shape: bool = True,
    computed_from: Any = None,
) -> Verdict:
    """Elementwise ``|got - expected| <= atol + rtol * |expected|``, with a diagnosis.

    The message locates the error: shape or dtype mismatch, the first NaN/inf,
    or the worst element's index with expected vs got, and the max abs/rel
    error.

    Precision: an answer is judged at the resolution of the precision it was
    computed in, against the float64 reference either way. A float64 answer is
    held to ``rtol``/``atol``: as given, else the manifest's ``[tolerances]``
    (``default_tolerances``; 1e-7 and 1e-9 when it has none). A float32 answer
    (``is_float32_answer``: a float32 array, or float64 values that are all
    float32 numbers, i.e. a float32 computation converted at the end) is held to
    ``float32_tolerances``: at least 100 float32 epsilons (1.19e-5), relative
    and on the data's scale, because float32 arithmetic cannot meet float64
    tolerances and is not wrong. float16 is refused: 1e-3 of resolution cannot
    tell a right answer from a wrong one. ``computed_from``: the student's answer
    that ``got`` was derived from on the trusted side (row sums of a softmax, say,
    summed in float64): ``got`` is judged at that answer's precision.
    """
    if isinstance(expected, Expected):
        verdict = compare(
            got,
            expected.value,
            rtol=rtol,
            atol=atol,
            name=name,
            check_shape=check_shape,
            computed_from=computed_from,
        )
        if verdict.passed or expected.at_float32_inputs is None:
            return verdict
        rounded = compare(
            got,
            expected.at_float32_inputs,
            rtol=rtol,
            atol=atol,
            name=name,
            check_shape=check_shape,
            computed_from=computed_from,
        )
        if rounded.passed:
            return Verdict(
                True, rounded.message + " of the reference at the inputs rounded to float32"
            )
        return verdict
    default_rtol, default_atol = _tolerances.get()
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    exp = np.asarray(expected, dtype=np.float64)
    arr = _as_numeric(got, name)
    if arr.dtype == np.float16:
        return Verdict(False, f"{name}: float16 results are too imprecise to grade; use float64")
    if check_shape and arr.shape != exp.shape:
        return Verdict(False, f"{name}: shape {arr.shape}, expected {exp.shape}")
    try:
        a = np.broadcast_to(arr.astype(np.float64), exp.shape)
    except ValueError:
        return Verdict(False, f"{name}: shape {arr.shape}, expected {exp.shape}")
    if is_float32_answer(arr):
        as_float32 = (
            " for a float32 answer"
            if arr.dtype == np.float32
            else " for float64 values that are all float32 numbers (a float32 result converted)"
        )
    elif computed_from is not None and is_float32_answer(_as_numeric(computed_from, name)):
        as_float32 = " for values derived from a float32 answer"
    else:
        as_float32 = ""
    if as_float32:
        rtol, atol = float32_tolerances(rtol, atol, exp)
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(a - exp)
    if np.isfinite(diff).all() and np.isfinite(exp).all():
        # Every value and difference finite, as nearly always: what follows, without the
        # NaN and inf bookkeeping that changes nothing then (a third of compare's time).
        excess = diff - (atol + rtol * np.abs(exp))
        return _judged(name, a, exp, diff, excess, rtol, atol, as_float32)
    bad_nan = ~np.isfinite(a) & np.isfinite(exp)
    if bad_nan.any():
        idx = tuple(int(i) for i in np.argwhere(bad_nan)[0])
        count = int(bad_nan.sum())
        nans = int((bad_nan & np.isnan(a)).sum())
        return Verdict(
            False,
            f"{name}: {count} non-finite value(s); first at index {_fmt_index(idx)}: "
            f"got {_number(a[idx])}, expected {_number(exp[idx])} "
            f"({nans} NaN, {count - nans} inf, where every expected value is finite; "
            + _NON_FINITE
            + ")",
        )
    same_inf = np.isinf(exp) & (a == exp)
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.where(same_inf | (np.isnan(exp) & np.isnan(a)), 0.0, np.abs(a - exp))
        diff = np.nan_to_num(diff, nan=np.inf)
        allowed = atol + rtol * np.abs(np.nan_to_num(exp, posinf=0.0, neginf=0.0))
        excess = diff - allowed
    return _judged(name, a, exp, diff, excess, rtol, atol, as_float32)


def _judged(
    name: str,
    a: np.ndarray,
    exp: np.ndarray,
    diff: np.ndarray,
    excess: np.ndarray,
    rtol: float,
    atol: float,
    as_float32: str,
) -> Verdict:
    """compare()'s verdict from each value's error and its excess over the tolerance."""
    if a.size == 0 or not (excess > 0).any():
        return Verdict(True, f"{name}: all {a.size} values within rtol={rtol:g}, atol={atol:g}")
    worst = np.unravel_index(int(np.argmax(excess)), a.shape)
    nonzero = np.abs(exp) > 0
    # Relative error means nothing where the expected value is 0: leave those out of it,
    # and say so where a value expected to be 0 is wrong (a "max rel error 0" there would
    # read as if every value were right).
    if not nonzero.any():
        rel = "max rel error n/a: every expected value is 0"
    else:
        rel = f"max rel error {float(np.max(diff[nonzero] / np.abs(exp[nonzero]))):.3g}"
        if ((excess > 0) & ~nonzero).any():
            rel += " where the expected value is not 0"
    count = int((excess > 0).sum())
    return Verdict(
        False,
        f"{name}: {count} of {a.size} values differ; worst at index {_fmt_index(worst)}: "
        f"got {_number(a[worst])}, expected {_number(exp[worst])} "
        f"(max abs error {float(np.max(diff)):.3g}, {rel}; "
        f"rtol={rtol:g}, atol={atol:g}{as_float32})",
    )


def grad_check(
    got: Any,
    f: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    dout: np.ndarray,
    *,
    name: str = "gradient",
    rtol: float = 1e-5,
    atol: float = 1e-7,
    h: float = 1e-5,
    elementwise: bool = False,
) -> Verdict:
    """Compare a student's gradient with centred differences of the trusted ``f`` at ``x``.

    f: the reference forward (array -> array shaped like dout); the expected
    gradient is the vector-Jacobian product ``d sum(f(x) * dout) / dx``.
    elementwise: f maps each element on its own (an activation), so every element's
    centred difference is taken in one pair of calls: the same numbers as one
    element at a time (the others' terms cancel exactly there), in 2 calls, not 2N.
    """
    from reference.gradcheck import (
        eval_numerical_gradient_array,
        eval_numerical_gradient_elementwise,
    )

    x = np.array(x, dtype=np.float64)
    if elementwise:
        numeric = eval_numerical_gradient_elementwise(f, x, dout, h=h)
    else:
        numeric = eval_numerical_gradient_array(f, x, dout, h=h)
    verdict = compare(got, numeric, rtol=rtol, atol=atol, name=name)
    if verdict.passed:
        return Verdict(True, f"{name}: agrees with the numerical gradient")
    return Verdict(False, verdict.message + " (expected: the numerical gradient)")


# Steps of the finite differences of a student's own forward: powers of two, so that
# x +- h is exact in float32 too (the student's forward sees the numbers we meant).
OWN_STEP_FLOAT64, OWN_STEP_FLOAT32 = 2.0**-20, 2.0**-8


def computed_in_float32(*values: Any) -> bool:
    """Whether answers (arrays or numbers of any shapes) were computed in float32.

    True when any is a float32 array, or when the finite values of all of them
    together (integers included, as float64) are float32 numbers, not all of
    them short: a float32 result converted at the end. Integers and float16
    numbers are exact in either precision and tell nothing. Unlike
    ``is_float32_answer`` it judges several answers at once (a forward's value
    and the gradient from the same code), so one short answer does not decide.
    """
    arrays = [np.asarray(v) for v in values]
    if any(a.dtype == np.float32 for a in arrays):
        return True
    numbers = [a.astype(np.float64).ravel() for a in arrays if a.dtype.kind in "iuf"]
    flat = np.concatenate(numbers) if numbers else np.zeros(0)
    flat = flat[np.isfinite(flat)]
    with np.errstate(over="ignore", under="ignore"):
        single = flat.astype(np.float32).astype(np.float64) == flat
        short = (flat.astype(np.float16).astype(np.float64) == flat) | (flat == np.round(flat))
    return bool(flat.size and single.all() and not short.all())


def own_forward_slopes(
    value_at: Callable[[np.ndarray], Any],
    x: np.ndarray,
    dout: np.ndarray | None,
    h: float,
    *,
    forward: str = "forward",
) -> tuple[np.ndarray, float]:
    """Centred differences of ``sum(value_at(x) * dout)`` in x, and the scale of the values.

    value_at: the student's forward as a function of x alone (x float64, shape S)
    returning an array shaped like ``dout`` (shape D), or a single number when
    ``dout`` is None. Returns ``(numeric, scale)``: numeric has shape S, with
    ``numeric[i] = (sum(value_at(x + h e_i) * dout) - sum(value_at(x - h e_i) * dout)) / 2h``;
    scale is the largest |value_at(x + h e_i) * dout| over every i and entry (at
    least 1), the size against which an absolute tolerance is set. Raises CheckFailed naming
    ``forward`` when value_at returns a shape other than D.
    """
    x = np.array(x, dtype=np.float64)
    numeric = np.zeros_like(x)
    scale = 1.0
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        up = np.asarray(value_at(x), dtype=np.float64)
        x[idx] = old - h
        down = np.asarray(value_at(x), dtype=np.float64)
        x[idx] = old
        if up.shape != np.shape(dout if dout is not None else up):
            raise CheckFailed(
                f"your {forward} returned shape {up.shape}, expected {np.shape(dout)}"
            )
        w = 1.0 if dout is None else dout
        numeric[idx] = np.sum((up - down) * w) / (2 * h)
        scale = max(scale, float(np.max(np.abs(up * w), initial=0.0)))
    return numeric, scale


def own_forward_grad_check(
    got: Any,
    value_at: Callable[[np.ndarray], Any],
    x: np.ndarray,
    dout: np.ndarray | None,
    *,
    name: str,
    forward: str,
) -> Verdict:
    """A student's gradient ``got`` (shape of x) against slopes of the student's OWN forward.

    Where ``grad_check`` differentiates the trusted reference, this differentiates
    ``value_at`` (the student's forward through the sandbox, shapes as in
    ``own_forward_slopes``), so a report says whether the forward or the backward
    is wrong. The step and tolerances follow the precision of the answers (the
    forward at x and ``got``, ``computed_in_float32``): a float32 forward cannot
    resolve a 1e-6 step, even handed back as float64, so float32 answers get
    h = 2**-8, rtol 1e-2, atol 1e-3 * scale; float64 ones h = 2**-20, rtol 1e-5,
    atol 1e-8 * scale. ``name`` labels the comparison; a failure adds
    "(expected: finite differences of your <forward>)".
    """
    single = computed_in_float32(got, value_at(np.array(x, dtype=np.float64)))
    h = OWN_STEP_FLOAT32 if single else OWN_STEP_FLOAT64
    numeric, scale = own_forward_slopes(value_at, x, dout, h, forward=forward)
    rtol, atol = (1e-2, 1e-3 * scale) if single else (1e-5, 1e-8 * scale)
    verdict = compare(got, numeric, rtol=rtol, atol=atol, name=name)
    if verdict.passed:
        return verdict
    return Verdict(False, verdict.message + f" (expected: finite differences of your {forward})")


def accuracy(
    predictions: Any, labels: np.ndarray, threshold: float, *, name: str = "test"
) -> Verdict:
    """Accuracy of class predictions (N,) or scores (N, C) against labels the sandbox never saw."""
    labels = np.asarray(labels)
    pred = _as_numeric(predictions, "predictions")
    if pred.ndim == 2 and pred.shape[0] == labels.shape[0]:
        pred = np.argmax(pred, axis=1)
    if pred.shape != labels.shape:
        return Verdict(
            False,
            f"predictions: shape {pred.shape}, expected {labels.shape} "
            f"(one class per image, or one row of scores per image)",
        )
    if pred.dtype.kind == "f" and not np.isfinite(pred).all():
        return Verdict(False, "predictions contain NaN or inf")
    correct = int(np.sum(pred.astype(np.int64) == labels.astype(np.int64)))
    acc = correct / max(1, labels.shape[0])
    verdict = "meets" if acc >= threshold else "is below"
    return Verdict(
        acc >= threshold,
        f"{name} accuracy {acc:.2%} ({correct}/{labels.shape[0]}) {verdict} the "
        f"{threshold:.0%} threshold",
    )


def unchanged(watched: Watched, inputs: dict[int | str, str], *, call: str) -> Verdict:
    """Passes when the watched ``call`` left every argument in ``inputs`` as it was.

    inputs: argument position (or keyword) -> the name the starter gives it, e.g.
    ``{0: "w", 1: "dw"}``. Arguments not named (a config dict the contract lets the
    function fill in) may change.
    """
    names = {str(k): v for k, v in inputs.items()}
    changed = [names[k] for k in watched.changed if k in names]
    if not changed:
        return Verdict(True, f"{call}: leaves {', '.join(names.values())} unchanged")
    return Verdict(
        False,
        f"{call}: modified its input {' and '.join(changed)} in place; return a new "
        f"array (or dict) and leave the inputs as they were: the caller still holds them",
    )


def all_of(*verdicts: Verdict) -> Verdict:
    """Passes when every verdict passes; the message lists the failures (or all, on success)."""
    failed = [v for v in verdicts if not v.passed]
    shown = failed or list(verdicts)
    return Verdict(not failed, "\n".join(v.message for v in shown if v.message))
