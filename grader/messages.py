"""The contract between the engine, the worker and the portal: typed, plain results.

Kept in one small module (as INGInious does) so every party reads the same
definitions. Nothing here knows about sandboxes or assignments.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

# Bounds on what a report may hold, whatever the submission sends: text that came
# from the sandbox is clipped where it enters, and a whole report is cut to size.
REPORT_MAX_BYTES = 1_000_000  # the report's strict JSON, in bytes
MESSAGE_CHARS = 10_000  # one check's message, or the report's
CLIPPED = "[... {} more characters]"


# A check's message line that starts with this lists what a TA should look at (embedded
# data, answers that depend on their order, training that is not what it claims), "; "
# between items: never a verdict, read by the staff pages to list and filter submissions.
TA_FLAGS = "for a TA to look at: "


def ta_flags(checks: list[dict[str, Any]]) -> list[str]:
    """The items for a TA in a report's checks (its ``to_dict()["checks"]``), in order."""
    found: list[str] = []
    for check in checks:
        message = check.get("message") if isinstance(check, dict) else None
        if not isinstance(message, str):
            continue
        for line in message.splitlines():
            if line.startswith(TA_FLAGS):
                found += [f for f in line[len(TA_FLAGS) :].split("; ") if f and f not in found]
    return found


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, saying how many were left out."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit)] + CLIPPED.format(len(text) - max(0, limit))


def finite(value: Any) -> Any:
    """``value`` with every NaN or infinity written as text, so that strict JSON can hold it."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def report_json(report: GradeReport) -> str:
    """The report as strict JSON (no NaN or Infinity tokens): what every consumer can parse."""
    return json.dumps(report.to_dict(), allow_nan=False)


# The report's free text, where whatever the submission sent ends up (its output, its
# errors); everything else in a report is the trusted side's and small.
_TEXT_FIELDS = ("output", "hidden_output", "message")
_LEFT_OUT = "[left out: the report was over its size limit]"


def bounded(report: GradeReport, max_bytes: int = REPORT_MAX_BYTES) -> GradeReport:
    """``report`` with its longest texts cut until its strict JSON fits in ``max_bytes``.

    Each text is already clipped where it enters; this is the last line, for a
    report with many checks that each carry a long error. The longest text loses
    at least half of itself per round, so this ends after a few rounds.
    """
    while True:
        excess = len(report_json(report)) - max_bytes  # ASCII: json.dumps escapes the rest
        if excess <= 0:
            return report
        texts = [
            (len(json.dumps(getattr(report, name))), name, -1)
            for name in _TEXT_FIELDS
            if isinstance(getattr(report, name, None), str)
        ]
        texts += [(len(json.dumps(c.message)), "check", i) for i, c in enumerate(report.checks)]
        size, name, index = max(texts)
        if size <= len(json.dumps(_LEFT_OUT)):
            return report  # nothing the submission sent is left to cut
        text = report.checks[index].message if name == "check" else getattr(report, name)
        # A character takes 1 to 12 bytes in JSON: cutting ``excess`` of them may not
        # suffice, halving always shrinks.
        keep = min(len(text) // 2, len(text) - excess - 64)
        cut = clip(text, keep) if keep > 200 else _LEFT_OUT
        if name == "check":
            checks = list(report.checks)
            checks[index] = replace(checks[index], message=cut)
            report = replace(report, checks=tuple(checks))
        else:
            report = replace(report, **{name: cut})


# What a student sees in place of a hidden check's name until its release.
WITHHELD_NAME = "hidden check"


class CheckStatus(StrEnum):
    """How one check ended. Only ``PLATFORM_ERROR`` is our fault, never the student's."""

    PASSED = "passed"
    FAILED = "failed"  # ran, wrong answer
    ERROR = "error"  # the student's code raised, or could not be loaded
    TIMEOUT = "timeout"  # a call ran past its time limit
    MEMORY = "memory"  # a call ran out of memory
    CRASH = "crash"  # the student's process died (os._exit, segfault, killed)
    PLATFORM_ERROR = "platform_error"  # the check or the sandbox itself failed


class ReportStatus(StrEnum):
    GRADED = "graded"  # every check ran to a verdict
    REJECTED = "rejected"  # the upload itself was unusable (bad archive, missing files)
    PLATFORM_ERROR = "platform_error"  # grading could not finish through no fault of the student


@dataclass(frozen=True)
class CheckResult:
    name: str
    score: float
    max_score: float
    status: CheckStatus
    message: str
    hidden: bool = False
    seconds: float = 0.0
    # The starter's function this check tests ("" when it tests several): what a
    # report groups its checks by (grader/feedback.py).
    function: str = ""
    # Not run because the student's file did not load: the report's message says why, once.
    not_run: bool = False
    # A known mistake whose signature this grading matches (grader/hints.py), in the
    # course's words; hidden checks' hints are withheld like their messages.
    hint: str = ""
    # A training check's runs (grader/training.py, ``training_figure``), to draw; withheld
    # with a hidden check's message.
    training: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["status"] = str(self.status)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CheckResult:
        # Reports stored before a field existed read with its default.
        known = {f.name for f in fields(cls)} - {"status"}
        return cls(**{k: v for k, v in d.items() if k in known}, status=CheckStatus(d["status"]))


@dataclass(frozen=True)
class GradeReport:
    assignment: str
    score: float
    max_score: float
    status: ReportStatus
    checks: tuple[CheckResult, ...] = ()
    message: str = ""
    output: str = ""
    environment: dict[str, Any] = field(default_factory=dict)
    # What the submission printed while hidden checks ran (they run last, so nothing
    # printed before them can hold their inputs): for staff until the release time.
    hidden_output: str = ""
    hidden_release: str | None = None  # ISO 8601, from the manifest's deadlines

    def to_dict(self) -> dict[str, Any]:
        return {
            "assignment": self.assignment,
            "score": self.score,
            "max_score": self.max_score,
            "status": str(self.status),
            "message": self.message,
            "checks": [c.to_dict() for c in self.checks],
            "output": self.output,
            "environment": finite(self.environment),
            "hidden_output": self.hidden_output,
            "hidden_release": self.hidden_release,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GradeReport:
        return cls(
            assignment=d["assignment"],
            score=d["score"],
            max_score=d["max_score"],
            status=ReportStatus(d["status"]),
            checks=tuple(CheckResult.from_dict(c) for c in d.get("checks", [])),
            message=d.get("message", ""),
            output=d.get("output", ""),
            environment=d.get("environment", {}),
            hidden_output=d.get("hidden_output", ""),
            hidden_release=d.get("hidden_release"),
        )

    def released(self, now: datetime | None = None) -> bool:
        """Whether hidden checks may be shown at ``now`` (never, without a release time)."""
        if not self.hidden_release:
            return False
        try:
            release = datetime.fromisoformat(self.hidden_release)
        except ValueError:
            return False  # an unreadable date releases nothing
        if release.tzinfo is None:
            release = release.replace(tzinfo=UTC)
        return (now or datetime.now(UTC)) >= release

    def student_view(self, now: datetime | None = None) -> GradeReport:
        """The report as a student sees it: hidden checks show only their points until release.

        Never shown to a student, released or not: the hidden seed (staff's, to
        reproduce the report). Before the release time: hidden checks' names and
        messages, and what the code printed while they ran.
        """
        environment = {k: v for k, v in self.environment.items() if k != "hidden_seed"}
        if self.released(now):
            return replace(self, environment=environment)
        checks = tuple(
            CheckResult(
                name=WITHHELD_NAME,
                score=c.score,
                max_score=c.max_score,
                status=c.status,
                message="",
                hidden=True,
                not_run=c.not_run,
            )
            if c.hidden
            else c
            for c in self.checks
        )
        output = self.output
        if self.hidden_output:
            until = self.hidden_release or "the hidden checks are released"
            notice = f"[output printed during hidden checks is withheld until {until}]"
            output = f"{output.rstrip(chr(10))}\n{notice}" if output else notice
        return replace(
            self, checks=checks, output=output, environment=environment, hidden_output=""
        )
