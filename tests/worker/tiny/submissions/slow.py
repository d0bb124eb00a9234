"""Right answers, slowly: a grading long enough to kill a worker in the middle of it."""

import time


def add(x, y):
    time.sleep(1.2)
    return x + y


def scale(x, a):
    time.sleep(1.2)
    return a * x
