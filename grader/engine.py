"""Grade one submission: unpack it, start its sandbox, run every check, build the report.

A catastrophic failure is a report, never an exception that sinks a batch
(Otter's lesson): a broken upload is ``rejected``, a sandbox we cannot start is
``platform_error``, and everything the student's code does wrong is a verdict
on the checks it affects.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import hmac
import os
import platform
import shutil
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from grader.archive import SubmissionError, unpack_submission
from grader.assignment import Assignment
from grader.checks import CheckFailed, CheckSpec, Student, Verdict, all_of, default_tolerances
from grader.config import data_dir, secret_key
from grader.feedback import function_of, starter_functions
from grader.hints import with_hints
from grader.messages import (
    MESSAGE_CHARS,
    CheckResult,
    CheckStatus,
    GradeReport,
    ReportStatus,
    bounded,
    clip,
)
from grader.sandbox import Sandbox, SandboxSpec, SandboxUnavailable, make_sandbox
from grader.session import (
    WALL_BACKSTOP_FACTOR,
    LoadFailed,
    PlatformFault,
    RunnerSession,
    StudentError,
)

HERE = Path(__file__).resolve().parent
RUNNER_FILES = ("runner.py", "codec.py", "cuda_on_cpu.py")
# Stated by the trusted side, which decided that this grading has no GPU: never a
# claim of the sandbox (which cannot tell a worker without a GPU from a hidden one).
CUDA_ON_CPU = "CUDA calls were mapped to the CPU: this worker has no GPU"

Progress = Callable[[int, int, str], None]
# What the progress line says of a hidden check: never its name (see ``grade``).
HIDDEN_PROGRESS = "hidden check"
# The report of a grading stopped by a fault of the host: no verdict, and no blame.
FAULT_PREFIX = "no verdict: the grading host failed, not the submission: "


def _rejected(assignment: Assignment, message: str) -> GradeReport:
    message = clip(message, MESSAGE_CHARS)  # it names the upload's entries, chosen by the student
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
    """Each check's inputs depend only on the seed and its name, so reports are reproducible.

    Visible checks get the submission's seed; hidden checks get ``hidden_seed(seed)``.
    """
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def hidden_seed(seed: int) -> int:
    """The hidden checks' seed: an HMAC of the submission's seed under the service's key.

    The submission's seed is no secret (a worker uses the submission's id), so
    inputs drawn from it can be printed by one submission and looked up by the
    next. This one cannot be computed without the key, which never enters a
    sandbox; the staff report records it, so a report can still be reproduced.
    """
    digest = hmac.new(secret_key(), f"dlgrade-hidden:{seed}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big")


class _Budget:
    """The submission's total time: what its calls cost (CPU time where it is counted)."""

    def __init__(self, seconds: float, session: RunnerSession) -> None:
        self.seconds = seconds
        self.session = session

    def left(self) -> float:
        return self.seconds - self.session.spent


class _BoundedStudent(Student):
    """A student proxy whose calls never outlive the submission's total time."""

    def __init__(self, session: RunnerSession, call_seconds: float, budget: _Budget) -> None:
        super().__init__(session, call_seconds)
        self._budget = budget
        self.not_run = False  # the check stopped because the file did not load

    def _request(self, request: dict, seconds: float | None = None) -> Any:
        left = self._budget.left()
        if left <= 0:
            raise StudentError(CheckStatus.TIMEOUT, "the submission's total time limit ran out")
        try:
            return self._session.request(request, min(seconds or self._seconds, left))
        except LoadFailed:
            self.not_run = True
            raise


class CheckContext:
    """Optional third argument of a check: the manifest's settings and a progress line."""

    def __init__(self, assignment: Assignment, progress: Callable[[str], None]) -> None:
        self.assignment = assignment
        self.tolerances = assignment.tolerances
        self.progress = progress


def _time_basis(session: RunnerSession, box: Sandbox) -> str:
    """How this grading's time limits were counted, in words for the report."""
    if session.counted_cpu or (session.starts == 0 and box.measures_cpu):
        return (
            "CPU time of the sandbox's processes together (a busy host costs no points); "
            f"wall time only as a backstop at {WALL_BACKSTOP_FACTOR} times each limit"
        )
    why = box.why_wall_clock or "the sandbox's CPU time could not be read"
    return f"wall-clock ({why}): a busy host can make a call time out"


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
) -> tuple[CheckStatus, float, str, dict[str, Any] | None]:
    """One check's status, credit in [0, 1], message and training figures (a training
    check's runs, else None); nothing escapes as an exception.

    Messages are clipped: a check may quote what the submission sent (an answer, an
    error, a name), and the report must stay small whatever that was.
    """
    try:
        # compare() without tolerances of its own takes the manifest's [tolerances].
        with default_tolerances(**ctx.tolerances):
            result = spec.fn(student, rng, ctx) if spec.wants_ctx else spec.fn(student, rng)
        verdict = _to_verdict(result)
    except StudentError as err:
        return err.status, 0.0, clip(err.message, MESSAGE_CHARS), None
    except CheckFailed as err:
        return CheckStatus.FAILED, 0.0, clip(str(err), MESSAGE_CHARS), None
    except PlatformFault:
        raise  # no verdict on this check or any later one: the grading stops
    except Exception as err:
        what = clip(f"{type(err).__name__}: {err}", MESSAGE_CHARS)
        return (
            CheckStatus.PLATFORM_ERROR,
            0.0,
            f"the check could not evaluate your result ({what})",
            None,
        )
    status = CheckStatus.PASSED if verdict.passed else CheckStatus.FAILED
    return status, verdict.credit, clip(verdict.message, MESSAGE_CHARS), verdict.training


def _versions() -> dict[str, str]:
    """What the trusted side graded with: torch where its checks imported it.

    Read from the imported modules: importlib.metadata would import email and
    scan every installed distribution, a fifth of a second of a CLI grading's
    start on a loaded host, for a torch that a NumPy assignment never uses.
    """
    out = {"python": platform.python_version(), "numpy": np.__version__}
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(getattr(torch, "__version__", None), str):
        out["torch"] = str(torch.__version__)
    return out


def _within_bounds(grade_fn: Callable[..., GradeReport]) -> Callable[..., GradeReport]:
    """Every report ``grade`` returns fits in ``messages.REPORT_MAX_BYTES`` of strict JSON."""

    @functools.wraps(grade_fn)
    def wrapper(*args: Any, **kwargs: Any) -> GradeReport:
        return bounded(grade_fn(*args, **kwargs))

    return wrapper


@_within_bounds
def grade(
    assignment: Assignment,
    submission: str | Path,
    *,
    sandbox: str | None = None,
    seed: int = 0,
    on_progress: Progress | None = None,
    secret_seed: int | None = None,
    gpu: bool = False,
) -> GradeReport:
    """Grade ``submission`` (a .py file, a folder or a .zip) against ``assignment``.

    ``secret_seed``: the hidden checks' seed, to reproduce a staff report; by
    default ``hidden_seed(seed)``.
    ``gpu``: this grading runs on a GPU worker (the run came through the gpu queue):
    the sandbox gets the GPU and the manifest's gpu time limits. Without one, the
    runner maps the homework's CUDA calls onto the CPU and the report says so.
    """
    started = time.monotonic()
    secret = hidden_seed(seed) if secret_seed is None else secret_seed
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
            gpu=gpu,
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
        total_s, load_s, call_s = assignment.time_limits(gpu)
        load = dataclasses.replace(assignment.load, seconds=load_s, cuda_on_cpu=not gpu)
        session = RunnerSession(box, load, output_limit=assignment.limits.output_bytes)
        budget = _Budget(total_s, session)
        results: dict[int, CheckResult] = {}
        functions = starter_functions(assignment.root)
        # Visible checks first: until the first hidden request is sent, the submission
        # has seen no hidden input, so nothing it prints or returns before then (in
        # visible messages, in the output up to ``boundary``) can repeat one.
        order = sorted(range(len(assignment.checks)), key=lambda i: assignment.checks[i].hidden)
        boundary: tuple[int, int] | None = None
        fault: PlatformFault | None = None
        try:
            total = len(assignment.checks)
            for k, index in enumerate(order, start=1):
                spec_ = assignment.checks[index]
                if spec_.hidden and boundary is None:
                    boundary = session.mark()
                # The progress line reaches the student while grading, before any release
                # time (which the engine does not know): a hidden check is never named in
                # it, nor is what the check reports of its own progress.
                shown = HIDDEN_PROGRESS if spec_.hidden else spec_.name
                if on_progress:
                    on_progress(k, total, shown)
                student = _BoundedStudent(session, spec_.timeout or call_s, budget)
                ctx = CheckContext(
                    assignment,
                    lambda text, k=k, h=spec_.hidden: (
                        on_progress and on_progress(k, total, HIDDEN_PROGRESS if h else text)
                    ),
                )
                t0 = time.monotonic()
                rng = check_rng(secret if spec_.hidden else seed, spec_.name)
                try:
                    status, credit, message, figures = run_check(spec_, student, rng, ctx)
                except PlatformFault as err:
                    fault = err
                    break
                results[index] = CheckResult(
                    name=spec_.name,
                    score=round(spec_.points * credit, 6),
                    max_score=spec_.points,
                    status=status,
                    message=message,
                    hidden=spec_.hidden,
                    seconds=round(time.monotonic() - t0, 3),
                    function=function_of(spec_.name, functions),
                    not_run=student.not_run,
                    training=figures,
                )
        finally:
            session.close()
            box.close()
        (output, printed), (hidden_output, hidden_printed) = session.output_split(
            boundary or (len(session.captures), 0)
        )
        if printed > len(output.encode()):
            output += f"\n[output truncated: {printed} bytes printed, first {len(output)} shown]"
        if hidden_printed > len(hidden_output.encode()):
            hidden_output += (
                f"\n[output truncated: {hidden_printed} bytes printed, "
                f"first {len(hidden_output)} shown]"
            )
        checks = tuple(results[i] for i in range(len(assignment.checks)) if i in results)
        checks = with_hints(assignment, checks)
        loaded = session.load_result if isinstance(session.load_result, dict) else {}
        environment = {
            **_versions(),
            **box.describe(),
            "sandbox_versions": loaded.get("versions", {}),
            "seed": seed,
            "hidden_seed": secret,  # for staff: GradeReport.student_view() strips it
            "wall_seconds": round(time.monotonic() - started, 3),
            "peak_memory_mb": round(session.peak_kb / 1024, 1) if session.peak_kb else None,
            "runner_starts": session.starts,
            "sandbox_start_s": session.first_ready_s,
            "time_limits": _time_basis(session, box),
            "gpu": gpu,
        }
        if not gpu and assignment.environment == "torch":
            environment["cuda"] = CUDA_ON_CPU
        if fault is not None:
            # No verdict at all: the checks graded before the fault are dropped too, so
            # that nothing of a broken attempt can be read as the submission's grade.
            return GradeReport(
                assignment.slug,
                0.0,
                assignment.max_score,
                ReportStatus.PLATFORM_ERROR,
                message=f"{FAULT_PREFIX}{fault.message}",
                output=output,
                environment=environment,
            )
        broken = any(r.status == CheckStatus.PLATFORM_ERROR for r in checks)
        return GradeReport(
            assignment=assignment.slug,
            score=round(sum(r.score for r in checks), 6),
            max_score=assignment.max_score,
            status=ReportStatus.PLATFORM_ERROR if broken else ReportStatus.GRADED,
            checks=checks,
            message=session.load_failure.message if session.load_failure else "",
            output=output,
            environment=environment,
            hidden_output=hidden_output,
            hidden_release=release.isoformat() if (release := assignment.hidden_release) else None,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
