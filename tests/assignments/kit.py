"""What the homework test files share: loading a homework, grading a source text, the
validate assertion, and the submission wrappers (NumPy's error state off, float32 inside
and float64 outside) that any homework must survive.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from grader.assignment import Assignment, load_assignment
from grader.engine import grade
from grader.messages import CheckStatus, GradeReport, ReportStatus
from grader.sandbox.local import bwrap_path
from grader.validate import ValidationOutcome, validate
from tests.conftest import require

ASSIGNMENTS = Path(__file__).resolve().parents[2] / "assignments"


def mutant_files(folder: Path) -> list[str]:
    """The mutants the manifest declares, in its order (for parametrize)."""
    return [m["file"] for m in tomllib.loads((folder / "assignment.toml").read_text())["mutants"]]


def assignment_fixture(folder: Path) -> Any:
    """A module-scoped ``assignment`` fixture loading ``folder`` (graded in bubblewrap)."""

    @pytest.fixture(scope="module")
    def assignment() -> Assignment:
        require(bwrap_path() is not None, "bubblewrap", "apt-get install bubblewrap")
        return load_assignment(folder)

    return assignment


def grade_source(assignment: Assignment, tmp_path: Path, src: str, seed: int = 0) -> GradeReport:
    """``src`` graded in the local sandbox as the homework's one student file."""
    (name,) = assignment.student_files
    sub = tmp_path / name
    sub.write_text(src)
    return grade(assignment, sub, sandbox="local", seed=seed)


def not_passed(report: GradeReport) -> list[tuple[str, str]]:
    return [(c.name, c.message) for c in report.checks if c.status != CheckStatus.PASSED]


# Submission seeds the NumPy homework is validated at: each draws other visible inputs and
# other secret hidden ones, so a rule reached only by some random draws shows here.
SEEDS = 5


def seed_label(label: str, seed: int) -> str:
    """The key of ``label``'s report at ``seed`` in a validation's reports."""
    return label if seed == 0 else f"{label} (seed {seed})"


def validated_fixture() -> Any:
    """A module-scoped ``validated`` fixture: the homework validated at SEEDS seeds, once."""

    @pytest.fixture(scope="module")
    def validated(assignment: Assignment) -> ValidationOutcome:
        return validate(assignment, sandbox="local", log=lambda _: None, seeds=SEEDS)

    return validated


def assert_validates(
    assignment: Assignment,
    max_score: float,
    outcome: ValidationOutcome | None = None,
    seeds: int = SEEDS,
) -> None:
    """'dlgrade assignment validate --seeds 5': at every seed the solution scores ``max_score``
    (the whole homework) and each mutant exactly the points of the checks it declares less;
    the starter scores 0."""
    if outcome is None:
        outcome = validate(assignment, sandbox="local", log=lambda _: None, seeds=seeds)
    assert outcome.ok, outcome.summary
    assert outcome.reports["starter"].score == 0
    for seed in range(seeds):
        assert outcome.reports[seed_label("solution", seed)].score == assignment.max_score
        assert assignment.max_score == max_score
        for mutant in assignment.mutants:
            report = outcome.reports[seed_label(f"mutant {mutant.file}", seed)]
            lost = sum(c.max_score for c in report.checks if c.name in mutant.fails)
            assert lost > 0
            assert report.score == pytest.approx(assignment.max_score - lost)


def assert_rule_enforced(
    outcome: ValidationOutcome, file: str, check: str, *phrases: str
) -> list[str]:
    """At every seed, mutant ``file`` does not pass ``check`` (fails it, or its call raises),
    with a message holding each of ``phrases`` (the rule it broke), and the solution passes
    that check. The messages."""
    messages = []
    for seed in range(SEEDS):
        mutant = outcome.reports[seed_label(f"mutant {file}", seed)]
        solution = outcome.reports[seed_label("solution", seed)]
        (broken,) = [c for c in mutant.checks if c.name == check]
        (right,) = [c for c in solution.checks if c.name == check]
        assert broken.status != CheckStatus.PASSED and broken.score == 0, (seed, broken.message)
        for phrase in phrases:
            assert phrase in broken.message, (seed, phrase, broken.message)
        assert right.status == CheckStatus.PASSED, (seed, right.message)
        messages.append(broken.message)
    return messages


def assert_validate_command_passes(folder: Path, *labels: str) -> str:
    """`dlgrade assignment validate FOLDER --sandbox local`, as an instructor types it: exit
    0, VALID, and each of ``labels`` (e.g. "solution: 20/20") in what it prints."""
    command = ["assignment", "validate", str(folder), "--sandbox", "local"]
    done = subprocess.run(
        [sys.executable, "-m", "grader.cli", *command],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "VALID" in done.stdout
    for label in labels:
        assert label in done.stdout, done.stdout
    return done.stdout


CUDA_ON_CPU_NOTE = "CUDA calls were mapped to the CPU: this worker has no GPU"


def assert_torch_example_scores_full(assignment: Assignment, path: Path, threshold: float):
    """A course-style PyTorch homework (hard-coded CUDA) graded on this CPU-only machine: one
    check, full marks, an accuracy at the threshold or above, and the CUDA note. Its result."""
    report = grade(assignment, path, sandbox="local", seed=8)
    assert report.status == ReportStatus.GRADED
    (result,) = report.checks
    assert (result.status, result.score) == (CheckStatus.PASSED, 20.0), result.message
    # The accuracy that decides: one run's, or near the threshold the median of three (the
    # first run's own may be below it: training's randomness, which the median settles).
    runs = result.training["runs"]
    assert result.training["median"] >= threshold, [r["accuracy"] for r in runs]
    if len(runs) == 1:
        first = float(re.search(r"test accuracy ([\d.]+)%", result.message).group(1))
        assert first == pytest.approx(100 * runs[0]["accuracy"], abs=0.005)
    assert report.environment["cuda"] == CUDA_ON_CPU_NOTE
    return result


QUIET = """

def _quiet(fn):
    def quiet(*args, **kwargs):
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs)

    return quiet


for _name, _fn in list(globals().items()):
    if callable(_fn) and not _name.startswith("_") and not isinstance(_fn, type):
        globals()[_name] = _quiet(_fn)
"""


def assert_mutant_loses_what_it_declares(
    assignment: Assignment, tmp_path: Path, solution: str, file: str
) -> None:
    """The solution with mutant ``file`` pasted after it, another submission seed (so other
    hidden inputs) and NumPy's error state off inside the sandbox (QUIET): the report
    fails exactly the checks the mutant declares."""
    (mutant,) = [m for m in assignment.mutants if m.file == file]
    src = solution + "\n\n" + (assignment.root / file).read_text() + QUIET
    report = grade_source(assignment, tmp_path, src, seed=20261130)
    assert report.status == ReportStatus.GRADED
    assert {c.name for c in report.checks if c.status != CheckStatus.PASSED} == set(mutant.fails)


CONVERTED_AT_THE_END = """

# --- float32 inside, float64 outside: every result converted at the end ---
def _to64(v):
    if isinstance(v, np.ndarray) and v.dtype == np.float32:
        return v.astype(np.float64)
    if isinstance(v, np.floating):
        return float(v)
    if isinstance(v, tuple | list):
        return type(v)(_to64(e) for e in v)
    if isinstance(v, dict):
        return {k: _to64(e) for k, e in v.items()}
    return v


def _converted(fn):
    return lambda *args, **kwargs: _to64(fn(*args, **kwargs))


for _name, _fn in list(globals().items()):
    if callable(_fn) and not _name.startswith("_") and getattr(_fn, "__module__", "") == __name__:
        if not isinstance(_fn, type):
            globals()[_name] = _converted(_fn)
"""
