"""reference.activations against PyTorch (float64), finite differences and the notes."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812 (the universal torch alias)

from reference import activations as act
from reference.gradcheck import eval_numerical_gradient_array, rel_error

# Same float64 maths on both sides: only rounding may differ. ATOL covers
# places where one side rounds a true value near 1e-16 to 0 (e.g. torch's
# 1 + tanh(u) cancelling in the negative tail of GELU).
TORCH_RTOL = 1e-12
TORCH_ATOL = 1e-14
# Centred differences with h = 1e-5: truncation ~h^2 and rounding ~1e-16/h,
# both far below this on O(1) slopes.
FD_TOL = 1e-7

TorchFn = Callable[[torch.Tensor], torch.Tensor]


def _t(x: np.ndarray, grad: bool = False) -> torch.Tensor:
    return torch.tensor(x, dtype=torch.float64, requires_grad=grad)


# (case id, name in reference.activations, extra kwargs, torch counterpart).
# The torch side never calls our code; where torch has no function of that
# name the expression is written out.
CASES: list[tuple[str, str, dict[str, Any], TorchFn]] = [
    ("identity", "identity", {}, lambda t: torch.nn.Identity()(t)),
    ("binary_step", "binary_step", {}, lambda t: torch.heaviside(t, torch.ones_like(t))),
    ("sigmoid", "sigmoid", {}, torch.sigmoid),
    ("tanh", "tanh", {}, torch.tanh),
    ("arctan", "arctan", {}, torch.arctan),
    ("relu", "relu", {}, F.relu),
    ("leaky_relu", "leaky_relu", {}, lambda t: F.leaky_relu(t, negative_slope=0.01)),
    ("leaky_relu-0.2", "leaky_relu", {"alpha": 0.2}, lambda t: F.leaky_relu(t, 0.2)),
    ("elu", "elu", {}, lambda t: F.elu(t, alpha=1.0)),
    ("elu-0.5", "elu", {"alpha": 0.5}, lambda t: F.elu(t, alpha=0.5)),
    ("selu", "selu", {}, F.selu),
    ("swish", "swish", {}, F.silu),
    ("swish-1.7", "swish", {"beta": 1.7}, lambda t: t * torch.sigmoid(1.7 * t)),
    ("gelu", "gelu", {}, lambda t: F.gelu(t, approximate="tanh")),
    ("softplus", "softplus", {}, F.softplus),
    ("softsign", "softsign", {}, lambda t: t / (1 + t.abs())),
]
CASE_IDS = [c[0] for c in CASES]
# Autograd has no derivative for torch.heaviside; its grad is tested below.
GRAD_CASES = [c for c in CASES if c[1] != "binary_step"]
GRAD_IDS = [c[0] for c in GRAD_CASES]


def _fns(name: str) -> tuple[Callable[..., np.ndarray], Callable[..., np.ndarray]]:
    return getattr(act, name), getattr(act, name + "_grad")


def _inputs_away_from_kinks(seed: int) -> np.ndarray:
    """(4, 6) values with 0.05 <= |x| <= 5: no kink or step within FD reach."""
    rng = np.random.default_rng(seed)
    return rng.choice([-1.0, 1.0], size=(4, 6)) * rng.uniform(0.05, 5.0, size=(4, 6))


def _torch_value_and_grad(torch_fn: TorchFn, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    xt = _t(x, grad=True)
    y = torch_fn(xt)
    # Elementwise f: the gradient of sum(f(x)) is f'(x) at every element.
    y.sum().backward()
    assert xt.grad is not None
    return y.detach().numpy(), xt.grad.numpy()


@pytest.mark.parametrize(("case", "name", "kw", "torch_fn"), CASES, ids=CASE_IDS)
def test_forward_matches_torch(case: str, name: str, kw: dict, torch_fn: TorchFn) -> None:
    x = _inputs_away_from_kinks(seed=1)
    fn, _ = _fns(name)
    expected = torch_fn(_t(x)).numpy()
    np.testing.assert_allclose(fn(x, **kw), expected, rtol=TORCH_RTOL, atol=TORCH_ATOL)


@pytest.mark.parametrize(("case", "name", "kw", "torch_fn"), GRAD_CASES, ids=GRAD_IDS)
def test_grad_matches_torch_autograd(case: str, name: str, kw: dict, torch_fn: TorchFn) -> None:
    x = _inputs_away_from_kinks(seed=2)
    _, grad_fn = _fns(name)
    _, expected = _torch_value_and_grad(torch_fn, x)
    np.testing.assert_allclose(grad_fn(x, **kw), expected, rtol=TORCH_RTOL, atol=TORCH_ATOL)


@pytest.mark.parametrize(("case", "name", "kw", "torch_fn"), CASES, ids=CASE_IDS)
def test_grad_matches_finite_differences(case: str, name: str, kw: dict, torch_fn: TorchFn) -> None:
    x = _inputs_away_from_kinks(seed=3)
    dout = np.random.default_rng(4).standard_normal(x.shape)
    fn, grad_fn = _fns(name)
    numeric = eval_numerical_gradient_array(lambda v: fn(v, **kw), x.copy(), dout)
    assert rel_error(grad_fn(x, **kw) * dout, numeric) < FD_TOL


def test_worked_example_sigmoid() -> None:
    # Lecture notes: sigmoid(0.7) = 0.6682 to 4 d.p.
    assert round(float(act.sigmoid(0.7)), 4) == 0.6682


def test_worked_example_softmax() -> None:
    # Lecture notes: softmax([0.7, 1.35]) = [0.3430, 0.6570] to 4 d.p.
    assert [round(float(v), 4) for v in act.softmax([0.7, 1.35])] == [0.3430, 0.6570]


# --- kinks: the notes' conventions, and torch's autograd where it agrees ----

KINK_X = np.array([-1e-300, 0.0, 1e-300])


@pytest.mark.parametrize(
    ("name", "kw", "expected"),
    [
        ("relu", {}, [0.0, 0.0, 1.0]),
        ("leaky_relu", {"alpha": 0.1}, [0.1, 0.1, 1.0]),
        ("leaky_relu", {}, [0.01, 0.01, 1.0]),
        ("elu", {"alpha": 0.5}, [0.5, 0.5, 1.0]),
        ("selu", {}, [1.0507009873554805 * 1.6732632423543772] * 2 + [1.0507009873554805]),
        ("binary_step", {}, [0.0, 0.0, 0.0]),
    ],
)
def test_grad_convention_at_kink(name: str, kw: dict, expected: list[float]) -> None:
    _, grad_fn = _fns(name)
    np.testing.assert_allclose(grad_fn(KINK_X, **kw), expected, rtol=1e-15, atol=0)


@pytest.mark.parametrize(
    ("name", "kw", "torch_fn"),
    [
        ("relu", {}, F.relu),
        ("leaky_relu", {"alpha": 0.1}, lambda t: F.leaky_relu(t, 0.1)),
        ("elu", {"alpha": 0.5}, lambda t: F.elu(t, alpha=0.5)),
        ("selu", {}, F.selu),
    ],
)
def test_grad_at_kink_agrees_with_torch(name: str, kw: dict, torch_fn: TorchFn) -> None:
    _, grad_fn = _fns(name)
    _, expected = _torch_value_and_grad(torch_fn, KINK_X)
    np.testing.assert_allclose(grad_fn(KINK_X, **kw), expected, rtol=1e-15, atol=0)


def test_binary_step_is_one_at_zero_and_grad_zero_everywhere() -> None:
    x = np.array([-2.0, -1e-300, -0.0, 0.0, 1e-300, 3.0])
    np.testing.assert_array_equal(act.binary_step(x), [0, 0, 1, 1, 1, 1])
    expected = torch.heaviside(_t(x), torch.tensor(1.0, dtype=torch.float64)).numpy()
    np.testing.assert_array_equal(act.binary_step(x), expected)
    np.testing.assert_array_equal(act.binary_step_grad(x), np.zeros(6))


# --- stability -----------------------------------------------------------------

LARGE_X = np.array([-1e4, -1000.0, -50.0, -1.0, 0.5, 50.0, 1000.0, 1e4])


@pytest.mark.parametrize(("case", "name", "kw", "torch_fn"), GRAD_CASES, ids=GRAD_IDS)
def test_large_inputs_match_torch_without_fp_errors(
    case: str, name: str, kw: dict, torch_fn: TorchFn
) -> None:
    fn, grad_fn = _fns(name)
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        value, grad = fn(LARGE_X, **kw), grad_fn(LARGE_X, **kw)
    expected_value, expected_grad = _torch_value_and_grad(torch_fn, LARGE_X)
    assert np.all(np.isfinite(value)) and np.all(np.isfinite(grad))
    np.testing.assert_allclose(value, expected_value, rtol=TORCH_RTOL, atol=TORCH_ATOL)
    np.testing.assert_allclose(grad, expected_grad, rtol=TORCH_RTOL, atol=TORCH_ATOL)


@pytest.mark.parametrize("name", sorted(act.ACTIVATIONS))
def test_extreme_inputs_stay_finite(name: str) -> None:
    # Every true value and slope here is finite (e.g. gelu(1e300) = 1e300).
    x = np.array([-1e300, -1e4, 1e4, 1e300])
    fn, grad_fn = act.ACTIVATIONS[name]
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.all(np.isfinite(fn(x)))
        assert np.all(np.isfinite(grad_fn(x)))


def test_saturated_values_and_slopes() -> None:
    # Limits known in closed form; float64 rounds the true values to these.
    x = np.array([-1000.0, 1000.0])
    np.testing.assert_array_equal(act.sigmoid(x), [0.0, 1.0])
    np.testing.assert_array_equal(act.sigmoid_grad(x), [0.0, 0.0])
    np.testing.assert_array_equal(act.softplus(x), [0.0, 1000.0])
    np.testing.assert_array_equal(act.elu(x, alpha=2.0), [-2.0, 1000.0])
    np.testing.assert_array_equal(act.swish_grad(x), [0.0, 1.0])
    np.testing.assert_array_equal(act.gelu(x), [0.0, 1000.0])


# --- calling contract ------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(act.ACTIVATIONS))
def test_scalars_and_other_dtypes_give_float64_of_same_shape(name: str) -> None:
    fn, grad_fn = act.ACTIVATIONS[name]
    for f in (fn, grad_fn):
        out = f(0.7)
        assert isinstance(out, np.ndarray) and out.dtype == np.float64 and out.shape == ()
        x32 = np.linspace(-2, 2, 6, dtype=np.float32).reshape(2, 3)
        out = f(x32)
        assert out.dtype == np.float64 and out.shape == (2, 3)
        np.testing.assert_allclose(out, f(x32.astype(np.float64)), rtol=0, atol=0)
        assert f([[1, -2], [3, 0]]).shape == (2, 2)


def test_results_never_alias_the_input() -> None:
    x = np.array([1.0, -2.0])
    out = act.identity(x)
    out[0] = 99.0
    assert x[0] == 1.0


def test_registry_pairs_each_function_with_its_grad() -> None:
    expected = {
        "identity", "binary_step", "sigmoid", "tanh", "arctan", "relu", "leaky_relu",
        "elu", "selu", "swish", "gelu", "softplus", "softsign",
    }  # fmt: skip
    assert set(act.ACTIVATIONS) == expected
    for name, (fn, grad_fn) in act.ACTIVATIONS.items():
        assert fn is getattr(act, name) and grad_fn is getattr(act, name + "_grad")


def test_complex_input_is_refused() -> None:
    with pytest.raises(TypeError, match="real"):
        act.relu(np.array([1 + 1j]))


# --- softmax -------------------------------------------------------------------

SOFTMAX_RTOL = 1e-12


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -2])
def test_softmax_matches_torch_on_each_axis(axis: int) -> None:
    x = np.random.default_rng(5).normal(scale=3.0, size=(3, 4, 5))
    out = act.softmax(x, axis=axis)
    np.testing.assert_allclose(out, torch.softmax(_t(x), dim=axis).numpy(), rtol=SOFTMAX_RTOL)
    np.testing.assert_allclose(out.sum(axis=axis), 1.0, rtol=SOFTMAX_RTOL)


def test_softmax_default_axis_is_last() -> None:
    x = np.random.default_rng(6).standard_normal((2, 3))
    np.testing.assert_allclose(act.softmax(x), torch.softmax(_t(x), dim=-1).numpy(), rtol=1e-12)


def test_softmax_is_stable_for_huge_logits() -> None:
    x = np.array([[1000.0, 1001.0, 1002.0], [-1000.0, -1000.0, 0.0], [1e4, -1e4, 0.0]])
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        out = act.softmax(x)
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out, torch.softmax(_t(x), dim=-1).numpy(), rtol=SOFTMAX_RTOL)
    np.testing.assert_allclose(out.sum(axis=-1), 1.0, rtol=SOFTMAX_RTOL)


def test_softmax_jacobian_matches_finite_differences() -> None:
    z = np.random.default_rng(7).standard_normal(5)
    jac = act.softmax_jacobian(z)
    assert jac.shape == (5, 5)
    for i in range(5):
        # Row i is the gradient of s_i: the vector-Jacobian product with e_i.
        e_i = np.eye(5)[i]
        numeric = eval_numerical_gradient_array(act.softmax, z.copy(), e_i)
        assert rel_error(jac[i], numeric) < FD_TOL


def test_softmax_jacobian_matches_torch() -> None:
    z = np.random.default_rng(8).normal(scale=2.0, size=6)
    expected = torch.autograd.functional.jacobian(lambda t: torch.softmax(t, dim=0), _t(z))
    np.testing.assert_allclose(
        act.softmax_jacobian(z), expected.numpy(), rtol=TORCH_RTOL, atol=TORCH_ATOL
    )


def test_softmax_jacobian_refuses_non_vector() -> None:
    with pytest.raises(ValueError, match="1-D"):
        act.softmax_jacobian(np.zeros((2, 3)))
