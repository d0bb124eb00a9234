"""sys.exit(0) while being imported: the module never finishes loading."""

import sys

sys.exit(0)


def square(x):
    return x * x
