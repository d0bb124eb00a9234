# Homework 1 - MLP on MNIST with numpy
# A script in the style students hand in: it loads the data, trains for 10
# epochs at module level, prints as it goes, and leaves the network in `net`.
import time

import numpy as np

# ---- load the data ----
X_train = np.load("mnist/X_train.npy")
y_train = np.load("mnist/y_train.npy")
X_val = np.load("mnist/X_val.npy")
y_val = np.load("mnist/y_val.npy")
X_test = np.load("mnist/X_test.npy")
y_test = np.load("mnist/y_test.npy")
print("train:", X_train.shape, "val:", X_val.shape, "test:", X_test.shape)


def one_hot(y, num_classes=10):
    out = np.zeros((y.shape[0], num_classes))
    out[np.arange(y.shape[0]), y] = 1
    return out


def relu(x):
    return np.maximum(0, x)


def relu_prime(x):
    return (x > 0).astype(float)


def f(x):
    # softmax, shifted for stability
    exps = np.exp(x - np.max(x, axis=1, keepdims=True))
    return exps / np.sum(exps, axis=1, keepdims=True)


def f_prime(x):
    s = f(x)
    return s * (1 - s)


def loss_fn(y_true, y_pred):
    y_pred = np.clip(y_pred, 1e-12, 1.0)
    return -np.sum(y_true * np.log(y_pred)) / y_true.shape[0]


def loss_fn_prime(y_true, y_pred):
    return (y_pred - y_true) / y_true.shape[0]


def init_weights(shape):
    return np.random.randn(*shape) * np.sqrt(2.0 / shape[0])


class Network:
    def __init__(self, input_size, hidden_size, output_size, lr=0.01):
        self.w1 = init_weights((input_size, hidden_size))
        self.b1 = np.zeros((1, hidden_size))
        self.w2 = init_weights((hidden_size, output_size))
        self.b2 = np.zeros((1, output_size))
        self.lr = lr

    def forward(self, x):
        self.x = x
        self.z1 = x @ self.w1 + self.b1
        self.a1 = relu(self.z1)
        self.z2 = self.a1 @ self.w2 + self.b2
        self.a2 = f(self.z2)
        return self.a2

    def step(self, x_batch, y_batch):
        y_pred = self.forward(x_batch)
        loss = loss_fn(y_batch, y_pred)
        dz2 = loss_fn_prime(y_batch, y_pred)
        dw2 = self.a1.T @ dz2
        db2 = np.sum(dz2, axis=0, keepdims=True)
        da1 = dz2 @ self.w2.T
        dz1 = da1 * relu_prime(self.z1)
        dw1 = self.x.T @ dz1
        db1 = np.sum(dz1, axis=0, keepdims=True)
        self.w1 -= self.lr * dw1
        self.b1 -= self.lr * db1
        self.w2 -= self.lr * dw2
        self.b2 -= self.lr * db2
        return loss


def accuracy(net, X, y):
    return np.mean(np.argmax(net.forward(X), axis=1) == y)


# ---- training ----
net = Network(784, 128, 10, lr=0.1)
epochs = 10
batch_size = 64
Y_train = one_hot(y_train)

start = time.time()
for epoch in range(epochs):
    perm = np.random.permutation(X_train.shape[0])
    losses = []
    for i in range(0, X_train.shape[0], batch_size):
        idx = perm[i : i + batch_size]
        losses.append(net.step(X_train[idx], Y_train[idx]))
    print(
        f"Epoch {epoch + 1}/{epochs} - loss: {np.mean(losses):.4f} - "
        f"val acc: {accuracy(net, X_val, y_val):.4f} - {time.time() - start:.1f}s"
    )

print(f"Test accuracy: {accuracy(net, X_test, y_test):.4f}")
