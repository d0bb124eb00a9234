"""Answers as large as a reply may be, and a call error with a huge message and traceback.

square() returns 48 MiB of bytes (under the grader's 64 MiB cap on a reply), and
add() raises an exception whose message is 8 MiB, from a frame whose source
line (planted in linecache, as a generated file's would be) is 8 MiB wide, so
the honest runner forwards it all. The grader must keep its own memory small
and the report under 1 MB; the answers are wrong, nothing more.
"""

import linecache
import os

import numpy as np

_LINE = "raise ValueError('m' * (8 << 20))  # " + "#" * (8 << 20)
_FILE = os.path.join(os.getcwd(), "generated_helper.py")
linecache.cache[_FILE] = (len(_LINE), None, [_LINE + "\n"], _FILE)
_raise = compile("raise ValueError('m' * (8 << 20))\n", _FILE, "exec")


def square(x):
    return bytes(48 << 20)


def add(a, b):
    exec(_raise)


def center(x):
    return x - np.mean(x)


def total(x):
    return float(np.sum(x))
