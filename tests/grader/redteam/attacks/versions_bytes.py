"""Send bytes as the sandbox's Python version; every answer is correct.

The load reply names the versions found in the sandbox, which the report shows.
The submission wraps the runner's ``Runner.loaded`` (looked up on the class at
each load) so that one of them is bytes: a report holding them cannot be written
as JSON, so `dlgrade grade --json` and the worker's report storage failed.
"""

import numpy as np

import __main__

_loaded = __main__.Runner.loaded


def _forged(self, global_name):
    out = _loaded(self, global_name)
    out["versions"]["python"] = b"\xff\xfe3.11"
    return out


__main__.Runner.loaded = _forged


def square(x):
    return x * x


def add(a, b):
    return a + b


def center(x):
    return x - np.mean(x)


def total(x):
    return float(np.sum(x))
