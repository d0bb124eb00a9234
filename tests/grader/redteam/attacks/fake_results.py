"""Leave result files wherever a grader might look for them, then answer wrongly.

Writes a full-marks results.json into every writable place it can think of,
including the host paths filled in by the test (@@...@@ placeholders). The
score must be 0, and none of the host files may exist after grading.
"""

import json

import numpy as np

HOST_PATHS = [
    "@@REPO@@/dlgrade-redteam-results.json",
    "@@FIXTURE@@/dlgrade-redteam-results.json",
    "@@HOST_DIR@@/dlgrade-redteam-results.json",
    "/tmp/dlgrade-redteam-results.json",
]
SANDBOX_PATHS = [
    "results.json",
    "/tmp/results.json",
    "/tmp/work/results.json",
    "/sandbox/results.json",
    "/sandbox/submission/results.json",
]
RESULTS = {"score": 6, "max_score": 6, "status": "graded", "checks": []}

for path in HOST_PATHS + SANDBOX_PATHS:
    try:
        with open(path, "w") as fh:
            json.dump(RESULTS, fh)
        print("wrote", path)
    except OSError as exc:
        print("could not write", path, type(exc).__name__)


def square(x):
    return np.zeros_like(x)


def add(a, b):
    return np.zeros_like(a)


def center(x):
    return np.zeros_like(x)


def total(x):
    return 0.0
