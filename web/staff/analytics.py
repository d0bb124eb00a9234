"""Class analytics for one assignment: the numbers, and their pictures drawn on the server
(web/figures.py: inert SVG, served through ``<img>``).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from web.figures import BLUE, RED
from web.figures import figure as _figure
from web.figures import label as _label
from web.figures import svg as _svg

# Numbers in a message (an index, expected vs got) differ from student to student;
# grouping on the message with its numbers masked finds the common mistake.
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
FAILED = frozenset({"failed", "error", "timeout", "memory", "crash"})


@dataclass(frozen=True)
class CheckFailures:
    name: str
    failed: int
    total: int
    common_message: str  # one real example of the most common message (numbers as sent)
    common_count: int
    hidden: bool = False

    @property
    def rate(self) -> float:
        return self.failed / self.total if self.total else 0.0


def message_shape(message: str) -> str:
    """A message with its numbers masked: what two students' similar failures share."""
    first = message.strip().splitlines()[0] if message.strip() else ""
    return _NUMBER.sub("#", first)[:200]


def check_failures(reports: Iterable[Mapping[str, Any]]) -> list[CheckFailures]:
    """Per check, how many of ``reports`` (one per student) fail it, most failed first."""
    failed: Counter[str] = Counter()
    total: Counter[str] = Counter()
    hidden: dict[str, bool] = {}
    shapes: dict[str, Counter[str]] = {}
    example: dict[tuple[str, str], str] = {}
    order: list[str] = []
    for report in reports:
        for check in report.get("checks", []):
            name = str(check.get("name", ""))
            if name not in total:
                order.append(name)
            total[name] += 1
            hidden[name] = bool(check.get("hidden", False))
            if str(check.get("status")) in FAILED:
                failed[name] += 1
                shape = message_shape(str(check.get("message", "")))
                shapes.setdefault(name, Counter())[shape] += 1
                example.setdefault((name, shape), str(check.get("message", "")).strip())
    out = []
    for name in order:
        common, count = ("", 0)
        if name in shapes:
            common, count = shapes[name].most_common(1)[0]
        out.append(
            CheckFailures(
                name,
                failed[name],
                total[name],
                example.get((name, common), "")[:500],
                count,
                hidden[name],
            )
        )
    out.sort(key=lambda c: (-c.rate, c.name))
    return out


def histogram_svg(scores: list[float], max_score: float) -> bytes:
    """The distribution of the scores that count, on a 0..max_score axis."""
    fig, ax = _figure()
    top = max_score if max_score > 0 else max(scores, default=1.0) or 1.0
    bins = 20 if top >= 20 else max(1, round(top))
    ax.hist(scores, bins=bins, range=(0, top), color=BLUE, edgecolor="white")
    ax.set_xlabel(f"score (of {top:g})")
    ax.set_ylabel("students")
    ax.set_title(f"{len(scores)} students")
    ax.yaxis.get_major_locator().set_params(integer=True)
    return _svg(fig)


def failure_rate_svg(rows: list[CheckFailures], limit: int = 25) -> bytes:
    """Horizontal bars: the share of students failing each check, worst on top."""
    shown = rows[:limit]
    fig, ax = _figure(6.4, max(1.6, 0.28 * len(shown) + 0.8))
    names = [_label(r.name) for r in shown][::-1]
    rates = [100 * r.rate for r in shown][::-1]
    ax.barh(range(len(shown)), rates, color=RED)
    ax.set_yticks(range(len(shown)), names, fontsize=8)
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of students failing")
    return _svg(fig)


def _bin_hours(span: float) -> int:
    """A bar's width in hours: hourly over three days, then 6-hourly, then daily."""
    return 1 if span <= 72 else 6 if span <= 24 * 14 else 24


def submissions_over_time_svg(times: list[datetime], due: datetime | None) -> bytes:
    """Submissions per time bin, in hours relative to the deadline when there is one."""
    fig, ax = _figure()
    if due is not None:
        hours = [(t - due).total_seconds() / 3600 for t in times]
        ax.axvline(0, color=RED, linestyle="--", label="due")
        ax.set_xlabel("hours relative to the deadline")
        ax.legend(loc="upper left", frameon=False)
        anchor = [0.0]  # the deadline is always on the axis
    else:
        start = min(times, default=None)
        hours = [(t - start).total_seconds() / 3600 for t in times] if start else []
        ax.set_xlabel("hours since the first submission")
        anchor = []
    width = 1
    if hours:
        low, high = min(hours + anchor), max(hours + anchor)
        width = _bin_hours(high - low)
        first = math.floor(low / width) * width
        edges = list(range(first, math.ceil(high / width) * width + width + 1, width))
        ax.hist(hours, bins=edges, color=BLUE, edgecolor="white")
    ax.set_ylabel(f"submissions per {width} h")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_title(f"{len(times)} submissions")
    return _svg(fig)
