"""add() never returns; everything else is correct, so only add's point is lost."""

import time

import numpy as np


def square(x):
    return x * x


def add(a, b):
    while True:
        time.sleep(3600)


def center(x):
    return x - np.mean(x)


def total(x):
    return float(np.sum(x))
