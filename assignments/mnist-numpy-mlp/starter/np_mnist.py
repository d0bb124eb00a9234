"""Homework 1: a multi-layer perceptron for MNIST, in NumPy only (torch is not available).

Fill in every function and the Network class. The network is

    x (N, 784) -> z1 = x W1 + b1 -> a1 = relu(z1) -> z2 = a1 W2 + b2 -> f(z2) (N, 10)

with f the softmax of each row, trained with plain mini-batch SGD on the
cross-entropy loss.

Data. Your working directory holds ./data/ (and the same files in ./mnist/) with
float32 images (N, 784) scaled to [0, 1] and int64 labels (N,):

    X_train.npy, y_train.npy   about 44,000 images to train on
    X_val.npy,   y_val.npy      about 4,000 to tune hyper-parameters on
    X_test.npy,  y_test.npy     about 4,500 PRACTICE test images

All of these come from MNIST's training set (a secret subsample, anew for each
grading, in a secret order). Your grade is measured on MNIST's genuine test set
(10,000 other images, with a little secret noise added, in a secret order, some
of them twice: give the same answer both times), which the grader sends to your
network's forward() without labels; the practice split estimates that number.

How you are graded (the assignment's summary says the same).
- 20 points: your trained network reaches 94% on the genuine test set. When
  the grader runs your file, the classes are renamed and the pixel positions
  shuffled, in secret, anew for each grading: a network that learns from the
  files it is given does exactly as well as on plain MNIST (plots of the images
  look scrambled, and label 3 may mean a seven), while weights trained
  elsewhere or answers looked up get nowhere. Near 94% (within 0.5% above, or
  less than 5 points below) the grader trains twice more and takes the median of three.
- How your network is trained: this file has an `if __name__ == "__main__":`
  block, so the grader runs it as a script and tests the network it leaves in
  the global `net`. Change the loop, the depth, the width, the loss as you
  like. (A file without such a block that only defines Network is trained by
  the grader: Network(784, HIDDEN_SIZE, 10, lr=LEARNING_RATE), 10 epochs of
  step(x_batch, y_batch) with one-hot y_batch, starting at chance; step() must
  then be plain SGD, which the grader checks by replaying every epoch.)
- 25 points: the functions below are called on inputs the grader chooses and
  compared with a reference (tolerance ~1e-7 relative; float32 passes), and one
  step() of a tiny Network(6, 5, 3, lr=0.1) is compared with a numerical
  gradient (the report names the parameter and entry that are wrong). Any
  self-consistent convention is accepted: the loss per sample or averaged, the
  1/N in loss_fn_prime or in step(), one-hot or integer labels, f or softmax.
  A function you removed or reshaped earns its points when your network
  reaches 94%.
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
    # Train and evaluate: `python np_mnist.py` next to the data/ folder. The grader
    # runs this block too, and grades the network it leaves in `net`.
    X_train, y_train = np.load("data/X_train.npy"), np.load("data/y_train.npy")
    X_val, y_val = np.load("data/X_val.npy"), np.load("data/y_val.npy")
    net = Network(784, HIDDEN_SIZE, 10, lr=LEARNING_RATE)
    one_hot = np.eye(10)
    for epoch in range(10):
        order = np.random.permutation(len(X_train))
        for start in range(0, len(X_train), 64):
            batch = order[start : start + 64]
            net.step(X_train[batch], one_hot[y_train[batch]])
        val_acc = np.mean(np.argmax(net.forward(X_val), axis=1) == y_val)
        print(f"epoch {epoch + 1}: validation accuracy {val_acc:.2%}")
