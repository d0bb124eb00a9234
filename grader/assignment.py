"""Load an assignment folder: its manifest (assignment.toml) and its checks (checks.py).

The engine never names an assignment: everything it needs to know is here.
checks.py is trusted instructor code and is imported in this process; it must
never be copied into a sandbox.

The manifest is read against ``SCHEMA``, the one table of every key with its
type, default and meaning (docs/AUTHORING.md lists the same table, and a test
keeps the two in step). An unknown key or table, a value of the wrong type, an
unknown queue or environment is an error that names the key; every error in a
manifest is reported at once.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib.util
import sys
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from types import ModuleType
from typing import TYPE_CHECKING, Any

from grader.sandbox.base import SandboxLimits
from grader.sandbox.environments import ENVIRONMENTS
from grader.tolerance import DEFAULT_ATOL, DEFAULT_RTOL

if TYPE_CHECKING:  # the checks API and the session import numpy: reading a manifest need not
    from grader.checks import CheckSpec
    from grader.session import LoadSpec

QUEUES = ("cpu", "gpu")
LOAD_MODES = ("import", "script")
COUNTS = ("latest", "best")


class AssignmentError(ValueError):
    """The assignment folder is malformed (an instructor's error, reported as such)."""


# -- the manifest's schema -----------------------------------------------------------


class _Required:
    def __repr__(self) -> str:
        return "required"


REQUIRED: Any = _Required()


@dataclass(frozen=True)
class Derived:
    """A default that follows from other keys, in words (e.g. "the slug")."""

    text: str


@dataclass(frozen=True)
class Key:
    """One manifest key: where it lives, its type, its default and what it means.

    ``name`` is dotted: ``slug`` at the top level, ``limits.memory_mb`` in
    ``[limits]``, ``mutants.file`` in each ``[[mutants]]`` entry.
    """

    name: str
    type: str  # one of TYPES
    default: Any  # a value, REQUIRED or Derived(...)
    meaning: str
    choices: tuple[str, ...] = ()
    positive: bool = False  # numbers: > 0 (limits); otherwise >= 0 where numeric

    @property
    def table(self) -> str:
        return self.name.rpartition(".")[0]

    @property
    def leaf(self) -> str:
        return self.name.rpartition(".")[2]


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _is_when(v: Any) -> bool:
    if isinstance(v, datetime):
        return True
    if isinstance(v, str):
        try:
            datetime.fromisoformat(v)
        except ValueError:
            return False
        return True
    return False


def _is_rate(v: Any) -> bool:
    count, sep, seconds = v.partition("/") if isinstance(v, str) else ("", "", "")
    try:
        return bool(sep) and int(count) >= 1 and float(seconds) > 0
    except ValueError:
        return False


# type name -> (test, how an error says what was expected)
TYPES: dict[str, tuple[Any, str]] = {
    "string": (lambda v: isinstance(v, str), "a string"),
    "integer": (lambda v: isinstance(v, int) and not isinstance(v, bool), "an integer"),
    "number": (_is_number, "a number"),
    "boolean": (lambda v: isinstance(v, bool), "true or false"),
    "list of strings": (
        lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
        "a list of strings",
    ),
    "table of strings": (
        lambda v: isinstance(v, dict) and all(isinstance(x, str) for x in v.values()),
        'a table of strings, e.g. { data = "run0" }',
    ),
    "date-time": (_is_when, 'a date-time with its offset, e.g. "2026-12-07T23:59:00+00:00"'),
    "rate": (_is_rate, 'a rate "COUNT/SECONDS", e.g. "30/3600"'),
}

SCHEMA: tuple[Key, ...] = (
    Key("slug", "string", REQUIRED,
        "The assignment's short name, unique in a course (URLs, reports)."),
    Key("title", "string", Derived("the slug"), "The title students see."),
    Key("version", "integer", 1, "The instructor's version number, shown to staff."),
    Key("summary", "string", "", "What students are asked to do and what the points are for."),
    Key(
        "environment", "string", "numpy",
        "The sandbox's packages: numpy (torch is not importable) or torch.",
        choices=tuple(ENVIRONMENTS),
    ),
    Key(
        "queue", "string", "cpu",
        "The workers preferred: cpu, or gpu (graded on a GPU worker where there is one).",
        choices=QUEUES,
    ),
    Key(
        "cpu_fallback", "boolean", False,
        "With queue = \"gpu\": a deployment without GPU workers grades it on CPU workers "
        "(CUDA mapped onto the CPU) under the CPU limits.",
    ),
    Key("submission.files", "list of strings", REQUIRED,
        "The files students hand in (a lone .py upload takes the first name)."),
    Key("submission.entry", "string", Derived("the first of submission.files"),
        "The file the runner loads."),
    Key("submission.module", "string", Derived("the entry's name without .py"),
        "The module name the entry is imported as."),
    Key("submission.mode", "string", "import",
        "import: the entry is imported (an `if __name__ == \"__main__\":` block stays idle); "
        "script: it is run as __main__.", choices=LOAD_MODES),
    Key("submission.global", "string", Derived("none: the first of net, model, network"),
        "The global that holds the network a script trained (one with a forward())."),
    Key("submission.rate_limit", "rate", Derived("the service's DLGRADE_RATE_LIMIT"),
        "How many submissions a student may make per window, \"COUNT/SECONDS\"."),
    Key("submission.counts", "string", "latest",
        "Which submission counts for the grade, until the course's staff choose.",
        choices=COUNTS),
    Key("data.links", "table of strings", {},
        "Folders in the submission's working directory -> folders under the sandbox's data/ "
        "(written by checks.py's public_data / submission_data hooks)."),
    Key("limits.call_seconds", "number", 10,
        "CPU time of one call into the submission, per core of limits.cpus (wall time: 4x, "
        "a backstop).", positive=True),
    Key("limits.load_seconds", "number", 30,
        "CPU time to load the submission (a script trains while it loads), as call_seconds.",
        positive=True),
    Key("limits.total_seconds", "number", 300,
        "CPU time of the whole grading: what its load and calls cost together.", positive=True),
    Key("limits.gpu_call_seconds", "number", Derived("limits.call_seconds"),
        "limits.call_seconds on a GPU worker.", positive=True),
    Key("limits.gpu_load_seconds", "number", Derived("limits.load_seconds"),
        "limits.load_seconds on a GPU worker.", positive=True),
    Key("limits.gpu_total_seconds", "number", Derived("limits.total_seconds"),
        "limits.total_seconds on a GPU worker.", positive=True),
    Key("limits.memory_mb", "integer", 1024, "Memory of all the submission's processes (MiB).",
        positive=True),
    Key("limits.cpus", "number", 1,
        "CPU cores (a quota), and the BLAS/OpenMP threads the sandbox starts with.",
        positive=True),
    Key("limits.pids", "integer", 64, "Processes and threads the submission may have.",
        positive=True),
    Key("limits.tmpfs_mb", "integer", 64, "Writable scratch space (MiB).", positive=True),
    Key("limits.output_kb", "integer", 64, "Printed output kept for the report (KiB).",
        positive=True),
    Key("tolerances.rtol", "number", DEFAULT_RTOL,
        "compare()'s relative tolerance where a check gives none (float64 answers)."),
    Key("tolerances.atol", "number", DEFAULT_ATOL,
        "compare()'s absolute tolerance where a check gives none (float64 answers)."),
    Key("training.missing_points", "string", "verified",
        "A training homework's unit checks of template functions the file does not have: "
        "verified, their points need the training check passed on an accuracy the grader "
        "verified (it trained the network itself); passed, the training check passed, "
        "verified or not (a script's accuracy is never verified).",
        choices=("verified", "passed")),
    Key("deadlines.due", "date-time", None,
        "When it is due: the course's due date until its staff set one."),
    Key("deadlines.hidden_release", "date-time", None,
        "When hidden checks' messages and output are shown to students."),
    Key("handout.formulas", "table of strings", {},
        "Formulas by starter function, in a LaTeX subset rendered as MathML on the "
        "assignment page (docs/AUTHORING.md, 'Handout'), e.g. { relu = '\\max(x, 0)' }."),
    Key("mutants.file", "string", REQUIRED,
        "A known-wrong fragment, appended to the solution's entry file."),
    Key("mutants.fails", "list of strings", [], "The checks the mutant must fail (and no other)."),
    Key("mutants.why", "string", "", "The mistake it makes, in the course's words."),
    Key("mutants.hint", "string", Derived("\"These failures match a known mistake: \" + why"),
        "What a student whose failures match this mutant's reads (grader/hints.py); "
        "\"\" for a forgery or an attack, which is no mistake to hint at."),
)  # fmt: skip

KEYS: dict[str, Key] = {k.name: k for k in SCHEMA}
TABLES = tuple(dict.fromkeys(k.table for k in SCHEMA if k.table))
ARRAY_TABLES = ("mutants",)  # [[mutants]]: a list of tables


def _default(key: Key) -> Any:
    return None if isinstance(key.default, Derived | _Required) else key.default


def _unknown(name: str, where: str, known: list[str]) -> str:
    near = difflib.get_close_matches(name.rpartition(".")[2], known, n=1)
    hint = f"; did you mean '{near[0]}'?" if near else ""
    return f"unknown key '{name}' {where} (known: {', '.join(known)}){hint}"


def _check_value(key: Key, value: Any, name: str) -> str | None:
    test, wanted = TYPES[key.type]
    if not test(value):
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        kind = type(value).__name__
        return f"'{name}' must be {wanted}, not {kind} {shown}"
    if key.choices and value not in key.choices:
        choices = ", ".join(repr(c) for c in key.choices)
        return f"'{name}' must be one of {choices}, not {value!r}"
    if _is_number(value) and (value <= 0 if key.positive else value < 0):
        return f"'{name}' must be {'positive' if key.positive else 'at least 0'}, not {value!r}"
    return None


def _read_table(
    table: dict[str, Any], prefix: str, where: str, errors: list[str]
) -> dict[str, Any]:
    """The keys of one table by their schema names, checked; absent ones left out."""
    keys = {k.leaf: k for k in SCHEMA if k.table == prefix}
    out: dict[str, Any] = {}
    for leaf, value in table.items():
        name = f"{prefix}.{leaf}" if prefix else leaf
        if leaf not in keys:
            errors.append(_unknown(name, where, list(keys)))
            continue
        problem = _check_value(keys[leaf], value, name)
        if problem:
            errors.append(problem)
        else:
            out[keys[leaf].name] = value
    for leaf, key in keys.items():
        if key.default is REQUIRED and leaf not in table:
            errors.append(f"missing '{key.name}' {where} (required)")
    return out


def read_manifest(manifest: dict[str, Any]) -> dict[str, Any]:
    """Every key's value by its schema name (the manifest's, checked, else its default).

    ``mutants`` is a list of such dicts (``file``, ``fails``, ``why``); a Derived
    default is None here (load_assignment works it out). Raises AssignmentError
    listing every problem, each naming its key.
    """
    errors: list[str] = []
    top = {k: v for k, v in manifest.items() if k not in TABLES}
    values = _read_table(top, "", "at the top level", errors)
    for table in TABLES:
        if table in ARRAY_TABLES:
            continue
        raw = manifest.get(table, {})
        if not isinstance(raw, dict):
            errors.append(f"'{table}' must be a table ([{table}]), not {type(raw).__name__}")
            continue
        values.update(_read_table(raw, table, f"in [{table}]", errors))
    mutants: list[dict[str, Any]] = []
    raw_mutants = manifest.get("mutants", [])
    if not isinstance(raw_mutants, list) or not all(isinstance(m, dict) for m in raw_mutants):
        errors.append("'mutants' must be a list of tables ([[mutants]] entries)")
        raw_mutants = []
    for i, entry in enumerate(raw_mutants):
        got = _read_table(entry, "mutants", f"in [[mutants]] entry {i + 1}", errors)
        mutants.append(
            {k.leaf: got.get(k.name, _default(k)) for k in SCHEMA if k.table == "mutants"}
        )
    for key in SCHEMA:
        if key.table not in ARRAY_TABLES and key.name not in values:
            values[key.name] = _default(key)
    values["mutants"] = mutants
    errors.extend(_cross_checks(values))
    if errors:
        raise AssignmentError("assignment.toml: " + "\n  ".join(errors))
    return values


def _cross_checks(values: dict[str, Any]) -> list[str]:
    """What no single key's type says: rules between keys, and safe paths."""
    errors = []
    if values["cpu_fallback"] and values["queue"] != "gpu":
        errors.append("'cpu_fallback' needs queue = 'gpu'")
    files = values["submission.files"]
    if files is not None and not files:
        errors.append("'submission.files' must name at least one file")
    entry = values["submission.entry"]
    if entry is not None and files and entry not in files:
        errors.append(f"'submission.entry' must be one of submission.files, not {entry!r}")
    for name, target in (values["data.links"] or {}).items():
        if not name or "/" in name or name in (".", ".."):
            errors.append(f"'data.links' names a folder, not a path: {name!r}")
        if PurePosixPath(target).is_absolute() or ".." in PurePosixPath(target).parts:
            errors.append(f"'data.links.{name}' must stay under data/, not {target!r}")
    return errors


# -- the assignment ------------------------------------------------------------------


@dataclass(frozen=True)
class Mutant:
    file: str
    fails: tuple[str, ...]
    why: str = ""
    hint: str | None = None  # None: said from ``why``; "": none (a forgery, an attack)


@dataclass(frozen=True)
class Assignment:
    root: Path
    slug: str
    title: str
    version: int
    summary: str
    environment: str
    queue: str
    student_files: tuple[str, ...]
    load: LoadSpec
    limits: SandboxLimits
    call_seconds: float
    total_seconds: float
    checks: tuple[CheckSpec, ...]
    module: ModuleType
    manifest: dict[str, Any]
    manifest_hash: str
    mutants: tuple[Mutant, ...] = ()
    due: datetime | None = None
    hidden_release: datetime | None = None
    # [tolerances]: compare()'s defaults while this assignment's checks run.
    tolerances: dict[str, float] = field(
        default_factory=lambda: {"rtol": DEFAULT_RTOL, "atol": DEFAULT_ATOL}
    )
    # queue = "gpu" with cpu_fallback: a deployment without GPU workers grades it on a
    # CPU worker (CUDA mapped onto the CPU), under the [limits] sized for the CPU.
    cpu_fallback: bool = False
    # [limits] gpu_total_seconds / gpu_load_seconds / gpu_call_seconds: on a GPU worker.
    gpu_seconds: tuple[float, float, float] | None = None
    # [training] missing_points: what a missing template function's points follow.
    missing_points: str = "verified"

    @property
    def max_score(self) -> float:
        return sum(c.points for c in self.checks)

    def time_limits(self, gpu: bool) -> tuple[float, float, float]:
        """(total, load, call) seconds for a grading on a GPU worker or on a CPU one."""
        if gpu and self.gpu_seconds is not None:
            return self.gpu_seconds
        return self.total_seconds, self.load.seconds, self.call_seconds


def _when(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def load_checks(path: Path, slug: str) -> tuple[ModuleType, tuple[CheckSpec, ...]]:
    name = "dlgrade_checks_" + "".join(c if c.isalnum() else "_" for c in slug)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise AssignmentError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    checks = tuple(
        v.__dlgrade_check__ for v in vars(module).values() if hasattr(v, "__dlgrade_check__")
    )
    names = [c.name for c in checks]
    if len(set(names)) != len(names):
        raise AssignmentError(f"{path}: two checks share a name")
    if not checks:
        raise AssignmentError(f"{path}: no @check functions")
    return module, checks


@dataclass(frozen=True)
class Folder:
    """An assignment folder as its manifest describes it, its checks.py not imported: what a
    portal may know of instructor code (``read_folder``). ``manifest_hash`` is the same
    digest ``load_assignment`` gives, computed from the files' bytes."""

    root: Path
    slug: str
    title: str
    version: int
    queue: str
    cpu_fallback: bool
    student_files: tuple[str, ...]
    manifest: dict[str, Any]
    manifest_hash: str
    environment: str = "numpy"
    limits: SandboxLimits = field(default_factory=SandboxLimits)


def sandbox_limits(v: dict[str, Any]) -> SandboxLimits:
    """The sandbox's limits from a manifest's values (``read_manifest``)."""
    return SandboxLimits(
        memory_mb=v["limits.memory_mb"],
        cpus=float(v["limits.cpus"]),
        pids=v["limits.pids"],
        tmpfs_mb=v["limits.tmpfs_mb"],
        output_bytes=v["limits.output_kb"] * 1024,
        # CPU time of all the runner's threads together: torch trains on `cpus` of them.
        cpu_seconds=(int(v["limits.total_seconds"]) + 60) * max(1, int(v["limits.cpus"])),
    )


def _manifest_hash(root: Path) -> str:
    raw = (root / "assignment.toml").read_bytes()
    return hashlib.sha256(raw + (root / "checks.py").read_bytes()).hexdigest()


def read_folder(folder: str | Path) -> Folder:
    """The folder's manifest, checked against the schema; nothing of it is imported."""
    root = Path(folder).resolve()
    if not (root / "assignment.toml").is_file():
        raise AssignmentError(f"{root} is not an assignment folder (no assignment.toml)")
    try:
        manifest = tomllib.loads((root / "assignment.toml").read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise AssignmentError(f"assignment.toml: {exc}") from None
    v = read_manifest(manifest)
    return Folder(
        root=root,
        slug=v["slug"],
        title=v["title"] or v["slug"],
        version=v["version"],
        queue=v["queue"],
        cpu_fallback=v["cpu_fallback"],
        student_files=tuple(v["submission.files"]),
        manifest=manifest,
        manifest_hash=_manifest_hash(root),
        environment=v["environment"],
        limits=sandbox_limits(v),
    )


def load_assignment(folder: str | Path) -> Assignment:
    root = Path(folder).resolve()
    manifest_path = root / "assignment.toml"
    if not manifest_path.is_file():
        raise AssignmentError(f"{root} is not an assignment folder (no assignment.toml)")
    raw = manifest_path.read_bytes()
    try:
        manifest = tomllib.loads(raw.decode())
    except tomllib.TOMLDecodeError as exc:
        raise AssignmentError(f"assignment.toml: {exc}") from None
    v = read_manifest(manifest)
    slug = v["slug"]
    files = tuple(v["submission.files"])
    entry = v["submission.entry"] or files[0]
    from grader.session import LoadSpec

    total_s = float(v["limits.total_seconds"])
    limits = sandbox_limits(v)
    load = LoadSpec(
        file=entry,
        module=v["submission.module"] or Path(entry).stem,
        mode=v["submission.mode"],
        global_name=v["submission.global"],
        data_links=dict(v["data.links"]),
        seconds=float(v["limits.load_seconds"]),
    )
    module, checks = load_checks(root / "checks.py", slug)
    checks_hash = _manifest_hash(root)
    mutants = tuple(Mutant(m["file"], tuple(m["fails"]), m["why"], m["hint"]) for m in v["mutants"])
    gpu_keys = ("limits.gpu_total_seconds", "limits.gpu_load_seconds", "limits.gpu_call_seconds")
    gpu_seconds = None
    if any(v[k] is not None for k in gpu_keys):
        cpu = (total_s, load.seconds, float(v["limits.call_seconds"]))
        gpu_seconds = (
            float(v[gpu_keys[0]] or cpu[0]),
            float(v[gpu_keys[1]] or cpu[1]),
            float(v[gpu_keys[2]] or cpu[2]),
        )
    known = {c.name for c in checks}
    for m in mutants:
        unknown = set(m.fails) - known
        if unknown:
            raise AssignmentError(f"mutant {m.file} names unknown checks: {sorted(unknown)}")
    return Assignment(
        root=root,
        slug=slug,
        title=v["title"] or slug,
        version=v["version"],
        summary=v["summary"],
        environment=v["environment"],
        queue=v["queue"],
        student_files=files,
        load=load,
        limits=limits,
        call_seconds=float(v["limits.call_seconds"]),
        total_seconds=total_s,
        checks=checks,
        module=module,
        manifest=manifest,
        manifest_hash=checks_hash,
        mutants=mutants,
        due=_when(v["deadlines.due"]),
        hidden_release=_when(v["deadlines.hidden_release"]),
        tolerances={"rtol": float(v["tolerances.rtol"]), "atol": float(v["tolerances.atol"])},
        cpu_fallback=v["cpu_fallback"],
        gpu_seconds=gpu_seconds,
        missing_points=v["training.missing_points"],
    )
