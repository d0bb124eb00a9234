"""Homework 1, the instructor's solution: a two-layer perceptron for MNIST in NumPy.

The network is x -> relu(x @ W1 + b1) -> f(. @ W2 + b2), f the row softmax,
trained on the mean cross-entropy of a batch with plain SGD. Weights are
(fan_in, fan_out) matrices so that a batch of row vectors multiplies from the
left. Everything is float64; the data files are float32 and are promoted.

It has no training loop of its own: the grader trains its Network (the module
form). A file with an `if __name__ == "__main__":` block that trains is graded by
running it as a script instead.
"""

import numpy as np

HIDDEN_SIZE = 128
LEARNING_RATE = 0.1

# One seeded generator for the whole module, so that grading the solution
# twice gives bit-identical networks (the validator checks determinism).
_rng = np.random.default_rng(20240901)


def relu(x):
    """max(x, 0) elementwise; same shape as x."""
    return np.maximum(np.asarray(x, dtype=np.float64), 0.0)


def relu_prime(x):
    """1 where x > 0, else 0 (so relu_prime(0) = 0); same shape as x."""
    return np.where(np.asarray(x) > 0, 1.0, 0.0)


def f(x):
    """Softmax of every row (last axis) of x; each row of the result sums to 1."""
    x = np.asarray(x, dtype=np.float64)
    # exp of the shifted logits is at most 1, so large logits cannot overflow.
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def f_prime(x):
    """Elementwise softmax derivative s * (1 - s), s = f(x): the Jacobian's diagonal."""
    s = f(x)
    return s * (1.0 - s)


def loss_fn(y_true, y_pred):
    """Mean over the batch of -sum_c y_true[i, c] log y_pred[i, c]; a Python float."""
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    # Clipping only touches probabilities below 1e-300, where the one-hot weight
    # is 0 in practice; it keeps 0 * log(0) from turning into NaN.
    log_p = np.log(np.clip(y_pred, 1e-300, 1.0))
    return float(-np.sum(y_true * log_p) / y_true.shape[0])


def loss_fn_prime(y_true, y_pred):
    """Gradient of loss_fn(y_true, f(z)) with respect to the logits z: (y_pred - y_true) / N."""
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    return (y_pred - y_true) / y_true.shape[0]


def init_weights(shape):
    """He initialisation: normal with mean 0 and std sqrt(2 / shape[0]) (shape[0] = fan_in)."""
    fan_in = shape[0]
    return _rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)


class Network:
    """input_size -> hidden_size (ReLU) -> output_size (softmax), trained by step()."""

    def __init__(self, input_size, hidden_size, output_size, lr=0.01):
        self.lr = lr
        self.W1 = init_weights((input_size, hidden_size))
        self.b1 = np.zeros(hidden_size)
        self.W2 = init_weights((hidden_size, output_size))
        self.b2 = np.zeros(output_size)

    def _forward(self, x):
        x = np.asarray(x, dtype=np.float64)
        z1 = x @ self.W1 + self.b1
        a1 = relu(z1)
        y_pred = f(a1 @ self.W2 + self.b2)
        return x, z1, a1, y_pred

    def forward(self, x):
        """Class probabilities (N, output_size) for a batch x (N, input_size)."""
        return self._forward(x)[3]

    def step(self, x_batch, y_batch):
        """One SGD step on the mean cross-entropy of the batch; y_batch is one-hot (N, C)."""
        x, z1, a1, y_pred = self._forward(x_batch)
        dz2 = loss_fn_prime(y_batch, y_pred)
        dW2 = a1.T @ dz2
        db2 = dz2.sum(axis=0)
        dz1 = (dz2 @ self.W2.T) * relu_prime(z1)
        dW1 = x.T @ dz1
        db1 = dz1.sum(axis=0)
        self.W1 -= self.lr * dW1
        self.b1 -= self.lr * db1
        self.W2 -= self.lr * dW2
        self.b2 -= self.lr * db2
        return loss_fn(y_batch, y_pred)
