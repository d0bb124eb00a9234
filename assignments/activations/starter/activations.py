"""Homework: activation functions and their derivatives, in NumPy only.

Every function takes an array x of any shape (or a number) and returns a float64
array of the same shape. Each <name>_grad(x, ...) returns the elementwise
derivative d<name>/dx. At a kink use the convention from the notes:
relu'(0) = 0 and leaky_relu'(0) = alpha. All functions must return the right,
finite values for |x| as large as 1000 (where exp(x) itself overflows to inf):
hidden checks call them on random inputs that large. Only the values returned
are graded: a warning that changes no value costs nothing, a NaN or inf does.
"""


def identity(x):
    """f(x) = x.

    x: array of any shape. Returns an array of the same shape.
    """
    raise NotImplementedError


def identity_grad(x):
    """Elementwise derivative of identity with respect to x, same shape as x."""
    raise NotImplementedError


def binary_step(x):
    """1 where x >= 0, else 0.

    x: array of any shape. Returns an array of the same shape.
    """
    raise NotImplementedError


def binary_step_grad(x):
    """Elementwise derivative of binary_step with respect to x, same shape as x."""
    raise NotImplementedError


def sigmoid(x):
    """1 / (1 + exp(-x)); must give the right values for x = -1000 and x = 1000.

    x: array of any shape. Returns an array of the same shape.
    """
    raise NotImplementedError


def sigmoid_grad(x):
    """Elementwise derivative of sigmoid with respect to x, same shape as x."""
    raise NotImplementedError


def tanh(x):
    """hyperbolic tangent.

    x: array of any shape. Returns an array of the same shape.
    """
    raise NotImplementedError


def tanh_grad(x):
    """Elementwise derivative of tanh with respect to x, same shape as x."""
    raise NotImplementedError


def arctan(x):
    """inverse tangent.

    x: array of any shape. Returns an array of the same shape.
    """
    raise NotImplementedError


def arctan_grad(x):
    """Elementwise derivative of arctan with respect to x, same shape as x."""
    raise NotImplementedError


def relu(x):
    """max(x, 0).

    x: array of any shape. Returns an array of the same shape.
    """
    raise NotImplementedError


def relu_grad(x):
    """Elementwise derivative of relu with respect to x, same shape as x."""
    raise NotImplementedError


def leaky_relu(x, alpha=0.01):
    """x where x > 0, else alpha * x.

    x: array of any shape. Returns an array of the same shape.
    """
    raise NotImplementedError


def leaky_relu_grad(x, alpha=0.01):
    """Elementwise derivative of leaky_relu with respect to x, same shape as x."""
    raise NotImplementedError


def elu(x, alpha=1.0):
    """x where x > 0, else alpha * (exp(x) - 1).

    x: array of any shape. Returns an array of the same shape.
    """
    raise NotImplementedError


def elu_grad(x, alpha=1.0):
    """Elementwise derivative of elu with respect to x, same shape as x."""
    raise NotImplementedError


def selu(x):
    """scale * elu(x, alpha) with the SELU constants alpha ~ 1.6733, scale ~ 1.0507.

    x: array of any shape. Returns an array of the same shape.
    """
    raise NotImplementedError


def selu_grad(x):
    """Elementwise derivative of selu with respect to x, same shape as x."""
    raise NotImplementedError


def swish(x, beta=1.0):
    """x * sigmoid(beta * x).

    x: array of any shape. Returns an array of the same shape.
    """
    raise NotImplementedError


def swish_grad(x, beta=1.0):
    """Elementwise derivative of swish with respect to x, same shape as x."""
    raise NotImplementedError


def gelu(x):
    """the tanh approximation from the notes: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).

    x: array of any shape. Returns an array of the same shape.
    """
    raise NotImplementedError


def gelu_grad(x):
    """Elementwise derivative of gelu with respect to x, same shape as x."""
    raise NotImplementedError


def softplus(x):
    """log(1 + exp(x)); must give the right values (not inf) for x = 1000.

    x: array of any shape. Returns an array of the same shape.
    """
    raise NotImplementedError


def softplus_grad(x):
    """Elementwise derivative of softplus with respect to x, same shape as x."""
    raise NotImplementedError


def softsign(x):
    """x / (1 + |x|).

    x: array of any shape. Returns an array of the same shape.
    """
    raise NotImplementedError


def softsign_grad(x):
    """Elementwise derivative of softsign with respect to x, same shape as x."""
    raise NotImplementedError


def softmax(x, axis=-1):
    """Softmax along `axis`; numerically stable for |x| ~ 1000.

    x: array of any shape. Returns an array of the same shape whose entries along
    `axis` are positive and sum to 1.
    """
    raise NotImplementedError


def softmax_jacobian(z):
    """Jacobian of softmax at a 1-D vector z of length K: a (K, K) array J with
    J[i, j] = d softmax(z)[i] / d z[j].
    """
    raise NotImplementedError
