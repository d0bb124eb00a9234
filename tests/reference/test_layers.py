"""Cross-checks for reference.layers.

Every forward pass is compared with PyTorch in float64; every backward pass with
PyTorch autograd and with centred finite differences; the naive and vectorised
convolutions with each other; and the lecture notes' worked examples are
checked against the numbers the notes print.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812 (the universal torch alias)

from reference import layers
from reference.gradcheck import eval_numerical_gradient_array, rel_error

torch.set_num_threads(1)

# Same float64 computation in a different summation order: agreement to rounding.
TORCH_RTOL = 1e-10
TORCH_ATOL = 1e-12
# Centred differences with h = 1e-5 on O(1) values: truncation and rounding
# errors are both around 1e-10, i.e. relative errors far below this.
FD_REL_TOL = 1e-7
# Naive loops and im2col sum the same products in different orders.
NAIVE_VS_VEC_ATOL = 1e-12


def t(a: np.ndarray, grad: bool = False) -> torch.Tensor:
    """A float64 torch tensor with a copy of a's data."""
    return torch.tensor(a, dtype=torch.float64, requires_grad=grad)


def assert_torch_close(ours: np.ndarray, theirs: torch.Tensor) -> None:
    np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=TORCH_RTOL, atol=TORCH_ATOL)


def away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Normal draws with |value| >= 0.1, so finite differences never straddle a kink."""
    x = rng.standard_normal(shape)
    return np.where(np.abs(x) < 0.1, np.sign(x) * 0.1 + x, x)


def distinct_values(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values spaced at least 0.1 apart (a shuffled ramp), so no max-pool near-ties."""
    size = int(np.prod(shape))
    return (rng.permutation(size) * 0.1 - size * 0.05).reshape(shape)


# --------------------------------------------------------------------------- affine


def test_affine_forward_matches_torch_linear() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 2, 3, 5))
    w = rng.standard_normal((30, 7))
    b = rng.standard_normal(7)
    out, _ = layers.affine_forward(x, w, b)
    assert out.shape == (4, 7)
    assert_torch_close(out, F.linear(t(x).reshape(4, -1), t(w).T, t(b)))


def test_affine_backward_matches_torch_autograd() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 2, 3, 5))
    w = rng.standard_normal((30, 7))
    b = rng.standard_normal(7)
    dout = rng.standard_normal((4, 7))
    _, cache = layers.affine_forward(x, w, b)
    dx, dw, db = layers.affine_backward(dout, cache)

    tx, tw, tb = t(x, True), t(w, True), t(b, True)
    F.linear(tx.reshape(4, -1), tw.T, tb).backward(t(dout))
    assert dx.shape == x.shape
    assert_torch_close(dx, tx.grad)
    assert_torch_close(dw, tw.grad)
    assert_torch_close(db, tb.grad)


def test_affine_backward_matches_finite_differences() -> None:
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 2, 2))
    w = rng.standard_normal((4, 5))
    b = rng.standard_normal(5)
    dout = rng.standard_normal((3, 5))
    _, cache = layers.affine_forward(x, w, b)
    dx, dw, db = layers.affine_backward(dout, cache)

    num_dx = eval_numerical_gradient_array(lambda v: layers.affine_forward(v, w, b)[0], x, dout)
    num_dw = eval_numerical_gradient_array(lambda v: layers.affine_forward(x, v, b)[0], w, dout)
    num_db = eval_numerical_gradient_array(lambda v: layers.affine_forward(x, w, v)[0], b, dout)
    assert rel_error(dx, num_dx) < FD_REL_TOL
    assert rel_error(dw, num_dw) < FD_REL_TOL
    assert rel_error(db, num_db) < FD_REL_TOL


def test_affine_rejects_mismatched_weights() -> None:
    with pytest.raises(ValueError, match="features"):
        layers.affine_forward(np.zeros((2, 3, 4)), np.zeros((11, 5)), np.zeros(5))


# ---------------------------------------------------------------------- activations

Activation = tuple[Callable, Callable, Callable[[torch.Tensor], torch.Tensor]]
ACTIVATIONS: dict[str, Activation] = {
    "relu": (layers.relu_forward, layers.relu_backward, F.relu),
    "sigmoid": (layers.sigmoid_forward, layers.sigmoid_backward, torch.sigmoid),
    "tanh": (layers.tanh_forward, layers.tanh_backward, torch.tanh),
}


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_forward_and_backward_match_torch(name: str) -> None:
    forward, backward, torch_fn = ACTIVATIONS[name]
    rng = np.random.default_rng(10)
    x = 3 * rng.standard_normal((5, 6))
    x[0, :3] = 0.0  # relu'(0) = 0 in both libraries
    dout = rng.standard_normal(x.shape)
    out, cache = forward(x)
    dx = backward(dout, cache)

    tx = t(x, True)
    tout = torch_fn(tx)
    tout.backward(t(dout))
    assert_torch_close(out, tout)
    assert_torch_close(dx, tx.grad)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_backward_matches_finite_differences(name: str) -> None:
    forward, backward, _ = ACTIVATIONS[name]
    rng = np.random.default_rng(11)
    x = away_from_zero(rng, (4, 5))
    dout = rng.standard_normal(x.shape)
    dx = backward(dout, forward(x)[1])
    num_dx = eval_numerical_gradient_array(lambda v: forward(v)[0], x, dout)
    assert rel_error(dx, num_dx) < FD_REL_TOL


def test_relu_gradient_at_zero_is_zero() -> None:
    x = np.array([-1.0, 0.0, 2.0])
    dx = layers.relu_backward(np.ones(3), layers.relu_forward(x)[1])
    np.testing.assert_array_equal(dx, [0.0, 0.0, 1.0])


def test_sigmoid_is_stable_for_large_inputs() -> None:
    x = np.array([-1000.0, -745.0, -50.0, 0.0, 50.0, 745.0, 1000.0])
    # Overflow or NaN would raise; underflow of exp(-1000) to 0 is the right answer.
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        out, cache = layers.sigmoid_forward(x)
        dx = layers.sigmoid_backward(np.ones_like(x), cache)
    tx = t(x, True)
    tout = torch.sigmoid(tx)
    tout.sum().backward()
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(dx))
    assert out[0] == 0.0 and out[-1] == 1.0
    assert_torch_close(out, tout)
    assert_torch_close(dx, tx.grad)


# -------------------------------------------------------------------------- dropout

# Binomial counts over DROP_N units: 5 standard deviations is a one-in-3.5-million
# false alarm for a correct implementation, and a 2-point error in p is ~15 sigma.
DROP_N = 100_000
DROP_SIGMAS = 5.0


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_dropout_drops_with_probability_p_and_preserves_the_mean(p: float) -> None:
    x = np.ones(DROP_N)
    out, _ = layers.dropout_forward(x, p, "train", np.random.default_rng(20))
    dropped = np.mean(out == 0.0)
    assert abs(dropped - p) < DROP_SIGMAS * np.sqrt(p * (1 - p) / DROP_N)
    # Kept units are scaled by 1/(1-p) exactly, as torch's F.dropout scales them.
    kept = out[out != 0.0]
    torch.manual_seed(0)
    torch_out = F.dropout(t(x), p=p, training=True)
    torch_kept = torch_out[torch_out != 0].numpy()
    np.testing.assert_allclose(kept, 1.0 / (1.0 - p), rtol=1e-15)
    np.testing.assert_allclose(torch_kept, 1.0 / (1.0 - p), rtol=1e-15)
    # E[out] = x: the mean of out has standard deviation sqrt(p / (1-p) / n).
    assert abs(out.mean() - 1.0) < DROP_SIGMAS * np.sqrt(p / (1 - p) / DROP_N)


def test_dropout_backward_uses_the_forward_mask() -> None:
    rng = np.random.default_rng(21)
    x = away_from_zero(rng, (50, 40))
    dout = rng.standard_normal(x.shape)
    p = 0.4
    out, cache = layers.dropout_forward(x, p, "train", np.random.default_rng(22))
    dx = layers.dropout_backward(dout, cache)
    dropped = out == 0.0
    assert 0 < dropped.sum() < dropped.size
    np.testing.assert_array_equal(dx == 0.0, dropped)
    np.testing.assert_allclose(dx[~dropped], dout[~dropped] / (1 - p), rtol=1e-15)
    np.testing.assert_allclose(out[~dropped], x[~dropped] / (1 - p), rtol=1e-15)


def test_dropout_backward_matches_finite_differences_for_a_fixed_mask() -> None:
    rng = np.random.default_rng(23)
    x = rng.standard_normal((4, 6))
    dout = rng.standard_normal(x.shape)

    def forward(v: np.ndarray) -> np.ndarray:
        # A fresh generator with the same seed redraws the same mask on every call.
        return layers.dropout_forward(v, 0.3, "train", np.random.default_rng(24))[0]

    _, cache = layers.dropout_forward(x, 0.3, "train", np.random.default_rng(24))
    dx = layers.dropout_backward(dout, cache)
    assert rel_error(dx, eval_numerical_gradient_array(forward, x, dout)) < FD_REL_TOL


def test_dropout_same_seed_same_mask() -> None:
    x = np.ones((30, 30))
    a, _ = layers.dropout_forward(x, 0.5, "train", np.random.default_rng(5))
    b, _ = layers.dropout_forward(x, 0.5, "train", np.random.default_rng(5))
    c, _ = layers.dropout_forward(x, 0.5, "train", np.random.default_rng(6))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("p", [0.0, 0.5, 0.9])
def test_dropout_test_mode_is_identity(p: float) -> None:
    rng = np.random.default_rng(25)
    x = rng.standard_normal((6, 7))
    dout = rng.standard_normal(x.shape)
    out, cache = layers.dropout_forward(x, p, "test", None)
    np.testing.assert_array_equal(out, x)
    np.testing.assert_array_equal(out, F.dropout(t(x), p=p, training=False).numpy())
    np.testing.assert_array_equal(layers.dropout_backward(dout, cache), dout)
    assert not np.shares_memory(out, x)


def test_dropout_with_p_zero_keeps_everything_in_train_mode() -> None:
    x = np.random.default_rng(26).standard_normal((5, 5))
    out, _ = layers.dropout_forward(x, 0.0, "train", np.random.default_rng(0))
    np.testing.assert_array_equal(out, x)


@pytest.mark.parametrize(
    ("p", "mode", "match"),
    [
        (1.0, "train", "0 <= p < 1"),
        (-0.1, "train", "0 <= p < 1"),
        (1.5, "test", "0 <= p < 1"),
        (0.5, "eval", "'train' or 'test'"),
        (0.5, "training", "'train' or 'test'"),
    ],
)
def test_dropout_rejects_bad_arguments(p: float, mode: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        layers.dropout_forward(np.ones(3), p, mode, np.random.default_rng(0))


def test_dropout_train_mode_needs_a_generator() -> None:
    with pytest.raises(ValueError, match="Generator"):
        layers.dropout_forward(np.ones(3), 0.5, "train", None)


# ------------------------------------------------------------------------ batchnorm


def torch_batchnorm(D: int, gamma: np.ndarray, beta: np.ndarray, momentum: float, eps: float):
    """nn.BatchNorm1d configured like our bn_param (torch's momentum = 1 - ours)."""
    bn = torch.nn.BatchNorm1d(D, eps=eps, momentum=1.0 - momentum, dtype=torch.float64)
    with torch.no_grad():
        bn.weight.copy_(t(gamma))
        bn.bias.copy_(t(beta))
    return bn


@pytest.mark.parametrize(("momentum", "eps"), [(0.9, 1e-5), (0.7, 1e-3)])
def test_batchnorm_train_output_and_running_stats_match_torch(momentum: float, eps: float) -> None:
    rng = np.random.default_rng(30)
    N, D = 8, 5
    gamma = rng.standard_normal(D)
    beta = rng.standard_normal(D)
    bn_param: dict = {"mode": "train", "momentum": momentum, "eps": eps}
    bn = torch_batchnorm(D, gamma, beta, momentum, eps).train()
    for step in range(3):
        x = 2.0 * rng.standard_normal((N, D)) + step
        out, _ = layers.batchnorm_forward(x, gamma, beta, bn_param)
        assert_torch_close(out, bn(t(x)))
        assert_torch_close(bn_param["running_mean"], bn.running_mean)
        assert_torch_close(bn_param["running_var"], bn.running_var)


def test_batchnorm_creates_missing_running_stats_as_torch_does() -> None:
    rng = np.random.default_rng(31)
    x = rng.standard_normal((6, 4))
    bn_param: dict = {"mode": "train"}
    rm, rv = torch.zeros(4, dtype=torch.float64), torch.ones(4, dtype=torch.float64)
    layers.batchnorm_forward(x, np.ones(4), np.zeros(4), bn_param)
    F.batch_norm(t(x), rm, rv, training=True, momentum=0.1, eps=1e-5)
    assert_torch_close(bn_param["running_mean"], rm)
    assert_torch_close(bn_param["running_var"], rv)


def test_batchnorm_test_mode_uses_running_stats() -> None:
    rng = np.random.default_rng(32)
    N, D = 7, 4
    x = rng.standard_normal((N, D))
    gamma, beta = rng.standard_normal(D), rng.standard_normal(D)
    running_mean = rng.standard_normal(D)
    running_var = rng.uniform(0.5, 2.0, D)
    bn_param = {"mode": "test", "running_mean": running_mean.copy(), "running_var": running_var}
    out, _ = layers.batchnorm_forward(x, gamma, beta, bn_param)
    expected = F.batch_norm(
        t(x), t(running_mean), t(running_var), t(gamma), t(beta), training=False, eps=1e-5
    )
    assert_torch_close(out, expected)
    np.testing.assert_array_equal(bn_param["running_mean"], running_mean)


@pytest.mark.parametrize("mode", ["train", "test"])
def test_batchnorm_backward_matches_torch_autograd(mode: str) -> None:
    rng = np.random.default_rng(33)
    N, D = 6, 4
    x = 3.0 * rng.standard_normal((N, D)) + 1.0
    gamma, beta = rng.standard_normal(D), rng.standard_normal(D)
    dout = rng.standard_normal((N, D))
    running_mean, running_var = rng.standard_normal(D), rng.uniform(0.5, 2.0, D)
    bn_param = {"mode": mode, "running_mean": running_mean, "running_var": running_var}
    _, cache = layers.batchnorm_forward(x, gamma, beta, bn_param)
    dx, dgamma, dbeta = layers.batchnorm_backward(dout, cache)

    tx, tg, tb = t(x, True), t(gamma, True), t(beta, True)
    tout = F.batch_norm(
        tx, t(running_mean), t(running_var), tg, tb, training=(mode == "train"), eps=1e-5
    )
    tout.backward(t(dout))
    assert_torch_close(dx, tx.grad)
    assert_torch_close(dgamma, tg.grad)
    assert_torch_close(dbeta, tb.grad)


@pytest.mark.parametrize("mode", ["train", "test"])
def test_batchnorm_backward_matches_finite_differences(mode: str) -> None:
    rng = np.random.default_rng(34)
    N, D = 5, 3
    x = 2.0 * rng.standard_normal((N, D)) + 0.5
    gamma, beta = rng.standard_normal(D), rng.standard_normal(D)
    dout = rng.standard_normal((N, D))
    stats = {"running_mean": rng.standard_normal(D), "running_var": rng.uniform(0.5, 2.0, D)}

    def forward(xv: np.ndarray, gv: np.ndarray, bv: np.ndarray) -> np.ndarray:
        return layers.batchnorm_forward(xv, gv, bv, {"mode": mode, **stats})[0]

    _, cache = layers.batchnorm_forward(x, gamma, beta, {"mode": mode, **stats})
    dx, dgamma, dbeta = layers.batchnorm_backward(dout, cache)
    num_dx = eval_numerical_gradient_array(lambda v: forward(v, gamma, beta), x, dout)
    num_dg = eval_numerical_gradient_array(lambda v: forward(x, v, beta), gamma, dout)
    num_db = eval_numerical_gradient_array(lambda v: forward(x, gamma, v), beta, dout)
    assert rel_error(dx, num_dx) < FD_REL_TOL
    assert rel_error(dgamma, num_dg) < FD_REL_TOL
    assert rel_error(dbeta, num_db) < FD_REL_TOL


@pytest.mark.parametrize(
    ("bn_param", "x", "match"),
    [
        ({"mode": "eval"}, np.ones((4, 2)), "'train' or 'test'"),
        ({}, np.ones((4, 2)), "'train' or 'test'"),
        ({"mode": "train"}, np.ones((1, 2)), "at least 2"),
    ],
)
def test_batchnorm_rejects_bad_arguments(bn_param: dict, x: np.ndarray, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        layers.batchnorm_forward(x, np.ones(2), np.zeros(2), bn_param)


# ---------------------------------------------------------------------- convolution

CONVS = {
    "naive": (layers.conv_forward_naive, layers.conv_backward_naive),
    "vectorised": (layers.conv_forward, layers.conv_backward),
}
# (x shape, w shape, stride, pad): every combination fits exactly.
CONV_CASES = [
    ((2, 3, 5, 5), (4, 3, 3, 3), 1, 0),
    ((2, 3, 5, 5), (4, 3, 3, 3), 1, 1),
    ((2, 2, 7, 5), (3, 2, 3, 3), 2, 1),
    ((1, 3, 6, 8), (2, 3, 2, 4), 2, 0),
    ((2, 1, 6, 7), (2, 1, 4, 3), 1, 2),
]


@pytest.mark.parametrize("impl", CONVS)
@pytest.mark.parametrize(("x_shape", "w_shape", "stride", "pad"), CONV_CASES)
def test_conv_forward_and_backward_match_torch(
    impl: str, x_shape: tuple, w_shape: tuple, stride: int, pad: int
) -> None:
    forward, backward = CONVS[impl]
    rng = np.random.default_rng(40)
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal(w_shape)
    b = rng.standard_normal(w_shape[0])
    out, cache = forward(x, w, b, stride=stride, pad=pad)

    tx, tw, tb = t(x, True), t(w, True), t(b, True)
    tout = F.conv2d(tx, tw, tb, stride=stride, padding=pad)
    assert out.shape == tuple(tout.shape)
    assert_torch_close(out, tout)

    dout = rng.standard_normal(out.shape)
    dx, dw, db = backward(dout, cache)
    tout.backward(t(dout))
    assert_torch_close(dx, tx.grad)
    assert_torch_close(dw, tw.grad)
    assert_torch_close(db, tb.grad)


@pytest.mark.parametrize("impl", CONVS)
@pytest.mark.parametrize(("stride", "pad"), [(1, 1), (2, 1)])
def test_conv_backward_matches_finite_differences(impl: str, stride: int, pad: int) -> None:
    forward, backward = CONVS[impl]
    rng = np.random.default_rng(41)
    x = rng.standard_normal((2, 2, 5, 5))
    w = rng.standard_normal((3, 2, 3, 3))
    b = rng.standard_normal(3)
    out, cache = forward(x, w, b, stride=stride, pad=pad)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = backward(dout, cache)

    def f_x(v: np.ndarray) -> np.ndarray:
        return forward(v, w, b, stride=stride, pad=pad)[0]

    def f_w(v: np.ndarray) -> np.ndarray:
        return forward(x, v, b, stride=stride, pad=pad)[0]

    def f_b(v: np.ndarray) -> np.ndarray:
        return forward(x, w, v, stride=stride, pad=pad)[0]

    assert rel_error(dx, eval_numerical_gradient_array(f_x, x, dout)) < FD_REL_TOL
    assert rel_error(dw, eval_numerical_gradient_array(f_w, w, dout)) < FD_REL_TOL
    assert rel_error(db, eval_numerical_gradient_array(f_b, b, dout)) < FD_REL_TOL


@pytest.mark.parametrize(("x_shape", "w_shape", "stride", "pad"), CONV_CASES)
def test_naive_and_vectorised_conv_agree(
    x_shape: tuple, w_shape: tuple, stride: int, pad: int
) -> None:
    rng = np.random.default_rng(42)
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal(w_shape)
    b = rng.standard_normal(w_shape[0])
    out_n, cache_n = layers.conv_forward_naive(x, w, b, stride=stride, pad=pad)
    out_v, cache_v = layers.conv_forward(x, w, b, stride=stride, pad=pad)
    np.testing.assert_allclose(out_v, out_n, rtol=0, atol=NAIVE_VS_VEC_ATOL)
    dout = rng.standard_normal(out_n.shape)
    for g_n, g_v in zip(
        layers.conv_backward_naive(dout, cache_n), layers.conv_backward(dout, cache_v), strict=True
    ):
        assert g_n.shape == g_v.shape
        np.testing.assert_allclose(g_v, g_n, rtol=0, atol=NAIVE_VS_VEC_ATOL)


NOTES_INPUT = np.array([[1, 2, 3, 0], [0, 1, 2, 3], [3, 0, 1, 2], [2, 3, 0, 1]], dtype=float)
NOTES_KERNEL = np.array([[2, 0, 1], [0, 1, 2], [1, 0, 2]], dtype=float)


@pytest.mark.parametrize("impl", CONVS)
def test_notes_worked_example_convolution(impl: str) -> None:
    """Lecture notes, convolution worked example:

    "the 4x4 input [[1,2,3,0],[0,1,2,3],[3,0,1,2],[2,3,0,1]] with the 3x3 kernel
    [[2,0,1],[0,1,2],[1,0,2]] gives [[15, 16], [6, 15]]".
    Integer data: the result must be exact.
    """
    forward, _ = CONVS[impl]
    out, _ = forward(NOTES_INPUT[None, None], NOTES_KERNEL[None, None], np.zeros(1))
    np.testing.assert_array_equal(out[0, 0], [[15, 16], [6, 15]])


@pytest.mark.parametrize("impl", CONVS)
def test_notes_worked_example_convolution_with_padding(impl: str) -> None:
    """Lecture notes, same example "with padding 1 the notes give the 4x4 map
    [[7,12,10,2],[4,15,16,10],[10,6,15,6],[8,10,4,3]]".

    torch.nn.functional.conv2d(padding=1) gives the same map (checked here too).
    """
    forward, _ = CONVS[impl]
    expected = [[7, 12, 10, 2], [4, 15, 16, 10], [10, 6, 15, 6], [8, 10, 4, 3]]
    out, _ = forward(NOTES_INPUT[None, None], NOTES_KERNEL[None, None], np.zeros(1), pad=1)
    np.testing.assert_array_equal(out[0, 0], expected)
    torch_out = F.conv2d(t(NOTES_INPUT[None, None]), t(NOTES_KERNEL[None, None]), padding=1)
    np.testing.assert_array_equal(torch_out[0, 0].numpy(), expected)


def test_notes_worked_example_output_size() -> None:
    """Lecture notes, output size formula: "28x31 input, pad 2, stride 3, 5x5 filter
    gives 10x11" ((28 + 4 - 5)/3 + 1 = 10, (31 + 4 - 5)/3 + 1 = 11)."""
    assert layers.conv_output_size(28, 31, 5, 5, stride=3, pad=2) == (10, 11)
    out, _ = layers.conv_forward(
        np.zeros((1, 1, 28, 31)), np.zeros((2, 1, 5, 5)), np.zeros(2), stride=3, pad=2
    )
    assert out.shape == (1, 2, 10, 11)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((5, 5, 2, 2, 2, 0), "not divisible by stride 2"),
        ((5, 6, 3, 3, 2, 0), "along width"),
        ((3, 3, 5, 5, 1, 0), "larger than the padded input"),
        ((3, 3, 5, 5, 1, 0), "height"),
        ((4, 4, 3, 3, 0, 0), "stride must be a positive"),
        ((4, 4, 3, 3, 1, -1), "pad must be a non-negative"),
    ],
)
def test_conv_output_size_rejects_sizes_that_do_not_fit(args: tuple, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        layers.conv_output_size(*args)


def test_conv_output_size_accepts_filter_equal_to_padded_input() -> None:
    assert layers.conv_output_size(3, 3, 5, 5, stride=1, pad=1) == (1, 1)


@pytest.mark.parametrize("impl", CONVS)
def test_conv_raises_the_size_error(impl: str) -> None:
    forward, _ = CONVS[impl]
    with pytest.raises(ValueError, match="not divisible by stride 2"):
        forward(np.zeros((1, 1, 6, 6)), np.zeros((1, 1, 3, 3)), np.zeros(1), stride=2)
    with pytest.raises(ValueError, match="larger than the padded input"):
        forward(np.zeros((1, 1, 2, 2)), np.zeros((1, 1, 3, 3)), np.zeros(1))


@pytest.mark.parametrize("impl", CONVS)
def test_conv_rejects_channel_mismatch(impl: str) -> None:
    forward, _ = CONVS[impl]
    with pytest.raises(ValueError, match="channels"):
        forward(np.zeros((1, 2, 4, 4)), np.zeros((1, 3, 3, 3)), np.zeros(1))


# -------------------------------------------------------------------------- pooling

# (x shape, pool, stride): non-overlapping, overlapping and gapped windows.
POOL_CASES = [
    ((2, 3, 4, 6), 2, 2),
    ((2, 2, 5, 5), 3, 1),
    ((1, 2, 5, 7), 3, 2),
    ((2, 1, 5, 5), 2, 3),
]


@pytest.mark.parametrize(("x_shape", "pool", "stride"), POOL_CASES)
def test_max_pool_matches_torch(x_shape: tuple, pool: int, stride: int) -> None:
    rng = np.random.default_rng(50)
    x = rng.standard_normal(x_shape)
    out, cache = layers.max_pool_forward(x, pool=pool, stride=stride)
    tx = t(x, True)
    tout = F.max_pool2d(tx, pool, stride)
    assert_torch_close(out, tout)
    dout = rng.standard_normal(out.shape)
    tout.backward(t(dout))
    assert_torch_close(layers.max_pool_backward(dout, cache), tx.grad)


@pytest.mark.parametrize(("x_shape", "pool", "stride"), POOL_CASES)
def test_avg_pool_matches_torch(x_shape: tuple, pool: int, stride: int) -> None:
    rng = np.random.default_rng(51)
    x = rng.standard_normal(x_shape)
    out, cache = layers.avg_pool_forward(x, pool=pool, stride=stride)
    tx = t(x, True)
    tout = F.avg_pool2d(tx, pool, stride)
    assert_torch_close(out, tout)
    dout = rng.standard_normal(out.shape)
    tout.backward(t(dout))
    assert_torch_close(layers.avg_pool_backward(dout, cache), tx.grad)


@pytest.mark.parametrize(("x_shape", "pool", "stride"), POOL_CASES)
def test_pool_backward_matches_finite_differences(x_shape: tuple, pool: int, stride: int) -> None:
    rng = np.random.default_rng(52)
    x = distinct_values(rng, x_shape)
    for forward, backward in [
        (layers.max_pool_forward, layers.max_pool_backward),
        (layers.avg_pool_forward, layers.avg_pool_backward),
    ]:
        out, cache = forward(x, pool=pool, stride=stride)
        dout = rng.standard_normal(out.shape)
        dx = backward(dout, cache)
        num_dx = eval_numerical_gradient_array(
            lambda v, fwd=forward: fwd(v, pool=pool, stride=stride)[0], x, dout
        )
        assert rel_error(dx, num_dx) < FD_REL_TOL


@pytest.mark.parametrize(("pool", "stride"), [(2, 2), (3, 1), (2, 1)])
def test_max_pool_ties_go_to_the_first_maximum_like_torch(pool: int, stride: int) -> None:
    """Ties: small integers make many equal maxima; torch's CPU max_pool2d sends
    each window's gradient to its first maximum in row-major order."""
    rng = np.random.default_rng(53)
    x = rng.integers(0, 3, size=(2, 2, 6, 6)).astype(float)
    out, cache = layers.max_pool_forward(x, pool=pool, stride=stride)
    dout = rng.standard_normal(out.shape)
    tx = t(x, True)
    F.max_pool2d(tx, pool, stride).backward(t(dout))
    assert_torch_close(layers.max_pool_backward(dout, cache), tx.grad)


def test_max_pool_tie_convention_by_hand() -> None:
    """A window of four equal values routes its gradient to its top-left entry; in
    [[1, 3], [3, 0]] the first 3 in row-major order (top right) gets it."""
    x = np.array([[5.0, 5.0, 1.0, 3.0], [5.0, 5.0, 3.0, 0.0]])[None, None]
    _, cache = layers.max_pool_forward(x)
    dx = layers.max_pool_backward(np.array([[[[1.0, 2.0]]]]), cache)
    np.testing.assert_array_equal(dx[0, 0], [[1.0, 0.0, 0.0, 2.0], [0.0, 0.0, 0.0, 0.0]])


def test_notes_worked_example_max_pooling() -> None:
    """Lecture notes: "2x2 max pooling (stride 2) of
    [[1,2,1,0],[0,1,2,3],[3,0,1,2],[2,4,0,1]] gives [[2, 3], [4, 2]]"."""
    x = np.array([[1, 2, 1, 0], [0, 1, 2, 3], [3, 0, 1, 2], [2, 4, 0, 1]], dtype=float)
    out, _ = layers.max_pool_forward(x[None, None], pool=2, stride=2)
    np.testing.assert_array_equal(out[0, 0], [[2, 3], [4, 2]])


@pytest.mark.parametrize("forward", [layers.max_pool_forward, layers.avg_pool_forward])
def test_pooling_raises_the_conv_size_error(forward: Callable) -> None:
    with pytest.raises(ValueError, match="not divisible by stride 2"):
        forward(np.zeros((1, 1, 5, 5)), pool=2, stride=2)
    with pytest.raises(ValueError, match="larger than the padded input"):
        forward(np.zeros((1, 1, 2, 2)), pool=3, stride=1)
