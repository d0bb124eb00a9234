# ruff: noqa  (written the way the course's students write, on purpose)
# Homework 1 - MLP on MNIST with numpy (course template style)
# A 3-layer ReLU network; the bias of the first layer is folded into W1 as an extra
# input column of ones, added to the data before training. Softmax is called softmax,
# the loss is computed per sample and averaged inside step(), and the 1/N is there too.
from tqdm import tqdm
import numpy as np
import matplotlib.pyplot as plt

X_train = np.load("./data/X_train.npy")
y_train = np.load("./data/y_train.npy")
X_val = np.load("./data/X_val.npy")
y_val = np.load("./data/y_val.npy")
X_test = np.load("./data/X_test.npy")
y_test = np.load("./data/y_test.npy")

np.random.seed(0)


def add_bias(X):
    return np.hstack([X, np.ones((X.shape[0], 1))])


def relu(x):
    return np.maximum(0, x)


def relu_prime(x):
    return (x > 0).astype(float)


def softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def loss_fn(y_true, y_pred):
    # per-sample cross-entropy
    return -np.sum(y_true * np.log(y_pred + 1e-12), axis=1)


def loss_fn_prime(y_true, y_pred):
    # gradient w.r.t. the logits, per sample (the 1/N is applied in step)
    return y_pred - y_true


class Network:
    def __init__(self, sizes, lr=0.1):
        self.lr = lr
        # sizes[0] already counts the bias column
        self.W1 = np.random.randn(sizes[0], sizes[1]) * np.sqrt(2 / sizes[0])
        self.W2 = np.random.randn(sizes[1], sizes[2]) * np.sqrt(2 / sizes[1])
        self.b2 = np.zeros(sizes[2])
        self.W3 = np.random.randn(sizes[2], sizes[3]) * np.sqrt(2 / sizes[2])
        self.b3 = np.zeros(sizes[3])

    def forward(self, x):
        self.x = x
        self.z1 = x @ self.W1
        self.a1 = relu(self.z1)
        self.z2 = self.a1 @ self.W2 + self.b2
        self.a2 = relu(self.z2)
        self.z3 = self.a2 @ self.W3 + self.b3
        return softmax(self.z3)

    def step(self, x, y):
        out = self.forward(x)
        n = x.shape[0]
        loss = np.mean(loss_fn(y, out))
        d3 = loss_fn_prime(y, out) / n
        dW3 = self.a2.T @ d3
        db3 = d3.sum(axis=0)
        d2 = (d3 @ self.W3.T) * relu_prime(self.z2)
        dW2 = self.a1.T @ d2
        db2 = d2.sum(axis=0)
        d1 = (d2 @ self.W2.T) * relu_prime(self.z1)
        dW1 = self.x.T @ d1
        self.W3 -= self.lr * dW3
        self.b3 -= self.lr * db3
        self.W2 -= self.lr * dW2
        self.b2 -= self.lr * db2
        self.W1 -= self.lr * dW1
        return loss


if __name__ == "__main__":
    Xtr, Xva, Xte = add_bias(X_train), add_bias(X_val), add_bias(X_test)
    Ytr = np.eye(10)[y_train]
    net = Network([785, 128, 64, 10], lr=0.1)
    history = []
    for epoch in range(10):
        perm = np.random.permutation(len(Xtr))
        losses = []
        for i in tqdm(range(0, len(Xtr), 64), desc=f"epoch {epoch + 1}"):
            idx = perm[i : i + 64]
            losses.append(net.step(Xtr[idx], Ytr[idx]))
        val_acc = np.mean(net.forward(Xva).argmax(axis=1) == y_val)
        history.append(np.mean(losses))
        print(f"epoch {epoch + 1}: loss {np.mean(losses):.4f}, val acc {val_acc:.4f}")
    print("test acc", np.mean(net.forward(Xte).argmax(axis=1) == y_test))
    plt.plot(history)
    plt.xlabel("epoch")
    plt.ylabel("loss")
    plt.savefig("loss.png")
