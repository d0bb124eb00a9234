"""``dlgrade assignment validate``: prove an assignment sound before students see it.

Sound means: the solution scores full marks, the starter scores zero, every
known-wrong submission in mutants/ fails exactly the checks its manifest entry
names (and passes the rest) and receives its own hint (grader/hints.py; a
mutant whose ``hint`` is "" receives none), grading the solution twice gives the
same report, and neither the solution nor any example in examples/ that
scores full marks receives a hint (examples graded when asked: they may train).
With ``seeds=N`` the solution and every mutant are graded at the submission
seeds 0 .. N-1 (so at N draws of the visible inputs and N secret draws of the
hidden ones), and one seed that lets a mutant through a check it must fail
makes the assignment invalid: a rule exercised only when the random draw
happens to reach it is a rule a student's mistake slips past.

A mutant file holds only the definitions it changes: it is appended to the
solution's entry file, so later definitions replace the solution's.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from grader.assignment import Assignment, Mutant
from grader.engine import grade
from grader.hints import hint_text, received
from grader.messages import CheckStatus, GradeReport, ReportStatus


@dataclass
class ValidationOutcome:
    ok: bool = True
    problems: list[str] = field(default_factory=list)
    reports: dict[str, GradeReport] = field(default_factory=dict)

    def fail(self, problem: str) -> None:
        self.ok = False
        self.problems.append(problem)

    @property
    def summary(self) -> str:
        if self.ok:
            return f"{len(self.reports)} gradings agree with the manifest"
        return "\n  " + "\n  ".join(self.problems)


def _fingerprint(report: GradeReport) -> list[tuple[str, float, str, str]]:
    """What must not change between two runs: every check's name, score, status and message."""
    return [(c.name, c.score, str(c.status), c.message) for c in report.checks]


def _failed(report: GradeReport) -> set[str]:
    return {c.name for c in report.checks if c.status != CheckStatus.PASSED}


def _mutant_submission(assignment: Assignment, mutant: Mutant, work: Path) -> Path:
    folder = work / Path(mutant.file).stem
    shutil.copytree(assignment.root / "solution", folder)
    entry = folder / assignment.load.file
    patch = (assignment.root / mutant.file).read_text()
    entry.write_text(entry.read_text() + "\n\n# --- mutant: " + mutant.file + " ---\n" + patch)
    return folder


def _hinted(report: GradeReport) -> list[str]:
    return sorted({c.hint for c in report.checks if c.hint})


def validate(
    assignment: Assignment,
    *,
    sandbox: str | None = None,
    log: Callable[[str], None] = print,
    examples: bool = False,
    seeds: int = 1,
) -> ValidationOutcome:
    """Grade the solution, the starter and every mutant; ``seeds``: how many submission seeds
    (0 .. seeds-1) the solution and each mutant are graded at. Reports are kept by label:
    "solution", "starter", "mutant FILE" (seed 0) and "... (seed S)" for the other seeds."""
    if seeds < 1:
        raise ValueError(f"seeds must be at least 1, got {seeds}")
    out = ValidationOutcome()
    full = assignment.max_score
    # What the folder lacks is named at once, not found as a crash halfway through.
    missing = [
        name
        for name in ("solution", "starter", *(m.file for m in assignment.mutants))
        if not (assignment.root / name).exists()
    ]
    if missing:
        out.fail(f"the folder has no {', '.join(missing)} (see docs/AUTHORING.md, 'The folder')")
        return out

    def run(label: str, path: Path, seed: int = 0) -> GradeReport:
        label = label if seed == 0 else f"{label} (seed {seed})"
        report = grade(assignment, path, sandbox=sandbox, seed=seed)
        out.reports[label] = report
        log(f"  {label}: {report.score:g}/{full:g} ({report.status})")
        if report.status != ReportStatus.GRADED:
            out.fail(f"{label}: grading ended with {report.status}: {report.message}")
        return report

    for seed in range(seeds):
        solution = run("solution", assignment.root / "solution", seed)
        if solution.score != full:
            at = f" at seed {seed}" if seeds > 1 else ""
            out.fail(
                f"solution scores {solution.score:g}/{full:g}{at}; "
                f"failing: {sorted(_failed(solution))}"
            )
    solution = out.reports["solution"]
    again = run("solution (second run)", assignment.root / "solution")
    if _fingerprint(again) != _fingerprint(solution):
        changed = [
            a[0]
            for a, b in zip(_fingerprint(solution), _fingerprint(again), strict=False)
            if a != b
        ]
        out.fail(f"two runs of the solution differ (not deterministic): {changed}")
    if _hinted(solution):
        out.fail(f"the solution receives hints of known mistakes: {_hinted(solution)}")

    starter = run("starter", assignment.root / "starter")
    if starter.score != 0:
        passing = sorted({c.name for c in starter.checks if c.score > 0})
        out.fail(f"starter scores {starter.score:g}, not 0; passing: {passing}")

    with tempfile.TemporaryDirectory(prefix="dlgrade-mutants-") as tmp:
        for mutant in assignment.mutants:
            folder = _mutant_submission(assignment, mutant, Path(tmp))
            for seed in range(seeds):
                report = run(f"mutant {mutant.file}", folder, seed)
                failed, expected = _failed(report), set(mutant.fails)
                at = f" at seed {seed}" if seeds > 1 else ""
                if hint_text(mutant) and not received(mutant, report.checks):
                    out.fail(
                        f"mutant {mutant.file}{at} does not receive its own hint (its failures "
                        f"must be wrong answers, time-outs or memory, not code that raised; "
                        f"docs/AUTHORING.md, 'Hints'); hints received: "
                        f"{_hinted(report) or 'none'}"
                    )
                if failed == expected:
                    continue
                through = sorted(expected - failed)
                extra = sorted(failed - expected)
                out.fail(
                    f"mutant {mutant.file}{at}: expected to fail {sorted(expected)}, "
                    f"but failed {sorted(failed)}"
                    + (f" (let through: {through})" if through else "")
                    + (f" (also failed: {extra})" if extra else "")
                )
    if examples:
        for path in sorted((assignment.root / "examples").glob("*")):
            if path.name.startswith((".", "_")):
                continue
            report = run(f"example {path.name}", path)
            if report.score == full and _hinted(report):
                out.fail(f"example {path.name} scores full marks yet receives hints")
            elif _hinted(report):
                log(f"    hints: {'; '.join(_hinted(report))}")
    return out
