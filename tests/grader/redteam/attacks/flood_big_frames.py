"""Flood the grader's channel with the largest frames it accepts, while it waits.

Like flood_protocol.py, but each unasked frame is 60 MiB (the grader reads
replies of up to 64 MiB), written from a thread that square() leaves behind.
The grader reads at most the frames it must before it stops reading, so its
memory stays bounded (the test of every attack measures it): the flood costs
the submission the calls it spoils, nothing more.
"""

import gc
import sys
import threading
import time

import numpy as np

# Set once a whole unasked frame is in the channel: add() answers only after it, so the
# flood is there first however slowly a busy host runs this thread.
FLOODING = threading.Event()


def _flood() -> None:
    time.sleep(0.1)
    codec = sys.modules["codec"]
    runner = next(o for o in gc.get_objects() if type(o).__name__ == "Runner")
    payload = codec.encode({"id": 10**9, "ok": True, "value": bytes(60 << 20)})
    while True:
        codec.write_frame(runner.proto_out, payload)
        FLOODING.set()


def square(x):
    threading.Thread(target=_flood, daemon=True).start()
    return x * x


def add(a, b):
    FLOODING.wait(60)  # the flood arrives while this call is running
    return a + b


def center(x):
    return x - np.mean(x)


def total(x):
    return float(np.sum(x))
