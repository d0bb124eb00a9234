"""grader.checks' shared helpers for judging a backward against the student's OWN forward
(issue 9: one copy in the checks library instead of one per assignment).

Expected slopes are worked out by hand (d x**3 / dx = 3 x**2, d sum(x**2) / dx = 2 x),
never by the helpers under test; the scale is recomputed here with numpy.
"""

from __future__ import annotations

import numpy as np
import pytest

from grader.checks import (
    CheckFailed,
    computed_in_float32,
    own_forward_grad_check,
    own_forward_slopes,
)

X = np.array([[0.3, -1.2, 2.0], [0.75, -0.4, 1.1]])
DOUT = np.array([[1.5, -0.5, 2.0], [0.25, 3.0, -1.0]])
H = 2.0**-20


def cube(x: np.ndarray) -> np.ndarray:
    return x**3


def test_slopes_are_the_vector_jacobian_product_of_the_forward() -> None:
    numeric, scale = own_forward_slopes(cube, X, DOUT, H)
    # Centred differences of x**3 err by h**2 * dout (about 1e-12): far inside 1e-9.
    np.testing.assert_allclose(numeric, 3 * X**2 * DOUT, rtol=1e-9, atol=1e-12)
    # scale: the largest |f(x + h e_i) * dout| over every step i, at least 1.
    biggest = max(
        float(np.max(np.abs(cube(X + H * np.eye(X.size)[i].reshape(X.shape)) * DOUT)))
        for i in range(X.size)
    )
    assert scale == pytest.approx(max(1.0, biggest), rel=1e-12)
    assert biggest > 8.0  # 2.0**3 * 2.0 at X[0, 2]: the scale is the data's, not the floor


def test_slopes_of_a_single_number_forward_with_no_dout() -> None:
    numeric, scale = own_forward_slopes(lambda x: float(np.sum(x**2)), X, None, H)
    np.testing.assert_allclose(numeric, 2 * X, rtol=1e-9, atol=1e-12)
    assert scale == pytest.approx(float(np.sum(X**2)), rel=1e-5)


def test_a_forward_of_the_wrong_shape_is_named() -> None:
    with pytest.raises(CheckFailed, match=r"your cube_forward returned shape \(3,\)"):
        own_forward_slopes(lambda x: x.ravel()[:3], X, DOUT, H, forward="cube_forward")


def test_a_right_gradient_passes_and_a_wrong_one_fails_naming_the_forward() -> None:
    right = 3 * X**2 * DOUT
    assert own_forward_grad_check(right, cube, X, DOUT, name="dx", forward="cube").passed
    wrong = right * (1 + 1e-3)  # 100x the float64 rtol of 1e-5
    verdict = own_forward_grad_check(wrong, cube, X, DOUT, name="dx", forward="cube")
    assert not verdict.passed
    assert verdict.message.startswith("dx")
    assert verdict.message.endswith("(expected: finite differences of your cube)")


def test_the_students_own_forward_is_differentiated() -> None:
    """A wrong forward (2 x**3) with the backward of that same forward: the backward is
    consistent with it, so this check passes (the reference check is what fails)."""

    def doubled(x: np.ndarray) -> np.ndarray:
        return 2 * x**3

    own = 6 * X**2 * DOUT
    assert own_forward_grad_check(own, doubled, X, DOUT, name="dx", forward="f").passed
    assert not own_forward_grad_check(
        3 * X**2 * DOUT, doubled, X, DOUT, name="dx", forward="f"
    ).passed


def test_a_float32_forward_is_judged_at_float32_resolution() -> None:
    """A forward computed in float32 cannot resolve a 2**-20 step: x**3 near 1000 is
    rounded to float32 by up to 3e-5, which over 2 * 2**-20 is ~15 of a slope near 300,
    past even float32's tolerances. The float32 step (2**-8: rounding error ~0.004,
    truncation h**2 * dout ~ 5e-5) lets a right float32 gradient pass; 10% off fails."""
    x = np.array([[9.5, -11.3, 10.3], [12.1, -8.7, 10.9]])

    def cube32(v: np.ndarray) -> np.ndarray:
        return (v.astype(np.float32) ** 3).astype(np.float64)  # converted at the end

    exact = 3 * x**2 * DOUT
    right32 = exact.astype(np.float32)
    assert own_forward_grad_check(right32, cube32, x, DOUT, name="dx", forward="f").passed
    assert not own_forward_grad_check(right32 * 1.1, cube32, x, DOUT, name="dx", forward="f").passed
    # Why the step must change: at 2**-20 the slopes of cube32 miss the true ones by more
    # than the float32 tolerances (rtol 1e-2, atol 1e-3 * scale, scale >= 1000 here).
    numeric, scale = own_forward_slopes(cube32, x, DOUT, H)
    assert scale > 1000
    assert np.any(np.abs(numeric - exact) > 1e-2 * np.abs(exact) + 1e-3 * scale)


@pytest.mark.parametrize(
    ("values", "single"),
    [
        ((np.array([0.1, 0.2], dtype=np.float32),), True),
        ((np.array([0.1, 0.2], dtype=np.float32).astype(np.float64),), True),
        # a float32 answer converted at the end with a short (exact) number beside it
        ((np.float64(np.float32(0.1)), 0.5, np.array([2, 3])), True),
        ((np.array([0.1, 0.2]),), False),  # float64 values are not float32 numbers
        ((np.array([0.1, 0.2]).astype(np.float32).astype(np.float64), 0.1), False),
        ((np.array([0.5, 1.0, 2.0]), 3), False),  # short values tell nothing
        ((np.array([np.inf, np.nan]),), False),  # no finite value at all
    ],
)
def test_computed_in_float32(values: tuple, single: bool) -> None:
    assert computed_in_float32(*values) is single
