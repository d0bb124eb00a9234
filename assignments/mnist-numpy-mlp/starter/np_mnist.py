"""Homework 1: a multi-layer perceptron for MNIST, in NumPy only (torch is not available).

Fill in every function and the Network class. The network is

    x (N, 784) -> z1 = x W1 + b1 -> a1 = relu(z1) -> z2 = a1 W2 + b2 -> f(z2) (N, 10)

with f the softmax of each row, trained with plain mini-batch SGD on the
cross-entropy loss.

Data. Your working directory holds ./mnist/ with float32 images (N, 784) scaled
to [0, 1] and int64 labels (N,):

    mnist/X_train.npy, mnist/y_train.npy   50,000 images to train on
    mnist/X_val.npy,   mnist/y_val.npy      5,000 to tune hyper-parameters on
    mnist/X_test.npy,  mnist/y_test.npy     5,000 PRACTICE test images

All of these come from MNIST's training set. Your grade is measured on MNIST's
genuine test set (10,000 other images), which the grader sends to your
forward() without labels; the practice test split estimates that number.

How you are graded.
- Each function below is called on inputs the grader chooses and compared with
  a reference implementation (tolerance ~1e-7 relative; float32 results pass).
- One step() of a tiny Network (e.g. Network(6, 5, 3, lr=0.1)) is compared
  with a numerical gradient: each parameter must move by -lr * dL/dparameter,
  L the cross-entropy of forward()'s probabilities averaged over the batch (a
  sum over the batch is accepted too, if every gradient uses it). The report
  names the parameter and the entry that is wrong. For this the weights and
  biases must be NumPy array attributes of the network (self.W1, self.b1, ...;
  any names, either orientation) that forward() reads and step() updates.
- Training: the grader builds Network(784, HIDDEN_SIZE, 10, lr=LEARNING_RATE),
  calls step(x_batch, y_batch) for 10 epochs of batches of 64 shuffled training
  images (y_batch one-hot, float (64, 10)), then needs >= 94% test accuracy.
  Change the two constants below if you like. So that a grade can only come
  from a network that learned:
  * the accuracy is computed by the grader from your weights (a two-layer
    network, relu then softmax), and forward() must give exactly that
    network's output;
  * a new Network must start from random weights (about 10% accuracy);
  * the grader repeats every epoch of plain SGD from the weights you had
    before it, and your weights must end where that repeat ends (so step()
    must be plain SGD: no momentum, no Adam, no weight decay).
- Alternatively your file may train at import (module level, not inside
  `if __name__ == "__main__":`) and leave the trained network in a global
  variable, e.g. `net`: then the grader tests that network instead of training
  one (checking that its predictions follow from its weights). The block at the
  bottom of this file is NOT run by the grader.
"""

import numpy as np

HIDDEN_SIZE = 128  # hidden units of the network the grader trains
LEARNING_RATE = 0.1  # SGD step size for that network


def relu(x):
    """max(x, 0) elementwise.

    x: array of any shape. Returns a float array of the same shape.
    """
    raise NotImplementedError


def relu_prime(x):
    """Derivative of relu: 1 where x > 0, else 0. At x = 0 the course takes 0.

    x: array of any shape. Returns a float array of the same shape.
    """
    raise NotImplementedError


def f(x):
    """Softmax of each row: f(x)[i, j] = exp(x[i, j]) / sum_k exp(x[i, k]).

    x: (N, C) logits. Returns (N, C) probabilities, every row summing to 1.
    Must not overflow for logits as large as 1000 (subtract each row's max first).
    """
    raise NotImplementedError


def f_prime(x):
    """Elementwise softmax derivative: s * (1 - s) with s = f(x).

    This is d s[i, j] / d x[i, j], the diagonal of each row's softmax Jacobian
    (the off-diagonal terms -s_j s_k are not included).
    x: (N, C) logits. Returns (N, C).
    """
    raise NotImplementedError


def loss_fn(y_true, y_pred):
    """Cross-entropy averaged over the batch: -(1/N) sum_i sum_c y_true[i, c] log y_pred[i, c].

    y_true: (N, C) one-hot labels. y_pred: (N, C) probabilities (rows of f).
    Returns a float. A probability of exactly 0 for a wrong class must not give
    NaN (0 * log 0 counts as 0).
    """
    raise NotImplementedError


def loss_fn_prime(y_true, y_pred):
    """Gradient of loss_fn(y_true, f(z)) with respect to the logits z: (y_pred - y_true) / N.

    The softmax and the cross-entropy are differentiated together, which is
    why this is so simple. y_true: (N, C) one-hot; y_pred: (N, C) = f(z).
    Returns (N, C).
    """
    raise NotImplementedError


def init_weights(shape):
    """Random weights for a layer: mean 0, standard deviation scaled by the fan-in.

    shape: (fan_in, fan_out). Use He initialisation, normal with std
    sqrt(2 / fan_in), or Xavier, std sqrt(2 / (fan_in + fan_out)).
    (A fixed scale such as 0.01 * randn does not pass the check.)
    Returns a float array of that shape.
    """
    raise NotImplementedError


class Network:
    """input_size -> hidden_size (ReLU) -> output_size (softmax)."""

    def __init__(self, input_size, hidden_size, output_size, lr=0.01):
        """Create the parameters (W1, b1, W2, b2 as array attributes) and keep lr.

        Weights come from init_weights; biases may start at zero.
        """
        raise NotImplementedError

    def forward(self, x):
        """Class probabilities for a batch.

        x: (N, input_size), float32 or float64. Returns (N, output_size),
        every row summing to 1.
        """
        raise NotImplementedError

    def step(self, x_batch, y_batch):
        """One step of SGD on the batch: forward, back-propagate, update.

        x_batch: (N, input_size); y_batch: (N, output_size) one-hot.
        Every parameter p becomes p - lr * dL/dp, L = loss_fn(y_batch, forward(x_batch)).
        May return the loss, a number (the grader ignores it), or nothing.
        """
        raise NotImplementedError


if __name__ == "__main__":
    # Train and evaluate locally: `python np_mnist.py` next to the mnist/ folder.
    X_train, y_train = np.load("mnist/X_train.npy"), np.load("mnist/y_train.npy")
    X_val, y_val = np.load("mnist/X_val.npy"), np.load("mnist/y_val.npy")
    net = Network(784, HIDDEN_SIZE, 10, lr=LEARNING_RATE)
    one_hot = np.eye(10)
    for epoch in range(10):
        order = np.random.permutation(len(X_train))
        for start in range(0, len(X_train), 64):
            batch = order[start : start + 64]
            net.step(X_train[batch], one_hot[y_train[batch]])
        val_acc = np.mean(np.argmax(net.forward(X_val), axis=1) == y_val)
        print(f"epoch {epoch + 1}: validation accuracy {val_acc:.2%}")
