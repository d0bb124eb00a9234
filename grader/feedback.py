"""What a report teaches: checks grouped by the starter's function they test, failing first.

A check tests the starter function whose name begins its own (``sigmoid_grad``
and ``sigmoid_grad_large_inputs`` test ``sigmoid_grad``; the longest name wins);
a check named after no function (``kinks``, ``shapes``) tests several, and its
group is "". The engine records each check's function in the report, and the
handout totals points by the same rule, so both speak of the same groups.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from grader.messages import WITHHELD_NAME, CheckResult, CheckStatus, GradeReport


@functools.cache
def _starter_names(starter: Path, stamp: tuple[tuple[str, int], ...]) -> tuple[str, ...]:
    names: list[str] = []
    for name, _ in stamp:
        try:
            tree = ast.parse((starter / name).read_text(), filename=name)
        except (SyntaxError, ValueError, OSError):
            continue
        for node in tree.body:
            defines = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            if defines and not node.name.startswith("_"):
                names.append(node.name)
    return tuple(dict.fromkeys(names))


def starter_functions(root: Path) -> tuple[str, ...]:
    """The public functions and classes the starter's .py files define, in file order."""
    starter = root / "starter"
    if not starter.is_dir():
        return ()
    files = sorted(starter.rglob("*.py"))
    stamp = tuple((str(p.relative_to(starter)), p.stat().st_mtime_ns) for p in files)
    return _starter_names(starter, stamp)


def function_of(check_name: str, functions: tuple[str, ...]) -> str:
    """The starter function a check tests: the longest whose name begins the check's."""
    matches = [f for f in functions if check_name == f or check_name.startswith(f + "_")]
    return max(matches, key=len) if matches else ""


@dataclass(frozen=True)
class Group:
    """The checks of one function (``function`` "" for checks across several)."""

    function: str
    checks: tuple[CheckResult, ...]

    @property
    def failing(self) -> tuple[CheckResult, ...]:
        return tuple(c for c in self.checks if c.status != CheckStatus.PASSED)

    @property
    def passing(self) -> tuple[CheckResult, ...]:
        return tuple(c for c in self.checks if c.status == CheckStatus.PASSED)

    @property
    def score(self) -> float:
        return round(sum(c.score for c in self.checks), 6)

    @property
    def max_score(self) -> float:
        return round(sum(c.max_score for c in self.checks), 6)

    withheld: bool = False  # hidden checks whose names are withheld until release

    @property
    def title(self) -> str:
        if self.withheld:
            return "hidden checks"
        return self.function or "checks across several functions"


def groups(checks: tuple[CheckResult, ...] | list[CheckResult]) -> list[Group]:
    """Checks grouped by function: groups with a failing check first, withheld hidden
    checks after the named ones, each kind in the order of its first check; checks keep
    their order within a group.

    Hidden checks not yet released carry no function (their names are withheld) and
    form a group of their own.
    """
    order: dict[tuple[bool, str], list[CheckResult]] = {}
    for c in checks:
        withheld = c.hidden and c.name == WITHHELD_NAME
        order.setdefault((withheld, "" if withheld else c.function), []).append(c)
    made = [Group(name, tuple(cs), withheld) for (withheld, name), cs in order.items()]
    # What a student can act on first: named failures, then hidden ones, then the rest.
    return sorted(made, key=lambda g: (not g.failing, g.withheld))


def load_failed(report: GradeReport) -> bool:
    """Whether the student's file did not load: one message, the checks not run."""
    return bool(report.message) and any(c.not_run for c in report.checks)


@dataclass(frozen=True)
class CheckChange:
    """One check whose verdict differs between two reports of a submission."""

    name: str
    before: str  # its status then ("" when the check did not exist)
    after: str  # its status now ("" when it no longer exists)
    points: float  # score now minus score then


def changes(older: GradeReport, newer: GradeReport) -> list[CheckChange]:
    """The checks whose status or score differ from ``older`` to ``newer``.

    Checks are paired by name; withheld hidden checks (all named alike) by their
    order among themselves.
    """

    def keyed(report: GradeReport) -> dict[tuple[str, int], CheckResult]:
        seen: dict[str, int] = {}
        out = {}
        for c in report.checks:
            n = seen[c.name] = seen.get(c.name, -1) + 1
            out[(c.name, n)] = c
        return out

    before, after = keyed(older), keyed(newer)
    found = []
    for key in [*after, *(k for k in before if k not in after)]:
        b, a = before.get(key), after.get(key)
        b_status, a_status = (str(b.status) if b else ""), (str(a.status) if a else "")
        delta = round((a.score if a else 0.0) - (b.score if b else 0.0), 6)
        if b_status != a_status or delta:
            found.append(CheckChange(key[0], b_status, a_status, delta))
    return found


# -- a training check's runs (CheckResult.training), in words ----------------------------


def training_runs(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in data.get("runs", []) if isinstance(r, dict)]


def last_confusion(data: dict[str, Any]) -> tuple[int, np.ndarray] | None:
    """(run number, counts[digit][answer]) of the last run that has a confusion."""
    for run in reversed(training_runs(data)):
        counts = run.get("confusion")
        if counts:
            return int(run.get("run", 0)), np.asarray(counts, dtype=np.int64)
    return None


def most_confused(counts: np.ndarray, top: int = 3) -> list[tuple[int, int, int]]:
    """The ``top`` off-diagonal cells, largest first: (digit, answered as, how many)."""
    off = counts.copy()
    np.fill_diagonal(off, 0)
    order = np.argsort(off, axis=None)[::-1][:top]
    cells = [(int(i // off.shape[1]), int(i % off.shape[1])) for i in order]
    return [(d, a, int(off[d, a])) for d, a in cells if off[d, a] > 0]


def describe_training(data: dict[str, Any]) -> list[str]:
    """The picture in sentences: each run's curve from start to end, and the commonest
    confusions of the final network."""
    lines = []
    for run in training_runs(data):
        epochs = run.get("epochs") or []
        accuracy = run.get("accuracy")
        tested = f"test accuracy {accuracy:.2%}" if accuracy is not None else "no test accuracy"
        if len(epochs) >= 2:
            first, last = epochs[0], epochs[-1]
            lines.append(
                f"Run {run.get('run')}: validation accuracy {first['accuracy']:.1%} at epoch "
                f"{first['epoch']}, {last['accuracy']:.1%} after epoch {last['epoch']}; training "
                f"loss {first['loss']:.3f} to {last['loss']:.3f}; {tested}."
            )
        else:
            lines.append(
                f"Run {run.get('run')}: {tested}. Your file trained the network itself, so the "
                f"grader saw no epochs to plot."
            )
    found = last_confusion(data)
    if found is not None:
        run, counts = found
        worst = most_confused(counts)
        if worst:
            said = ", ".join(f"{d} answered as {a} ({n} times)" for d, a, n in worst)
            lines.append(f"Most common confusions of run {run}'s network: {said}.")
    return lines
