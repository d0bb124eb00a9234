"""Red-team fixture: implement these four functions in NumPy."""


def square(x):
    """x: array of any shape. Returns x * x elementwise, same shape."""
    raise NotImplementedError


def add(a, b):
    """a, b: arrays of the same shape. Returns a + b."""
    raise NotImplementedError


def center(x):
    """x: array of shape (N,). Returns x - mean(x), shape (N,)."""
    raise NotImplementedError


def total(x):
    """x: array of any shape. Returns the sum of its elements (a number)."""
    raise NotImplementedError
