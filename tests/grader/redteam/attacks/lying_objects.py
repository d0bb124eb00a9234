"""Return objects that claim to equal anything.

square: an ndarray subclass of zeros whose __eq__, __array_ufunc__, __sub__,
__abs__, tolist and astype all lie. add: a plain object with __array__,
__eq__ and __float__. center: a float subclass holding 0.0 whose operators
lie. total: an int subclass doing the same. The grader reads only the data
(zeros), so every check fails or errors and the score is 0.
"""

import numpy as np

ANSWER = None  # whatever a comparison asks for, say yes


class Liar(np.ndarray):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return np.zeros(np.shape(inputs[0]))

    def __array_function__(self, func, types, args, kwargs):
        return True

    def __sub__(self, other):
        return np.zeros(self.shape)

    def __abs__(self):
        return np.zeros(self.shape)

    def tolist(self):
        return ANSWER

    def astype(self, *args, **kwargs):
        return self

    def __reduce__(self):
        return (np.zeros, (self.shape,))


class Shapeshifter:
    shape = (3, 2)
    dtype = np.dtype(np.float64)

    def __array__(self, dtype=None, copy=None):
        return np.zeros(self.shape)

    def __eq__(self, other):
        return True

    def __float__(self):
        return 0.0


class LyingFloat(float):
    def __eq__(self, other):
        return True

    def __sub__(self, other):
        return 0.0

    def __rsub__(self, other):
        return 0.0

    def __abs__(self):
        return 0.0

    def __float__(self):
        return 1e300

    __hash__ = float.__hash__


class LyingInt(int):
    def __eq__(self, other):
        return True

    def __index__(self):
        return 0

    __hash__ = int.__hash__


def square(x):
    return np.zeros(x.shape).view(Liar)


def add(a, b):
    return Shapeshifter()


def center(x):
    return [LyingFloat(0.0) for _ in x]


def total(x):
    return LyingInt(0)
