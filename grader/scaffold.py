"""Authoring tools: ``dlgrade assignment new`` and ``dlgrade assignment try``.

``new_assignment`` writes a complete, small assignment folder that
``dlgrade assignment validate`` passes at once: a manifest, a starter, a
solution, checks (a visible value check, a gradient checked against the
reference and finite differences, a hidden check on shapes drawn from the
secret seed) and one mutant with the mistake students really make (the
gradient of a mean without its 1/N). The instructor then replaces the
functions with the topic's own. docs/AUTHORING.md walks through the same steps.

``try_summary`` prints what an author wants while writing checks: every
check's status, points and time, hidden ones included.

``manifest_key_table`` renders grader/assignment.py's SCHEMA as the Markdown
table docs/AUTHORING.md carries (``dlgrade assignment keys`` prints it; a test
keeps the two equal).
"""

from __future__ import annotations

import re
from pathlib import Path

from grader.assignment import SCHEMA, Derived, Key, _Required
from grader.messages import CheckStatus, GradeReport

SLUG = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")

MANIFEST = '''\
slug = "{slug}"
title = "{title}"
version = 1
summary = """Implement mse(pred, target), the mean squared error over all elements,
and mse_grad(pred, target), its gradient with respect to pred, in NumPy."""
environment = "numpy"
queue = "cpu"

[submission]
files = ["{module}.py"]
module = "{module}"

[limits]
call_seconds = 10
load_seconds = 20
total_seconds = 120
memory_mb = 512
cpus = 1
pids = 32
tmpfs_mb = 16
output_kb = 32

[tolerances]
rtol = 1e-7
atol = 1e-9

[[mutants]]
file = "mutants/grad_without_mean.py"
why = "mse_grad returns 2 (pred - target): the gradient of the sum, without the mean's 1/N"
fails = ["mse_grad", "other_shapes"]
'''

STARTER = '''\
"""Homework: the mean squared error and its gradient, in NumPy only."""


def mse(pred, target):
    """mean((pred - target) ** 2) over all elements.

    pred, target: arrays of the same shape. Returns a float.
    """
    raise NotImplementedError


def mse_grad(pred, target):
    """d mse / d pred: an array shaped like pred."""
    raise NotImplementedError
'''

SOLUTION = '''\
"""Instructor's solution (written apart from reference/, so that each checks the other)."""

import numpy as np


def mse(pred, target):
    diff = np.asarray(pred, dtype=np.float64) - np.asarray(target, dtype=np.float64)
    return float(np.mean(diff * diff))


def mse_grad(pred, target):
    diff = np.asarray(pred, dtype=np.float64) - np.asarray(target, dtype=np.float64)
    return 2.0 * diff / diff.size
'''

MUTANT = """\
# Appended to the solution's file: this definition replaces the solution's.


def mse_grad(pred, target):
    return 2.0 * (np.asarray(pred) - np.asarray(target))
"""

CHECKS = '''\
"""Checks for {slug}: values against reference.losses, gradients also against finite differences.

Each check draws its inputs from ``rng``; hidden checks get an rng seeded from a
secret per submission. Expected values are computed here, on the trusted side.
"""

import numpy as np

from grader.checks import all_of, check, compare, grad_check
from reference.losses import mse_loss


@check(points=1)
def mse(student, rng):
    """mse(pred, target) on a random (8, 3) batch, against the reference."""
    pred, target = rng.standard_normal((2, 8, 3))
    expected, _ = mse_loss(pred, target)
    return compare(student.mse(pred, target), expected, name="mse(pred, target)")


@check(points=2)
def mse_grad(student, rng):
    """mse_grad(pred, target) against the reference and centred differences of mse."""
    pred, target = rng.standard_normal((2, 5, 4))
    got = student.mse_grad(pred, target)
    _, expected = mse_loss(pred, target)
    return all_of(
        compare(got, expected, name="mse_grad(pred, target)"),
        grad_check(
            got,
            lambda p: np.array(mse_loss(p, target)[0]),
            pred,
            np.array(1.0),
            name="mse_grad vs finite differences",
        ),
    )


@check(points=1, hidden=True)
def other_shapes(student, rng):
    """Both functions on a random shape (1 to 3 axes of 2 to 6), drawn from the hidden seed."""
    shape = tuple(int(n) for n in rng.integers(2, 7, size=rng.integers(1, 4)))
    pred, target = rng.standard_normal((2, *shape))
    loss, grad = mse_loss(pred, target)
    return all_of(
        compare(student.mse(pred, target), loss, name=f"mse on a {{shape}} input"),
        compare(student.mse_grad(pred, target), grad, name=f"mse_grad on a {{shape}} input"),
    )
'''


def module_name(slug: str) -> str:
    """The student's module for a slug: ``my-topic`` -> ``my_topic``."""
    return slug.replace("-", "_")


def new_assignment(slug: str, parent: Path) -> Path:
    """Write ``parent/slug``: a small assignment that validates as it stands.

    Refuses a slug that is not lower-case words joined by hyphens, and a folder
    that exists (nothing is overwritten).
    """
    if not SLUG.fullmatch(slug):
        raise ValueError(
            f"a slug is lower-case letters and digits in words joined by '-', "
            f"starting with a letter (e.g. 'losses-2'), not {slug!r}"
        )
    root = parent / slug
    if root.exists():
        raise FileExistsError(f"{root} exists; choose another slug or remove it")
    module = module_name(slug)
    title = slug.replace("-", " ").capitalize()
    files = {
        "assignment.toml": MANIFEST.format(slug=slug, title=title, module=module),
        "checks.py": CHECKS.format(slug=slug),
        f"starter/{module}.py": STARTER,
        f"solution/{module}.py": SOLUTION,
        "mutants/grad_without_mean.py": MUTANT,
    }
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def try_summary(report: GradeReport) -> str:
    """Every check's status, points and seconds (hidden ones marked), then the total.

    A check that did not pass shows its whole message, indented, under its line.
    """
    lines = []
    for c in report.checks:
        hidden = " (hidden)" if c.hidden else ""
        points = f"{c.score:g}/{c.max_score:g}"
        lines.append(f"  {c.status.value:<14} {points:>9} {c.seconds:8.3f} s  {c.name}{hidden}")
        if c.status != CheckStatus.PASSED and c.message:
            lines.extend("      " + line for line in c.message.splitlines())
    if report.message:
        lines.append(f"  message: {report.message}")
    checks_seconds = sum(c.seconds for c in report.checks)
    wall = report.environment.get("wall_seconds")
    lines.append(
        f"score {report.score:g}/{report.max_score:g} ({report.status.value}); "
        f"checks {checks_seconds:.3f} s, grading {wall if wall is not None else '?'} s in all "
        "(the first check's time includes starting the sandbox and loading the file)"
    )
    return "\n".join(lines)


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _default_text(key: Key) -> str:
    if isinstance(key.default, _Required):
        return "**required**"
    if isinstance(key.default, Derived):
        return key.default.text
    if key.default is None:
        return "none"
    return f"`{_toml(key.default)}`"


def _type_text(key: Key) -> str:
    if key.choices:
        return key.type + ": " + ", ".join(f"`{c}`" for c in key.choices)
    if key.type in ("number", "integer"):
        return key.type + (" > 0" if key.positive else " >= 0")
    return key.type


def manifest_key_table() -> str:
    """Every manifest key as a Markdown table row: key, type, default, meaning."""
    rows = ["| Key | Type | Default | Meaning |", "|---|---|---|---|"]
    for key in SCHEMA:
        meaning = key.meaning.replace("|", "\\|")
        rows.append(f"| `{key.name}` | {_type_text(key)} | {_default_text(key)} | {meaning} |")
    return "\n".join(rows)
