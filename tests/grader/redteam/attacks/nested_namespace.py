"""Escape the tmpfs cap by becoming root of a user namespace of one's own.

A new user and mount namespace would let the submission mount a tmpfs with no
size limit and fill it (host memory, whatever the sandbox's caps). The attempt
runs through util-linux's `unshare` and prints what it managed
("NESTED-WROTE <bytes>" on success). The functions are correct: full marks,
and the nested mount must fail.
"""

import subprocess

import numpy as np

# Six files of 15 MB: each under the per-file size limit, 90 MB together.
SCRIPT = (
    "mount -t tmpfs none /tmp || exit 1; for i in 1 2 3 4 5 6; do"
    " head -c 15000000 /dev/zero > /tmp/fill$i || exit 1; done;"
    " echo NESTED-WROTE $(cat /tmp/fill* | wc -c)"
)
try:
    done = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", SCRIPT],
        capture_output=True,
        timeout=2,
    )
    print("unshare:", done.returncode, done.stdout.decode(), done.stderr.decode()[-200:])
except (OSError, subprocess.SubprocessError) as exc:
    print("unshare:", type(exc).__name__, exc)


def square(x):
    return x * x


def add(a, b):
    return a + b


def center(x):
    return x - np.mean(x)


def total(x):
    return float(np.sum(x))
