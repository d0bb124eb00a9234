"""add() answers, and then the runner's process ends: between two calls, not during one.

The runner shares the submission's process, so the submission can wrap the
function that writes the runner's replies: add()'s reply goes out whole, then
the process exits. The trusted side finds the runner gone at its next call,
reaps it and starts a fresh one; from then on the old runner's pid belongs to
whoever the kernel gives it to next, and must never be signalled again. Every
answer is correct.
"""

import os
import sys

import numpy as np


def square(x):
    return x * x


def add(a, b):
    codec = sys.modules["codec"]  # the runner's own codec module
    write = codec.write_frame

    def write_then_exit(out, payload):
        write(out, payload)
        os._exit(0)

    codec.write_frame = write_then_exit
    return a + b


def center(x):
    return x - np.mean(x)


def total(x):
    return float(np.sum(x))
