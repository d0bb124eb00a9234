"""reference.networks: the NumPy MLP against PyTorch autograd and finite differences,
its SGD trainer, and the PyTorch models.
"""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Iterator

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812 (the PyTorch idiom)

from reference.gradcheck import eval_numerical_gradient, rel_error
from reference.networks import MLP, TrainingHistory, accuracy, train_mlp
from tests.conftest import require_dataset

TORCH_RTOL = 1e-10  # same float64 maths in a different order: agreement to ~1e-14 expected
NUMERIC_REL_ERROR = 1e-6  # centred differences, h = 1e-5, float64
ACTIVATIONS = ["relu", "sigmoid", "tanh"]


@pytest.fixture
def one_thread() -> Iterator[None]:
    """Torch on one thread: deterministic results and no fight with other tests for 2 cores."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def torch_mlp_loss(
    params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray, activation: str, reg: float
) -> tuple[float, dict[str, np.ndarray], np.ndarray]:
    """The same network written directly in PyTorch float64: loss, autograd grads, scores."""
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    act = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}[activation]
    n_layers = len(params) // 2
    h = torch.tensor(X, dtype=torch.float64)
    for i in range(1, n_layers):
        h = act(h @ t[f"W{i}"] + t[f"b{i}"])
    scores = h @ t[f"W{n_layers}"] + t[f"b{n_layers}"]
    loss = F.cross_entropy(scores, torch.tensor(y, dtype=torch.long))
    loss = loss + 0.5 * reg * sum((t[f"W{i}"] ** 2).sum() for i in range(1, n_layers + 1))
    loss.backward()
    grads = {k: v.grad.numpy() for k, v in t.items()}
    return float(loss.detach()), grads, scores.detach().numpy()


# ---------------------------------------------------------------------------
# NumPy MLP: loss and gradients


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("reg", [0.0, 0.3])
def test_mlp_matches_torch_autograd(activation: str, reg: float) -> None:
    rng = np.random.default_rng(1)
    model = MLP([6, 7, 5, 4], activation=activation, weight_init=0.5, reg=reg, rng=rng)
    for key in model.params:
        if key.startswith("b"):
            model.params[key] = rng.standard_normal(model.params[key].shape)  # nonzero biases
    X = rng.standard_normal((9, 6))
    y = rng.integers(0, 4, size=9)

    loss, grads = model.loss(X, y)
    t_loss, t_grads, t_scores = torch_mlp_loss(model.params, X, y, activation, reg)

    np.testing.assert_allclose(loss, t_loss, rtol=TORCH_RTOL, atol=0)
    np.testing.assert_allclose(model.loss(X), t_scores, rtol=TORCH_RTOL, atol=1e-13)
    assert set(grads) == {"W1", "b1", "W2", "b2", "W3", "b3"}
    for key, g in grads.items():
        assert g.shape == model.params[key].shape
        np.testing.assert_allclose(g, t_grads[key], rtol=TORCH_RTOL, atol=1e-13, err_msg=key)


def test_mlp_reg_applies_to_weights_only() -> None:
    rng = np.random.default_rng(2)
    model = MLP([3, 4, 2], weight_init=0.5, reg=0.0, rng=rng)
    model.params["b1"] = rng.standard_normal(4)
    X, y = rng.standard_normal((5, 3)), rng.integers(0, 2, size=5)
    loss0, grads0 = model.loss(X, y)
    model.reg = 2.0
    loss2, grads2 = model.loss(X, y)
    # Expected from the definition: 0.5 * reg * (|W1|^2 + |W2|^2); biases untouched.
    w2 = float(np.sum(model.params["W1"] ** 2) + np.sum(model.params["W2"] ** 2))
    np.testing.assert_allclose(loss2 - loss0, 0.5 * 2.0 * w2, rtol=1e-12)
    np.testing.assert_allclose(grads2["W1"] - grads0["W1"], 2.0 * model.params["W1"], atol=1e-12)
    np.testing.assert_array_equal(grads2["b1"], grads0["b1"])


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_mlp_gradients_match_finite_differences(activation: str) -> None:
    rng = np.random.default_rng(3)
    model = MLP([4, 5, 3], activation=activation, weight_init=0.7, reg=0.1, rng=rng)
    model.params["b1"] = 0.3 * rng.standard_normal(5)
    X = rng.standard_normal((6, 4))
    y = rng.integers(0, 3, size=6)
    _, grads = model.loss(X, y)
    for key, param in model.params.items():

        def f(_: np.ndarray) -> float:
            return model.loss(X, y)[0]  # param is perturbed in place, seen through model.params

        numeric = eval_numerical_gradient(f, param, h=1e-5)
        assert rel_error(grads[key], numeric) < NUMERIC_REL_ERROR, key


def test_mlp_accepts_image_shaped_input() -> None:
    rng = np.random.default_rng(4)
    model = MLP([12, 3], rng=rng)
    X = rng.standard_normal((2, 3, 4))
    np.testing.assert_array_equal(model.loss(X), model.loss(X.reshape(2, 12)))
    with pytest.raises(ValueError, match="features"):
        model.loss(rng.standard_normal((2, 5)))


def test_initial_loss_is_log_num_classes_for_small_weights() -> None:
    rng = np.random.default_rng(5)
    model = MLP([50, 40, 10], weight_init=1e-4, rng=rng)
    X = rng.standard_normal((200, 50))
    y = rng.integers(0, 10, size=200)
    loss, _ = model.loss(X, y)
    # Near-zero scores give a uniform softmax: loss = log(C) up to O(weight^2).
    assert abs(loss - math.log(10)) < 1e-3


@pytest.mark.parametrize(
    ("weight_init", "expected_std"),
    [("he", math.sqrt(2 / 400)), ("xavier", math.sqrt(2 / (400 + 300))), (0.05, 0.05)],
)
def test_weight_init_scales(weight_init: str | float, expected_std: float) -> None:
    model = MLP([400, 300, 10], weight_init=weight_init, rng=np.random.default_rng(6))
    W1 = model.params["W1"]
    assert W1.shape == (400, 300) and W1.dtype == np.float64
    # 120,000 normal draws: the sample std is within 1% of the true one with huge margin.
    assert abs(W1.std() / expected_std - 1) < 0.01
    assert abs(W1.mean()) < 0.01 * expected_std * 10
    assert not model.params["b1"].any() and not model.params["b2"].any()


def test_mlp_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError):
        MLP([10])
    with pytest.raises(ValueError):
        MLP([10, 5], activation="softplus")
    with pytest.raises(ValueError):
        MLP([10, 5], weight_init="lecun")
    with pytest.raises(ValueError):
        MLP([10, 5], weight_init=-1.0)


def test_mlp_construction_is_reproducible() -> None:
    a = MLP([5, 4, 3], rng=7)
    b = MLP([5, 4, 3], rng=np.random.default_rng(7))
    c = MLP([5, 4, 3], rng=8)
    np.testing.assert_array_equal(a.params["W1"], b.params["W1"])
    assert not np.array_equal(a.params["W1"], c.params["W1"])


def test_predict_is_argmax_of_torch_scores_across_chunks() -> None:
    rng = np.random.default_rng(9)
    model = MLP([6, 8, 5], activation="tanh", rng=rng)
    X = rng.standard_normal((11, 6))
    _, _, t_scores = torch_mlp_loss(model.params, X, np.zeros(11, dtype=int), "tanh", 0.0)
    pred = model.predict(X, batch_size=4)  # chunks of 4, 4, 3
    assert pred.dtype == np.int64
    np.testing.assert_array_equal(pred, t_scores.argmax(axis=1))


# ---------------------------------------------------------------------------
# Training with plain SGD


def test_one_full_batch_epoch_is_one_sgd_step() -> None:
    rng = np.random.default_rng(10)
    model = MLP([4, 6, 3], activation="sigmoid", weight_init=0.5, reg=0.05, rng=rng)
    X = rng.standard_normal((12, 4))
    y = rng.integers(0, 3, size=12)
    _, t_grads, _ = torch_mlp_loss(model.params, X, y, "sigmoid", 0.05)
    expected = {k: v - 0.2 * t_grads[k] for k, v in model.params.items()}
    history = train_mlp(model, X, y, epochs=1, batch_size=12, learning_rate=0.2, rng=0)
    for key, value in expected.items():
        # A shuffled full batch sums the same rows in another order: rounding only.
        np.testing.assert_allclose(model.params[key], value, rtol=1e-12, atol=1e-14, err_msg=key)
    assert isinstance(history, TrainingHistory)
    assert history.epochs_run == 1 and len(history.batch_loss) == 1


def _blobs(rng: np.random.Generator, n_per_class: int) -> tuple[np.ndarray, np.ndarray]:
    centres = np.array([[0.0, 4.0], [4.0, -2.0], [-4.0, -2.0]])
    X = np.concatenate([c + 0.7 * rng.standard_normal((n_per_class, 2)) for c in centres])
    y = np.repeat(np.arange(3), n_per_class)
    return X, y


def test_training_separates_gaussian_blobs() -> None:
    rng = np.random.default_rng(11)
    X, y = _blobs(rng, 100)
    X_val, y_val = _blobs(rng, 100)
    model = MLP([2, 16, 3], rng=rng)
    history = train_mlp(
        model, X, y, epochs=15, batch_size=16, learning_rate=0.1, rng=12, X_val=X_val, y_val=y_val
    )
    assert history.epochs_run == 15 and len(history.val_acc) == 15
    assert len(history.batch_loss) == 15 * math.ceil(300 / 16)  # the last batch of 300 is short
    assert history.epoch_loss[-1] < 0.5 * history.epoch_loss[0]
    assert accuracy(model.predict(X_val), y_val) >= 0.97
    assert history.val_acc[-1] == accuracy(model.predict(X_val), y_val)


def test_training_is_deterministic_and_stops_early() -> None:
    rng = np.random.default_rng(13)
    X, y = _blobs(rng, 20)
    runs = []
    for seed in (5, 5, 6):
        model = MLP([2, 8, 3], rng=0)
        train_mlp(model, X, y, epochs=2, batch_size=8, rng=seed)
        runs.append(model.params["W1"])
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])

    seen: list[int] = []
    history = train_mlp(
        MLP([2, 8, 3], rng=0),
        X,
        y,
        epochs=10,
        rng=0,
        on_epoch=lambda epoch, h: seen.append(epoch) or epoch == 3,
    )
    assert seen == [1, 2, 3] and history.epochs_run == 3


@pytest.mark.mnist
def test_mlp_smoke_on_genuine_mnist() -> None:
    mnist = require_dataset("mnist")
    X, y = mnist.train_float()
    X_test, y_test = mnist.test_float()
    model = MLP([784, 128, 10], rng=np.random.default_rng(0))
    # 625 SGD steps; seeds 0-3 gave 91.5-92.3% when this threshold was set.
    train_mlp(model, X[:20000], y[:20000], epochs=1, batch_size=32, learning_rate=0.1, rng=1)
    assert accuracy(model.predict(X_test), y_test) >= 0.90


# ---------------------------------------------------------------------------
# PyTorch models


def test_importing_networks_does_not_import_torch() -> None:
    code = "import sys, reference.networks; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


@pytest.mark.parametrize("shape", [(5, 784), (5, 28, 28), (5, 1, 28, 28)])
def test_torch_models_output_shapes(shape: tuple[int, ...]) -> None:
    from reference.networks import LeNet, TorchMLP

    torch.manual_seed(0)
    x = torch.randn(*shape)
    assert TorchMLP()(x).shape == (5, 10)
    assert TorchMLP(784, (32,), 7, dropout=0.0)(x).shape == (5, 7)
    assert LeNet()(x).shape == (5, 10)
    assert LeNet(num_classes=3, channels=(4, 8))(x).shape == (5, 3)
    assert LeNet(channels=(4, 8), batch_norm=True)(x).shape == (5, 10)


def test_model_architectures() -> None:
    from reference.networks import LeNet, TorchMLP

    # LeNet-5 with padded first conv: 156 + 2416 + 48120 + 10164 + 850 parameters.
    assert sum(p.numel() for p in LeNet().parameters()) == 61706
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in LeNet().modules())
    wide = LeNet(channels=(16, 32), batch_norm=True)
    norms = [m for m in wide.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert [m.num_features for m in norms] == [16, 32]
    assert wide.classifier[1].in_features == 32 * 5 * 5
    mlp = TorchMLP(784, (512, 256), 10, dropout=0.2)
    assert sum(p.numel() for p in mlp.parameters()) == 784 * 512 + 512 + 512 * 256 + 256 + 2570
    assert sum(isinstance(m, torch.nn.Dropout) for m in mlp.modules()) == 2


@pytest.mark.parametrize("which", ["mlp", "lenet"])
def test_a_few_adam_steps_reduce_the_loss(which: str, one_thread: None) -> None:
    from reference.networks import LeNet, TorchMLP, train_torch

    # A learnable task: class k is faint noise plus a bright 4x4 square in the k-th position.
    gen = torch.Generator().manual_seed(0)
    y = torch.randint(0, 10, (64,), generator=gen)
    X = 0.1 * torch.rand(64, 1, 28, 28, generator=gen)
    for i, k in enumerate(y.tolist()):
        row, col = divmod(k, 5)
        X[i, 0, 4 + 10 * row : 8 + 10 * row, 2 + 5 * col : 6 + 5 * col] = 1.0
    X, y = X.numpy(), y.numpy()
    torch.manual_seed(0)
    model = TorchMLP(dropout=0.0) if which == "mlp" else LeNet()

    def eval_loss() -> float:
        model.eval()
        with torch.no_grad():
            return float(F.cross_entropy(model(torch.from_numpy(X)), torch.from_numpy(y)))

    before = eval_loss()
    history = train_torch(model, X, y, epochs=10, batch_size=16, lr=1e-3, seed=0)
    assert history.epochs_run == 10 and len(history.batch_loss) == 40
    assert model.training  # train_torch leaves train mode on
    # Measured when written: mlp 2.30 -> 0.003, lenet 2.30 -> 0.63.
    assert eval_loss() < 0.5 * before


def test_train_torch_is_deterministic_and_evaluates(one_thread: None) -> None:
    from reference.networks import TorchMLP, evaluate_torch, train_torch

    gen = torch.Generator().manual_seed(1)
    X = torch.randn(40, 784, generator=gen).numpy()
    y = torch.randint(0, 10, (40,), generator=gen).numpy()
    weights = []
    for _ in range(2):
        torch.manual_seed(3)
        model = TorchMLP(784, (16,), 10, dropout=0.5)
        history = train_torch(model, X, y, epochs=2, batch_size=8, seed=4, X_val=X, y_val=y)
        weights.append(model.net[0].weight.detach().clone())
        assert len(history.val_acc) == 2
    torch.testing.assert_close(weights[0], weights[1], rtol=0, atol=0)

    # evaluate_torch: the fraction of argmax hits in eval mode, training mode restored.
    model.train()
    acc = evaluate_torch(model, X, y, batch_size=7)
    model.eval()
    with torch.no_grad():
        hits = model(torch.from_numpy(X)).argmax(1) == torch.from_numpy(y)
    expected = float(hits.double().mean())
    model.train()
    assert acc == pytest.approx(expected, abs=1e-12)
    evaluate_torch(model, X, y)
    assert model.training


def test_lr_decay_scales_the_rate_after_each_epoch(one_thread: None) -> None:
    from reference.networks import TorchMLP, train_torch

    gen = torch.Generator().manual_seed(2)
    X = torch.randn(32, 784, generator=gen).numpy()
    y = torch.randint(0, 10, (32,), generator=gen).numpy()
    weights = []
    for epochs in (1, 3):
        torch.manual_seed(5)
        model = TorchMLP(784, (16,), 10, dropout=0.0)
        # Decay 0 makes every epoch after the first a no-op: Adam's step is lr times a ratio.
        train_torch(model, X, y, epochs=epochs, batch_size=8, seed=6, lr_decay=0.0)
        weights.append(model.net[0].weight.detach().clone())
    torch.testing.assert_close(weights[0], weights[1], rtol=0, atol=0)
    torch.manual_seed(5)
    model = TorchMLP(784, (16,), 10, dropout=0.0)
    train_torch(model, X, y, epochs=3, batch_size=8, seed=6)
    assert not torch.equal(model.net[0].weight, weights[0])
