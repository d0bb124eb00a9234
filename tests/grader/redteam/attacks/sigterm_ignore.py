"""add() ignores every catchable signal and spins; everything else is correct."""

import signal

import numpy as np


def square(x):
    return x * x


def add(a, b):
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1):
        signal.signal(sig, signal.SIG_IGN)
    while True:
        pass


def center(x):
    return x - np.mean(x)


def total(x):
    return float(np.sum(x))
