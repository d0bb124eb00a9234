"""Edit the inputs in place.

square and add compute in place and return their (now correct) input: that is
honest and passes. center zeroes its input and returns it, and total zeroes
its input and returns 0.0: those pass only if the reference saw the edited
inputs, which it never does (inputs are copies).
"""


def square(x):
    x *= x
    return x


def add(a, b):
    a += b
    return a


def center(x):
    x[:] = 0.0
    return x


def total(x):
    x[...] = 0.0
    return 0.0
