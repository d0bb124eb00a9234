"""Spread memory over several processes, each under a per-process limit.

add() starts 4 fresh interpreters; each fills 160 MiB (under the 256 MB limit
on its own, 640 MiB together), reports on a pipe, and holds on. After a moment the
parent counts the children still alive that got their memory and prints
"holding N x 160 MiB". A memory limit on the submission as a whole allows at
most one; a per-process limit allows all four. add() then answers correctly.
"""

import contextlib
import os
import signal
import sys
import time

import numpy as np

CHILDREN = 4
MIB = 160
HOLD = (
    "import os, sys, time\n"
    f"block = b'\\1' * ({MIB} << 20)\n"
    "os.write(int(sys.argv[1]), b'+')\n"
    "while block:\n"
    "    time.sleep(1)\n"
)


def square(x):
    return x * x


def add(a, b):
    r, w = os.pipe()
    pids = []
    for _ in range(CHILDREN):
        pid = os.fork()
        if pid == 0:
            try:
                os.set_inheritable(w, True)
                os.execv(sys.executable, [sys.executable, "-c", HOLD, str(w)])
            finally:
                os._exit(0)
        pids.append(pid)
    os.close(w)
    time.sleep(1.0)
    os.set_blocking(r, False)
    try:
        got = len(os.read(r, 64))
    except BlockingIOError:
        got = 0
    alive = sum(os.waitpid(pid, os.WNOHANG) == (0, 0) for pid in pids)
    print(f"holding {min(got, alive)} x {MIB} MiB ({got} allocated, {alive} alive)")
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    return a + b


def center(x):
    return x - np.mean(x)


def total(x):
    return float(np.sum(x))
