"""A big load error, made honestly: a SyntaxError on a 4 MiB line.

Nothing here tampers with the runner. Python's own traceback of the error
quotes the offending line twice over (the line, and a caret line as wide as
it), so the runner honestly sends some 8 MiB of traceback text. The grader
must clip it, show it once (the later checks point to the first one), and keep
the report under 1 MB and its own memory small.
"""

SOURCE = "x = '" + "a" * (4 << 20) + "' +\n"
exec(compile(SOURCE, "long_line.py", "exec"))


def square(x):
    return x * x


def add(a, b):
    return a + b


def center(x):
    return x - x.mean()


def total(x):
    return float(x.sum())
