"""The contract between the engine, the worker and the portal: typed, plain results.

Kept in one small module (as INGInious does) so every party reads the same
definitions. Nothing here knows about sandboxes or assignments.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


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

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["status"] = str(self.status)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CheckResult:
        return cls(**{**d, "status": CheckStatus(d["status"])})


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
            "environment": self.environment,
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
                name="hidden check",
                score=c.score,
                max_score=c.max_score,
                status=c.status,
                message="",
                hidden=True,
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
