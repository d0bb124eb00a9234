"""The late policy: whether a submission is late, and what it costs, from the time it was stored.

One function, used where the submission's row is written (``worker.submit``,
so the answer is the server's, from the upload's own timestamp) and by the
portal to tell a student beforehand what submitting now would mean.

- Due: the assignment's ``due``, or the student's extension when they have one.
- Grace: a submission up to ``grace_minutes`` after that is on time (clocks,
  slow uploads); one after it is late, and counted late from the due date.
- Penalty: each day or part of a day after the due date costs
  ``penalty_per_day`` of the score (a fraction), at most ``penalty_cap``; or
  late work is refused altogether (``accept_late`` false).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

DAY_S = 86400.0


@dataclass(frozen=True)
class LatePolicy:
    due: datetime | None
    grace_minutes: int = 0
    penalty_per_day: float = 0.0
    penalty_cap: float | None = None
    accept_late: bool = True

    def describe(self) -> str:
        """The policy in one sentence, for the student's page."""
        if self.due is None:
            return "No due date."
        grace = f" ({self.grace_minutes} minutes' grace)" if self.grace_minutes else ""
        if not self.accept_late:
            return f"Late submissions are not accepted{grace}."
        if self.penalty_per_day <= 0:
            return f"Late submissions are accepted without penalty{grace}."
        cap = 1.0 if self.penalty_cap is None else min(1.0, self.penalty_cap)
        text = f"Late submissions lose {self.penalty_per_day:.0%} of their score per day late"
        if cap < 1.0:
            text += f", at most {cap:.0%}"
        return text + f"{grace}."


@dataclass(frozen=True)
class Lateness:
    late: bool
    seconds_late: int
    days_late: int
    penalty: float  # the fraction of the score lost
    refused: bool  # late, and the policy accepts no late work

    def describe(self) -> str:
        if not self.late:
            return "on time"
        if self.refused:
            return "late: not accepted"
        days = f"{self.days_late} day" + ("s" if self.days_late != 1 else "")
        return f"late ({days}), penalty {self.penalty:.0%}"


def assess(policy: LatePolicy, stored_at: datetime, extension: datetime | None = None) -> Lateness:
    """How late a submission stored at ``stored_at`` is under ``policy`` (naive UTC times)."""
    due = extension if extension is not None else policy.due
    if due is None or stored_at <= due + timedelta(minutes=policy.grace_minutes):
        return Lateness(False, 0, 0, 0.0, False)
    seconds = (stored_at - due).total_seconds()
    days = max(1, math.ceil(seconds / DAY_S))
    cap = 1.0 if policy.penalty_cap is None else min(1.0, max(0.0, policy.penalty_cap))
    penalty = min(cap, max(0.0, policy.penalty_per_day) * days)
    return Lateness(True, int(seconds), days, penalty, not policy.accept_late)
