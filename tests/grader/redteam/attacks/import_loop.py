"""An infinite loop while being imported."""

while True:
    pass


def square(x):
    return x * x
