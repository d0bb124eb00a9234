"""Grade one submission: unpack it, start its sandbox, run every check, build the report.

A catastrophic failure is a report, never an exception that sinks a batch
(Otter's lesson): a broken upload is ``rejected``, a sandbox we cannot start is
``platform_error``, and everything the student's code does wrong is a verdict
on the checks it affects.
"""

from __future__ import annotations

import functools
import os
import platform
import shutil
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from grader.archive import SubmissionError, unpack_submission
from grader.assignment import Assignment
from grader.checks import CheckFailed, CheckSpec, Student, Verdict, all_of
from grader.config import data_dir
from grader.messages import CheckResult, CheckStatus, GradeReport, ReportStatus
from grader.sandbox import SandboxSpec, SandboxUnavailable, make_sandbox
from grader.session import RunnerSession, StudentError

HERE = Path(__file__).resolve().parent
RUNNER_FILES = ("runner.py", "codec.py")

Progress = Callable[[int, int, str], None]


def _rejected(assignment: Assignment, message: str) -> GradeReport:
    return GradeReport(
        assignment=assignment.slug,
        score=0.0,
        max_score=assignment.max_score,
        status=ReportStatus.REJECTED,
        message=message,
        checks=tuple(
            CheckResult(c.name, 0.0, c.points, CheckStatus.ERROR, message, c.hidden)
            for c in assignment.checks
        ),
    )


def _place_submission(assignment: Assignment, src: Path, dest: Path) -> list[str]:
    """Unpack the upload; a lone .py file takes the name the assignment expects."""
    if src.is_file() and src.suffix == ".py" and len(assignment.student_files) == 1:
        # Staged beside the sandbox root, not inside it: the sandbox sees one copy only.
        staging = dest.parent.parent / "upload"
        staging.mkdir()
        shutil.copyfile(src, staging / assignment.student_files[0])
        src = staging
    written = unpack_submission(src, dest)
    missing = [f for f in assignment.student_files if not (dest / f).is_file()]
    if missing:
        found = ", ".join(sorted(written)) or "nothing"
        raise SubmissionError(f"the submission has no {', '.join(missing)} (found: {found[:300]})")
    return written


def public_data_dir(assignment: Assignment) -> Path | None:
    """The assignment's public data, built once by its ``public_data(dest)`` hook and cached."""
    hook = getattr(assignment.module, "public_data", None)
    if hook is None:
        return None
    target = data_dir() / "public" / f"{assignment.slug}-{assignment.manifest_hash[:16]}"
    if not (target / ".ready").exists():
        tmp = Path(tempfile.mkdtemp(prefix=".building-", dir=target.parent.parent))
        hook(tmp)
        (tmp / ".ready").write_text("ok\n")
        shutil.rmtree(target, ignore_errors=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp.rename(target)
    return target


def _link_tree(src: Path, dest: Path) -> None:
    """Hard-link (copy across file systems) a folder, world-readable for the sandbox user."""
    for path in src.rglob("*"):
        rel = path.relative_to(src)
        out = dest / rel
        if path.is_dir():
            out.mkdir(parents=True, exist_ok=True)
            continue
        out.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, out)
        except OSError:
            shutil.copyfile(path, out)
        os.chmod(out, 0o644)


def prepare_root(assignment: Assignment, submission: Path, work: Path, seed: int = 0) -> Path:
    """The folder mounted read-only at /sandbox: runner, student files, public data.

    An assignment whose checks.py defines ``submission_data(dest, seed)`` also gets
    files made for this grading alone (e.g. training data relabelled by a secret drawn
    from the seed: grader/training.py); they are written here, never cached.
    """
    root = work / "root"
    (root / "runner").mkdir(parents=True)
    for name in RUNNER_FILES:
        shutil.copyfile(HERE / name, root / "runner" / name)
    _place_submission(assignment, submission, root / "submission")
    (root / "data").mkdir()
    public = public_data_dir(assignment)
    if public is not None:
        _link_tree(public, root / "data")
    per_submission = getattr(assignment.module, "submission_data", None)
    if per_submission is not None:
        per_submission(root / "data", seed)
    for path in [root, *root.rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    os.chmod(work, 0o755)
    return root


def check_rng(seed: int, name: str) -> np.random.Generator:
    """Each check's inputs depend only on the seed and its name, so reports are reproducible."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return self.end - time.monotonic()


class _BoundedStudent(Student):
    """A student proxy whose calls never outlive the submission's total time."""

    def __init__(self, session: RunnerSession, call_seconds: float, deadline: _Deadline) -> None:
        super().__init__(session, call_seconds)
        self._deadline = deadline

    def _request(self, request: dict, seconds: float | None = None) -> Any:
        left = self._deadline.left()
        if left <= 0:
            raise StudentError(CheckStatus.TIMEOUT, "the submission's total time limit ran out")
        return self._session.request(request, min(seconds or self._seconds, left))


class CheckContext:
    """Optional third argument of a check: the manifest's settings and a progress line."""

    def __init__(self, assignment: Assignment, progress: Callable[[str], None]) -> None:
        self.assignment = assignment
        self.tolerances = assignment.tolerances
        self.progress = progress


def _to_verdict(value: Any) -> Verdict:
    if isinstance(value, Verdict):
        return value
    if isinstance(value, bool):
        return Verdict(value)
    if isinstance(value, list | tuple) and all(isinstance(v, Verdict) for v in value):
        return all_of(*value)
    raise TypeError(f"a check must return a Verdict, got {type(value).__name__}")


def run_check(
    spec: CheckSpec,
    student: Student,
    rng: np.random.Generator,
    ctx: CheckContext,
) -> tuple[CheckStatus, float, str]:
    """One check's status, credit in [0, 1] and message; nothing escapes as an exception."""
    try:
        result = spec.fn(student, rng, ctx) if spec.wants_ctx else spec.fn(student, rng)
        verdict = _to_verdict(result)
    except StudentError as err:
        return err.status, 0.0, err.message
    except CheckFailed as err:
        return CheckStatus.FAILED, 0.0, str(err)
    except Exception as err:
        return (
            CheckStatus.PLATFORM_ERROR,
            0.0,
            f"the check could not evaluate your result ({type(err).__name__}: {err})",
        )
    status = CheckStatus.PASSED if verdict.passed else CheckStatus.FAILED
    return status, verdict.credit, verdict.message


@functools.cache
def _host_versions() -> dict[str, str]:
    # Looked up once per process: reading torch's metadata scans the installed
    # distributions, a millisecond on every grading for the same answer.
    out = {"python": platform.python_version(), "numpy": np.__version__}
    try:
        from importlib.metadata import version

        out["torch"] = version("torch")
    except Exception:
        pass
    return out


def _versions() -> dict[str, str]:
    return dict(_host_versions())


def grade(
    assignment: Assignment,
    submission: str | Path,
    *,
    sandbox: str | None = None,
    seed: int = 0,
    on_progress: Progress | None = None,
) -> GradeReport:
    """Grade ``submission`` (a .py file, a folder or a .zip) against ``assignment``."""
    started = time.monotonic()
    submission = Path(submission)
    work = Path(tempfile.mkdtemp(prefix="dlgrade-"))
    try:
        try:
            root = prepare_root(assignment, submission, work, seed)
        except SubmissionError as err:
            return _rejected(assignment, str(err))
        spec = SandboxSpec(
            root=root,
            environment=assignment.environment,
            limits=assignment.limits,
            gpu=assignment.gpu,
            label=f"{assignment.slug}:{submission.name}",
        )
        try:
            box = make_sandbox(sandbox, spec)
        except SandboxUnavailable as err:
            return GradeReport(
                assignment.slug,
                0.0,
                assignment.max_score,
                ReportStatus.PLATFORM_ERROR,
                message=f"the sandbox could not start: {err}",
            )
        session = RunnerSession(box, assignment.load, output_limit=assignment.limits.output_bytes)
        deadline = _Deadline(assignment.total_seconds)
        results: list[CheckResult] = []
        try:
            total = len(assignment.checks)
            for k, spec_ in enumerate(assignment.checks, start=1):
                if on_progress:
                    on_progress(k, total, spec_.name)
                student = _BoundedStudent(
                    session, spec_.timeout or assignment.call_seconds, deadline
                )
                ctx = CheckContext(
                    assignment, lambda text, k=k: on_progress and on_progress(k, total, text)
                )
                t0 = time.monotonic()
                status, credit, message = run_check(
                    spec_, student, check_rng(seed, spec_.name), ctx
                )
                results.append(
                    CheckResult(
                        name=spec_.name,
                        score=round(spec_.points * credit, 6),
                        max_score=spec_.points,
                        status=status,
                        message=message,
                        hidden=spec_.hidden,
                        seconds=round(time.monotonic() - t0, 3),
                    )
                )
        finally:
            session.close()
            box.close()
        output, printed = session.output()
        if printed > len(output.encode()):
            output += f"\n[output truncated: {printed} bytes printed, first {len(output)} shown]"
        loaded = session.load_result if isinstance(session.load_result, dict) else {}
        environment = {
            **_versions(),
            **box.describe(),
            "sandbox_versions": loaded.get("versions", {}),
            "seed": seed,
            "wall_seconds": round(time.monotonic() - started, 3),
            "peak_memory_mb": round(session.peak_kb / 1024, 1) if session.peak_kb else None,
            "runner_starts": session.starts,
        }
        broken = any(r.status == CheckStatus.PLATFORM_ERROR for r in results)
        return GradeReport(
            assignment=assignment.slug,
            score=round(sum(r.score for r in results), 6),
            max_score=assignment.max_score,
            status=ReportStatus.PLATFORM_ERROR if broken else ReportStatus.GRADED,
            checks=tuple(results),
            message=session.load_failure.message if session.load_failure else "",
            output=output,
            environment=environment,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
