"""Flood the grader's channel with well-formed frames while the grader is busy elsewhere.

square() answers correctly, then leaves a thread behind that, a moment later
(after the real reply has gone), finds the runner's protocol stream through
the garbage collector and writes valid reply frames of 1 MiB into it as fast
as it can. Whatever the trusted side
does meanwhile, the frames it has not asked for must not pile up in its memory.
"""

import gc
import sys
import threading
import time

import numpy as np


def _flood() -> None:
    time.sleep(0.2)
    codec = sys.modules["codec"]
    runner = next(o for o in gc.get_objects() if type(o).__name__ == "Runner")
    payload = codec.encode({"id": 10**9, "ok": True, "value": np.zeros(1 << 17)})
    while True:
        codec.write_frame(runner.proto_out, payload)


def square(x):
    threading.Thread(target=_flood, daemon=True).start()
    return x * x


def add(a, b):
    return a + b


def center(x):
    return x - np.mean(x)


def total(x):
    return float(np.sum(x))
