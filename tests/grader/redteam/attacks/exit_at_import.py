"""os._exit(0) while being imported: no exception, no reply, just gone."""

import os

os._exit(0)


def square(x):
    return x * x
