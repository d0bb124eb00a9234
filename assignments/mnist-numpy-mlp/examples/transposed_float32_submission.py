"""A correct module-form submission that looks nothing like the solution inside.

It exists to show that the step check finds parameters by behaviour, not by
name or layout: weights stored (fan_out, fan_in) under other names, biases as
column vectors, float32 parameters, a batch-last layout, caches and gradient
buffers kept as array attributes, and gradients of the loss summed over the
batch (with a learning rate scaled to match). It should score full marks.
"""

import numpy as np

HIDDEN_SIZE = 100
LEARNING_RATE = 0.1 / 64  # the gradients below are of the summed loss

_gen = np.random.default_rng(7)


def relu(x):
    return np.where(x > 0, x, 0.0).astype(np.float32)


def relu_prime(x):
    return (np.asarray(x) > 0).astype(np.float32)


def f(x):
    x = np.asarray(x, dtype=np.float32)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def f_prime(x):
    s = f(x)
    return s - s * s


def loss_fn(y_true, y_pred):
    picked = np.sum(np.asarray(y_true) * np.asarray(y_pred), axis=1)
    return float(-np.mean(np.log(np.maximum(picked, 1e-30))))


def loss_fn_prime(y_true, y_pred):
    return (np.asarray(y_pred) - np.asarray(y_true)) / len(y_true)


def init_weights(shape):
    fan_in, fan_out = shape
    return (_gen.standard_normal(shape) * np.sqrt(2.0 / (fan_in + fan_out))).astype(np.float32)


class Network:
    def __init__(self, input_size, hidden_size, output_size, lr=0.01):
        self.learning_rate = lr
        self.weights_hidden = init_weights((input_size, hidden_size)).T.copy()  # (H, D)
        self.bias_hidden = np.zeros((hidden_size, 1), dtype=np.float32)
        self.weights_out = init_weights((hidden_size, output_size)).T.copy()  # (C, H)
        self.bias_out = np.zeros((output_size, 1), dtype=np.float32)
        self.grad_weights_hidden = np.zeros_like(self.weights_hidden)
        self.grad_weights_out = np.zeros_like(self.weights_out)

    def _columns(self, x):
        self.inputs = np.asarray(x, dtype=np.float32).T  # (D, N)
        self.hidden_pre = self.weights_hidden @ self.inputs + self.bias_hidden
        self.hidden = relu(self.hidden_pre)
        scores = self.weights_out @ self.hidden + self.bias_out
        return f(scores.T)

    def forward(self, x):
        return self._columns(x)

    def step(self, x_batch, y_batch):
        probs = self._columns(x_batch)
        d_scores = (probs - np.asarray(y_batch, dtype=np.float32)).T  # (C, N), summed loss
        self.grad_weights_out = d_scores @ self.hidden.T
        d_hidden = (self.weights_out.T @ d_scores) * relu_prime(self.hidden_pre)
        self.grad_weights_hidden = d_hidden @ self.inputs.T
        lr = np.float32(self.learning_rate)
        self.weights_out -= lr * self.grad_weights_out
        self.bias_out -= lr * d_scores.sum(axis=1, keepdims=True)
        self.weights_hidden -= lr * self.grad_weights_hidden
        self.bias_hidden -= lr * d_hidden.sum(axis=1, keepdims=True)
