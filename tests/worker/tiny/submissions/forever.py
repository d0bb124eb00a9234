"""Never returns: every call must end as a timeout verdict."""

import time


def add(x, y):
    while True:
        time.sleep(1)


def scale(x, a):
    while True:
        time.sleep(1)
