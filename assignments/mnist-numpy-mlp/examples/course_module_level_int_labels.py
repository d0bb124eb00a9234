# ruff: noqa  (written the way the course's students write, on purpose)
# Homework 1 - numpy MLP, trained at module level (no main block), data from ./mnist/.
# Separate biases, one hidden layer, the loss averaged over the batch with the 1/N in
# loss_fn_prime, integer labels given to step() (one-hot inside), plt.show() at the end.
import numpy as np
from tqdm import tqdm
import matplotlib.pyplot as plt

X_train, y_train = np.load("mnist/X_train.npy"), np.load("mnist/y_train.npy")
X_val, y_val = np.load("mnist/X_val.npy"), np.load("mnist/y_val.npy")

rng = np.random.default_rng(42)


def relu(x):
    return np.maximum(x, 0)


def relu_prime(x):
    return np.where(x > 0, 1.0, 0.0)


def f(x):
    x = x - np.max(x, axis=-1, keepdims=True)
    return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)


def f_prime(x):
    s = f(x)
    return s * (1 - s)


def loss_fn(y_true, y_pred):
    return float(np.mean(-np.log(np.clip(y_pred[np.arange(len(y_true)), y_true], 1e-15, 1))))


def loss_fn_prime(y_true, y_pred):
    grad = y_pred.copy()
    grad[np.arange(len(y_true)), y_true] -= 1
    return grad / len(y_true)


def init_weights(shape):
    return rng.normal(0, np.sqrt(2 / shape[0]), size=shape)


class Network:
    def __init__(self, input_size, hidden_size, output_size, lr=0.01):
        self.W1 = init_weights((input_size, hidden_size))
        self.b1 = np.zeros(hidden_size)
        self.W2 = init_weights((hidden_size, output_size))
        self.b2 = np.zeros(output_size)
        self.lr = lr

    def forward(self, x):
        self.h = x @ self.W1 + self.b1
        self.a = relu(self.h)
        return f(self.a @ self.W2 + self.b2)

    def step(self, x_batch, y_batch):
        p = self.forward(x_batch)
        g2 = loss_fn_prime(y_batch, p)
        g1 = (g2 @ self.W2.T) * relu_prime(self.h)
        self.W2 -= self.lr * self.a.T @ g2
        self.b2 -= self.lr * g2.sum(0)
        self.W1 -= self.lr * x_batch.T @ g1
        self.b1 -= self.lr * g1.sum(0)
        return loss_fn(y_batch, p)


net = Network(784, 100, 10, lr=0.1)
val_history = []
for epoch in tqdm(range(10)):
    order = rng.permutation(len(X_train))
    for start in range(0, len(X_train), 64):
        batch = order[start : start + 64]
        net.step(X_train[batch], y_train[batch])
    val_history.append(np.mean(np.argmax(net.forward(X_val), 1) == y_val))
print("validation accuracy per epoch:", np.round(val_history, 4))
plt.plot(val_history)
plt.show()
