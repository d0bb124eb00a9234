"""Checks for the activations homework.

Every check draws its inputs from ``rng`` (seeded per check), calls the
student's function in the sandbox, and compares with reference.activations
computed here, on the trusted side. Inputs for the ordinary checks stay away
from kinks (|x| >= 0.1); the kinks have a check of their own.
"""

import numpy as np

from grader.checks import CheckFailed, all_of, check, compare, grad_check
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
LARGE = np.array([-1000.0, -700.0, -100.0, -30.0, -1.0, 1.0, 30.0, 100.0, 700.0, 1000.0])


def away_from_kinks(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    x = rng.uniform(-4.0, 4.0, size=shape)
    small = np.abs(x) < 0.1
    x[small] = np.sign(x[small] + 1e-12) * 0.1 + x[small]
    return x


def _variants(name: str) -> list[tuple[float, ...]]:
    return [(), *PARAMS.get(name, [])]


def _label(name: str, params: tuple[float, ...]) -> str:
    return f"{name}(x{''.join(f', {p:g}' for p in params)})"


def _forward_check(name: str):
    def run(student, rng):
        verdicts = []
        for params in _variants(name):
            x = away_from_kinks(rng, (6, 5))
            expected = getattr(ref, name)(x, *params)
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
                    got, getattr(ref, name + "_grad")(x, *params), rtol=1e-7, atol=1e-9, name=label
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
                    )
                )
        return all_of(*verdicts)

    run.__doc__ = f"{name}_grad(x) against the reference derivative and finite differences."
    return check(points=1, name=name + "_grad")(run)


def _large_check(name: str):
    def run(student, rng):
        verdicts = []
        for fn in (name, name + "_grad"):
            got = student.strict.call(fn, LARGE.copy())
            verdicts.append(
                compare(
                    got,
                    getattr(ref, fn)(LARGE),
                    rtol=RTOL,
                    atol=ATOL,
                    name=f"{fn} at |x| up to 1000",
                )
            )
        return all_of(*verdicts)

    run.__doc__ = f"{name} and its grad stay finite and exact at |x| ~ 1000, with no overflow."
    return check(points=0.5, hidden=True, name=name + "_large_inputs")(run)


for _name in NAMES:
    globals()["check_" + _name] = _forward_check(_name)
    globals()["check_" + _name + "_grad"] = _grad_check(_name)
for _name in NAMES:
    globals()["check_" + _name + "_large"] = _large_check(_name)


@check(points=1, hidden=True)
def kinks(student, rng):
    """The notes' conventions at x = 0: relu'(0) = 0, leaky_relu'(0) = alpha, step(0) = 1."""
    x = np.array([-1.0, 0.0, 1.0])
    return all_of(
        compare(student.relu(x), [0.0, 0.0, 1.0], name="relu at 0"),
        compare(student.relu_grad(x), [0.0, 0.0, 1.0], name="relu_grad at 0"),
        compare(student.leaky_relu_grad(x, 0.2), [0.2, 0.2, 1.0], name="leaky_relu_grad at 0"),
        compare(student.binary_step(x), [0.0, 1.0, 1.0], name="binary_step at 0"),
        compare(student.binary_step_grad(x), [0.0, 0.0, 0.0], name="binary_step_grad at 0"),
    )


@check(points=1, hidden=True)
def shapes(student, rng):
    """Every function keeps the shape of a 3-D input."""
    x = away_from_kinks(rng, (2, 3, 4))
    return all_of(
        *(
            compare(
                student.call(n, x),
                getattr(ref, n)(x),
                rtol=RTOL,
                atol=ATOL,
                name=f"{n} on a (2, 3, 4) input",
            )
            for n in NAMES
        )
    )


@check(points=2)
def softmax(student, rng):
    """softmax over the last axis of a (6, 10) batch: matches the reference, rows sum to 1."""
    x = rng.normal(0.0, 3.0, size=(6, 10))
    got = student.softmax(x)
    verdict = compare(got, ref.softmax(x), rtol=RTOL, atol=ATOL, name="softmax(x)")
    if not verdict.passed:
        return verdict
    return compare(np.sum(got, axis=-1), np.ones(6), rtol=0, atol=1e-12, name="row sums")


@check(points=1, hidden=True)
def softmax_axis(student, rng):
    """softmax along axis 0 of a matrix and axis 1 of a 3-D array."""
    a = rng.normal(size=(5, 4))
    b = rng.normal(size=(2, 3, 4))
    return all_of(
        compare(
            student.softmax(a, 0),
            ref.softmax(a, axis=0),
            rtol=RTOL,
            atol=ATOL,
            name="softmax(x, axis=0)",
        ),
        compare(
            student.softmax(b, 1),
            ref.softmax(b, axis=1),
            rtol=RTOL,
            atol=ATOL,
            name="softmax(x, axis=1)",
        ),
    )


@check(points=1, hidden=True)
def softmax_large_inputs(student, rng):
    """Rows with entries near +-1000: no overflow, no NaN."""
    x = np.array([[1000.0, 999.0, -1000.0], [-1000.0, -999.5, -1001.0], [0.0, 1000.0, 1.0]])
    return compare(
        student.strict.softmax(x),
        ref.softmax(x),
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
    numeric = np.empty((5, 5))
    for i in range(5):
        # Row i of the Jacobian is the gradient of softmax(z)[i]: a VJP with the unit vector e_i.
        e_i = np.eye(5)[i]
        numeric[i] = grad_check_rows(z, e_i)
    return compare(got, numeric, rtol=1e-6, atol=1e-8, name="softmax_jacobian(z)")


def grad_check_rows(z: np.ndarray, e_i: np.ndarray) -> np.ndarray:
    from reference.gradcheck import eval_numerical_gradient_array

    return eval_numerical_gradient_array(ref.softmax, z.copy(), e_i)
