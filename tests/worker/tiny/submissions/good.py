def add(x, y):
    return x + y


def scale(x, a):
    return a * x
