"""Checks for the activations homework.

Every check draws its inputs from ``rng`` (seeded per check), calls the
student's function in the sandbox, and compares with reference.activations
computed here, on the trusted side. Inputs for the ordinary checks stay away
from kinks (|x| >= 0.1); the kinks have a check of their own.

Expected values come from ``reference_at``: a homework that rounds its inputs to
float32 before computing (in either precision) is judged against the reference
at those rounded inputs too, since it answered the numbers it worked with.

Hidden checks get an rng seeded from a secret per submission: their inputs are
random draws, never constants, so inputs one submission prints say nothing
about the next one's. Stability is judged by values alone: the inputs reach
where naive forms return NaN or inf (exp(x) overflows for x > 709.78), and a
form whose values are right there is right, whatever it did on the way.
"""

import numpy as np

from grader.checks import CheckFailed, all_of, check, compare, grad_check, reference_at
from reference import activations as ref

RTOL, ATOL = 1e-7, 1e-9

# name -> extra positional parameters to try besides the defaults
PARAMS: dict[str, list[tuple[float, ...]]] = {
    "leaky_relu": [(0.2,)],
    "elu": [(0.5,)],
    "swish": [(1.7,)],
}
NAMES = [
    "identity", "binary_step", "sigmoid", "tanh", "arctan", "relu", "leaky_relu",
    "elu", "selu", "swish", "gelu", "softplus", "softsign",
]  # fmt: skip
# Magnitude bands of the large-input checks: moderate (where approximations show), large,
# and past the float64 range of exp (exp(710) = inf), where a naive form's value breaks.
LARGE_BANDS = ((0.5, 5.0), (5.0, 700.0), (710.0, 1000.0))


def away_from_kinks(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    x = rng.uniform(-4.0, 4.0, size=shape)
    small = np.abs(x) < 0.1
    x[small] = np.sign(x[small] + 1e-12) * 0.1 + x[small]
    return x


def large_inputs(rng: np.random.Generator, per_band: int = 4) -> np.ndarray:
    """Random |x| log-uniform in each band of LARGE_BANDS, half of each band negative."""
    parts = []
    for lo, hi in LARGE_BANDS:
        magnitude = np.exp(rng.uniform(np.log(lo), np.log(hi), size=per_band))
        sign = np.where(np.arange(per_band) % 2 == 0, 1.0, -1.0)
        parts.append(sign * magnitude)
    return rng.permutation(np.concatenate(parts))


def _variants(name: str) -> list[tuple[float, ...]]:
    return [(), *PARAMS.get(name, [])]


def _label(name: str, params: tuple[float, ...]) -> str:
    return f"{name}(x{''.join(f', {p:g}' for p in params)})"


def _forward_check(name: str):
    def run(student, rng):
        verdicts = []
        for params in _variants(name):
            x = away_from_kinks(rng, (6, 5))
            expected = reference_at(getattr(ref, name), x, *params)
            verdicts.append(
                compare(
                    student.call(name, x, *params),
                    expected,
                    rtol=RTOL,
                    atol=ATOL,
                    name=_label(name, params),
                )
            )
        return all_of(*verdicts)

    run.__doc__ = f"{name}(x) on random inputs away from kinks, against the reference."
    return check(points=1, name=name)(run)


def _grad_check(name: str):
    def run(student, rng):
        verdicts = []
        for params in _variants(name):
            x = away_from_kinks(rng, (4, 5))
            got = student.call(name + "_grad", x, *params)
            label = _label(name + "_grad", params)
            verdicts.append(
                compare(
                    got,
                    reference_at(getattr(ref, name + "_grad"), x, *params),
                    rtol=1e-7,
                    atol=1e-9,
                    name=label,
                )
            )
            if name != "binary_step":  # a step's slope is 0 where finite differences see 0 too
                ones = np.ones_like(x)
                verdicts.append(
                    grad_check(
                        got,
                        lambda v, p=params: getattr(ref, name)(v, *p),
                        x,
                        ones,
                        name=label + " vs finite differences",
                        rtol=1e-5,
                        atol=1e-7,
                        elementwise=True,
                    )
                )
        return all_of(*verdicts)

    run.__doc__ = f"{name}_grad(x) against the reference derivative and finite differences."
    return check(points=1, name=name + "_grad")(run)


def _large_check(name: str):
    def run(student, rng):
        x = large_inputs(rng)
        verdicts = []
        for fn in (name, name + "_grad"):
            verdicts.append(
                compare(
                    student.call(fn, x),
                    reference_at(getattr(ref, fn), x),
                    rtol=RTOL,
                    atol=ATOL,
                    name=f"{fn} at |x| up to 1000",
                )
            )
        return all_of(*verdicts)

    run.__doc__ = f"{name} and its grad stay finite and exact at random |x| up to 1000."
    return check(points=0.5, hidden=True, name=name + "_large_inputs")(run)


for _name in NAMES:
    globals()["check_" + _name] = _forward_check(_name)
    globals()["check_" + _name + "_grad"] = _grad_check(_name)
for _name in NAMES:
    globals()["check_" + _name + "_large"] = _large_check(_name)


@check(points=1, hidden=True)
def kinks(student, rng):
    """The notes' conventions at x = 0: relu'(0) = 0, leaky_relu'(0) = alpha, step(0) = 1."""
    x = away_from_kinks(rng, (8,))
    x[rng.choice(x.size, size=3, replace=False)] = 0.0  # zeros at random places
    alpha = float(rng.uniform(0.05, 0.5))
    return all_of(
        compare(student.relu(x), reference_at(ref.relu, x), name="relu at 0"),
        compare(student.relu_grad(x), reference_at(ref.relu_grad, x), name="relu_grad at 0"),
        compare(
            student.leaky_relu_grad(x, alpha),
            reference_at(ref.leaky_relu_grad, x, alpha),
            name="leaky_relu_grad at 0",
        ),
        compare(student.binary_step(x), reference_at(ref.binary_step, x), name="binary_step at 0"),
        compare(
            student.binary_step_grad(x),
            reference_at(ref.binary_step_grad, x),
            name="binary_step_grad at 0",
        ),
    )


@check(points=1, hidden=True)
def shapes(student, rng):
    """Every function keeps the shape of a 3-D input, and takes a number (the starter: "an
    array x of any shape (or a number)")."""
    x = away_from_kinks(rng, (2, 3, 4))
    verdicts = [
        compare(
            student.call(n, x),
            reference_at(getattr(ref, n), x),
            rtol=RTOL,
            atol=ATOL,
            name=f"{n} on a (2, 3, 4) input",
        )
        for n in NAMES
    ]
    numbers = away_from_kinks(rng, (len(NAMES),))
    for n, number in zip(NAMES, numbers, strict=True):
        for fn in (n, n + "_grad"):
            verdicts.append(
                compare(
                    student.call(fn, float(number)),
                    reference_at(getattr(ref, fn), np.float64(number)),
                    rtol=RTOL,
                    atol=ATOL,
                    name=f"{fn}(x) for the number x = {float(number)!r}",
                )
            )
    return all_of(*verdicts)


@check(points=2)
def softmax(student, rng):
    """softmax over the last axis of a (6, 10) batch: matches the reference, rows sum to 1."""
    x = rng.normal(0.0, 3.0, size=(6, 10))
    got = student.softmax(x)
    verdict = compare(got, reference_at(ref.softmax, x), rtol=RTOL, atol=ATOL, name="softmax(x)")
    if not verdict.passed:
        return verdict
    row_sums = np.sum(got, axis=-1)
    return compare(row_sums, np.ones(6), rtol=0, atol=1e-12, name="row sums", computed_from=got)


@check(points=1, hidden=True)
def softmax_axis(student, rng):
    """softmax along axis 0 of a matrix and axis 1 of a 3-D array."""
    a = rng.normal(size=(5, 4))
    b = rng.normal(size=(2, 3, 4))
    return all_of(
        compare(
            student.softmax(a, 0),
            reference_at(ref.softmax, a, axis=0),
            rtol=RTOL,
            atol=ATOL,
            name="softmax(x, axis=0)",
        ),
        compare(
            student.softmax(b, 1),
            reference_at(ref.softmax, b, axis=1),
            rtol=RTOL,
            atol=ATOL,
            name="softmax(x, axis=1)",
        ),
    )


@check(points=1, hidden=True)
def softmax_large_inputs(student, rng):
    """Random rows centred near +-1000 (exp overflows, or underflows to 0), and a mixed row."""
    centres = rng.permutation([1.0, 1.0, -1.0, -1.0])[:, None] * rng.uniform(750, 1000, (4, 1))
    rows = centres + rng.normal(0.0, 2.0, size=(4, 6))
    mixed = rng.uniform(-1000.0, 1000.0, size=(1, 6))
    mixed[0, rng.integers(6)] = rng.uniform(750.0, 1000.0)  # its max is past exp's range
    x = np.concatenate([rows, mixed])
    return compare(
        student.softmax(x),
        reference_at(ref.softmax, x),
        rtol=RTOL,
        atol=ATOL,
        name="softmax at |x| ~ 1000",
    )


@check(points=2)
def softmax_jacobian(student, rng):
    """The (K, K) Jacobian of softmax at a random z, against finite differences of softmax."""
    z = rng.normal(size=5)
    got = student.softmax_jacobian(z)
    arr = np.asarray(got) if isinstance(got, np.ndarray) else None
    if arr is None or arr.shape != (5, 5):
        shape = getattr(arr, "shape", type(got).__name__)
        raise CheckFailed(f"softmax_jacobian(z) for len(z) = 5 must be a (5, 5) array, got {shape}")
    return compare(
        got, reference_at(numeric_jacobian, z), rtol=1e-6, atol=1e-8, name="softmax_jacobian(z)"
    )


def numeric_jacobian(z: np.ndarray) -> np.ndarray:
    numeric = np.empty((len(z), len(z)))
    for i in range(len(z)):
        # Row i of the Jacobian is the gradient of softmax(z)[i]: a VJP with the unit vector e_i.
        numeric[i] = grad_check_rows(z, np.eye(len(z))[i])
    return numeric


def grad_check_rows(z: np.ndarray, e_i: np.ndarray) -> np.ndarray:
    from reference.gradcheck import eval_numerical_gradient_array

    return eval_numerical_gradient_array(ref.softmax, z.copy(), e_i)
