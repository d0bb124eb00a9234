"""The ``dlgrade`` command line."""

from __future__ import annotations

import argparse
import contextlib
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

from grader.assignment import AssignmentError, load_assignment, read_folder
from grader.config import REPO_ROOT
from grader.sandbox import KINDS, SandboxSpec, SandboxUnavailable, default_kind


def _grade(args: argparse.Namespace) -> int:
    gpu = getattr(args, "gpu", False)
    with _sandbox_started_early(args.assignment, args.sandbox, gpu) as kind:
        from grader.engine import grade
        from grader.messages import ReportStatus, bounded, report_json
        from grader.report import render_text

        assignment = load_assignment(args.assignment)
        report = grade(assignment, args.submission, sandbox=kind, seed=args.seed, gpu=gpu)
    if args.student_view:
        report = report.student_view()
    if args.json:
        # Strict JSON (no NaN tokens) within the report's bound (the student view adds
        # a line): what any consumer's parser accepts.
        sys.stdout.write(report_json(bounded(report)) + "\n")
    else:
        print(render_text(report))
    return 2 if report.status == ReportStatus.PLATFORM_ERROR else 0


@contextlib.contextmanager
def _sandbox_started_early(folder: str, kind: str | None, gpu: bool) -> Iterator[str]:
    """The sandbox kind to grade in, its sandbox already starting (``pool.head_start``).

    Reading the manifest needs no numpy, so the sandbox (its interpreter and numpy)
    starts before this process imports numpy and the checks: on two cores the two
    imports run side by side. A sandbox with the GPU always starts at its grading.
    """
    manifest = read_folder(folder)
    kind = kind or default_kind(manifest.environment)
    if gpu:
        yield kind
        return
    from grader.sandbox.pool import head_start

    spec = SandboxSpec(Path(folder), manifest.environment, manifest.limits, gpu=False)
    with head_start(kind, spec):
        yield kind


def _validate(args: argparse.Namespace) -> int:
    from grader.validate import validate

    assignment = load_assignment(args.assignment)
    outcome = validate(
        assignment,
        sandbox=args.sandbox,
        log=lambda s: print(s, flush=True),
        examples=args.examples,
        seeds=args.seeds,
    )
    print(("VALID: " if outcome.ok else "INVALID: ") + outcome.summary)
    return 0 if outcome.ok else 1


def _new(args: argparse.Namespace) -> int:
    from grader.scaffold import new_assignment

    try:
        root = new_assignment(args.slug, Path(args.dir))
    except (ValueError, FileExistsError) as err:
        print(f"dlgrade: {err}", file=sys.stderr)
        return 2
    print(f"created {root}: assignment.toml, checks.py, starter/, solution/, mutants/")
    print(f"next: dlgrade assignment validate {root} --sandbox local")
    return 0


def _try(args: argparse.Namespace) -> int:
    with _sandbox_started_early(args.assignment, args.sandbox, gpu=False) as kind:
        from grader.engine import grade
        from grader.messages import ReportStatus
        from grader.scaffold import try_summary

        assignment = load_assignment(args.assignment)
        print(f"trying {args.submission} against {assignment.slug} (seed {args.seed})", flush=True)
        report = grade(assignment, args.submission, sandbox=kind, seed=args.seed)
    print(try_summary(report))
    return 2 if report.status == ReportStatus.PLATFORM_ERROR else 0


def _keys(args: argparse.Namespace) -> int:
    from grader.scaffold import manifest_key_table

    print(manifest_key_table())
    return 0


def _demo(args: argparse.Namespace) -> int:
    """Grade the bundled sample submission of the built-in activations assignment."""
    folder = REPO_ROOT / "assignments" / "activations"
    ns = argparse.Namespace(
        assignment=str(folder),
        submission=str(folder / "examples" / "sample_submission.py"),
        sandbox=args.sandbox,
        seed=0,
        json=False,
        student_view=False,
    )
    return _grade(ns)


def _images(args: argparse.Namespace) -> int:
    from grader.sandbox.images import main_build

    return main_build(args.rest)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


# The engine's own commands: for these the packages above the engine are never imported.
ENGINE_COMMANDS = frozenset({"grade", "assignment", "demo", "images"})


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The whole command line; for an engine command (``argv[0]``), the engine's part only.

    Finding and importing the portal's and the worker's commands imports Flask
    and scans the installed distributions: about 0.3 s idle, a second on a
    loaded host, on every ``dlgrade grade`` that never uses them.
    """
    parser = argparse.ArgumentParser(prog="dlgrade", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    g = sub.add_parser("grade", help="grade a submission and print its report")
    g.add_argument("assignment", help="assignment folder, e.g. assignments/activations")
    g.add_argument("submission", help="a .py file, a folder or a .zip")
    g.add_argument("--sandbox", choices=KINDS, default=None)
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--json", action="store_true", help="print one JSON object")
    g.add_argument(
        "--gpu",
        action="store_true",
        help="grade as a GPU worker does: the sandbox gets the GPUs (Docker: --gpus all; "
        "local: the NVIDIA devices and driver) and the manifest's gpu_* time limits; "
        "without it CUDA calls run on the CPU",
    )
    g.add_argument(
        "--student-view", action="store_true", help="hide hidden checks' messages, as students see"
    )
    g.set_defaults(func=_grade, skip_teardown=True)

    a = sub.add_parser("assignment", help="instructor tools for assignment folders")
    asub = a.add_subparsers(dest="action", required=True)
    v = asub.add_parser("validate", help="prove an assignment sound before students see it")
    v.add_argument("assignment")
    v.add_argument("--sandbox", choices=KINDS, default=None)
    v.add_argument(
        "--examples",
        action="store_true",
        help="grade examples/ too: one that scores full marks must receive no hint",
    )
    v.add_argument(
        "--seeds",
        type=_positive_int,
        default=1,
        help="grade the solution and every mutant at submission seeds 0..N-1 (other visible "
        "and hidden inputs each); one seed that lets a mutant through makes it INVALID",
    )
    v.set_defaults(func=_validate)
    n = asub.add_parser("new", help="scaffold an assignment folder that validates at once")
    n.add_argument("slug", help="lower-case words joined by '-', e.g. losses-2")
    n.add_argument("--dir", default="assignments", help="where the folder goes (assignments)")
    n.set_defaults(func=_new)
    t = asub.add_parser(
        "try", help="grade a file against an assignment: each check's status, points and time"
    )
    t.add_argument("assignment")
    t.add_argument("submission", help="a .py file, a folder or a .zip")
    t.add_argument("--sandbox", choices=KINDS, default=None)
    t.add_argument("--seed", type=int, default=0)
    t.set_defaults(func=_try, skip_teardown=True)
    k = asub.add_parser("keys", help="every manifest key: type, default, meaning (Markdown)")
    k.set_defaults(func=_keys)

    d = sub.add_parser("demo", help="grade the bundled sample submission and print its report")
    d.add_argument("--sandbox", choices=KINDS, default=None)
    d.set_defaults(func=_demo)

    i = sub.add_parser("images", help="the Docker sandbox images")
    i.add_argument("action", choices=["build"], help="build the images (see 'images build -h')")
    i.add_argument("rest", nargs=argparse.REMAINDER)
    i.set_defaults(func=_images)

    if not argv or argv[0] not in ENGINE_COMMANDS:
        _plugin_commands(sub)
    return parser


def _plugin_commands(sub: argparse._SubParsersAction) -> None:
    """Commands of the packages above the engine (worker, web), found by entry point.

    Each ``dlgrade.cli`` entry point names a ``register(subparsers)`` function:
    the engine never imports those packages by name. One that cannot be
    imported (its dependencies missing) leaves its commands out.
    """
    from importlib.metadata import entry_points

    for entry in entry_points(group="dlgrade.cli"):
        try:
            register = entry.load()
        except ImportError as err:
            print(f"dlgrade: commands of {entry.value} unavailable: {err}", file=sys.stderr)
            continue
        register(sub)


def main(argv: list[str] | None = None) -> int:
    return _main(sys.argv[1:] if argv is None else argv)[0]


def _main(argv: list[str]) -> tuple[int, argparse.Namespace]:
    args = build_parser(argv).parse_args(argv)
    warnings.simplefilter("default")
    try:
        return int(args.func(args) or 0), args
    except (AssignmentError, SandboxUnavailable, FileNotFoundError) as err:
        print(f"dlgrade: {err}", file=sys.stderr)
        return 2, args


def run() -> NoReturn:
    """The installed ``dlgrade`` command: ``main``, then its exit."""
    code, args = _main(sys.argv[1:])
    if getattr(args, "skip_teardown", False):
        exit_without_teardown(code)
    sys.exit(code)


def exit_without_teardown(code: int) -> NoReturn:
    """Leave as the interpreter's exit would, less its teardown of every module and object.

    After a grading this process holds numpy, the checks and their data; freeing them
    one by one at exit took about 85 ms of a 0.6 s ``dlgrade grade`` on a 2-core host.
    What an exit must still do is done here, in the interpreter's order: threads that
    are not daemons are waited for, the atexit functions run (logging's flush, the
    finalizers of temporary folders), and the standard streams are flushed. The
    grading commands print their report and leave no other file open for writing.
    """
    import atexit
    import os
    import threading
    import traceback

    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    try:
        atexit._run_exitfuncs()
    except Exception:  # as the interpreter does: said, and the exit goes on
        traceback.print_exc()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            # The status the interpreter gives when its final flush of stdout fails.
            code = code or 120
    os._exit(code)


if __name__ == "__main__":
    run()
