"""Load an assignment folder: its manifest (assignment.toml) and its checks (checks.py).

The engine never names an assignment: everything it needs to know is here.
checks.py is trusted instructor code and is imported in this process; it must
never be copied into a sandbox.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from grader.checks import CheckSpec
from grader.sandbox.base import SandboxLimits
from grader.session import LoadSpec

QUEUES = ("cpu", "gpu")


class AssignmentError(ValueError):
    """The assignment folder is malformed (an instructor's error, reported as such)."""


@dataclass(frozen=True)
class Mutant:
    file: str
    fails: tuple[str, ...]
    why: str = ""


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
    gpu: bool = False
    due: datetime | None = None
    hidden_release: datetime | None = None
    tolerances: dict[str, float] = field(default_factory=dict)
    # queue = "gpu" with cpu_fallback: a deployment without GPU workers grades it on a
    # CPU worker (CUDA mapped onto the CPU), under the [limits] sized for the CPU.
    cpu_fallback: bool = False
    # [limits] gpu_total_seconds / gpu_load_seconds / gpu_call_seconds: on a GPU worker.
    gpu_seconds: tuple[float, float, float] | None = None

    @property
    def max_score(self) -> float:
        return sum(c.points for c in self.checks)

    def time_limits(self, gpu: bool) -> tuple[float, float, float]:
        """(total, load, call) seconds for a grading on a GPU worker or on a CPU one."""
        if gpu and self.gpu_seconds is not None:
            return self.gpu_seconds
        return self.total_seconds, self.load.seconds, self.call_seconds


def _require(table: dict[str, Any], key: str, where: str) -> Any:
    if key not in table:
        raise AssignmentError(f"assignment.toml: missing '{key}' in {where}")
    return table[key]


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
    slug = _require(manifest, "slug", "the top level")
    sub = _require(manifest, "submission", "the top level")
    files = tuple(_require(sub, "files", "[submission]"))
    entry = sub.get("entry", files[0])
    lim = manifest.get("limits", {})
    limits = SandboxLimits(
        memory_mb=int(lim.get("memory_mb", 1024)),
        cpus=float(lim.get("cpus", 1)),
        pids=int(lim.get("pids", 64)),
        tmpfs_mb=int(lim.get("tmpfs_mb", 64)),
        output_bytes=int(lim.get("output_kb", 64)) * 1024,
        # CPU time of all the runner's threads together: torch trains on `cpus` of them.
        cpu_seconds=(int(lim.get("total_seconds", 600)) + 60) * max(1, int(lim.get("cpus", 1))),
    )
    load = LoadSpec(
        file=entry,
        module=sub.get("module", Path(entry).stem),
        mode=sub.get("mode", "import"),
        global_name=sub.get("global"),
        data_links=dict(manifest.get("data", {}).get("links", {})),
        seconds=float(lim.get("load_seconds", 30)),
    )
    module, checks = load_checks(root / "checks.py", slug)
    checks_hash = hashlib.sha256(raw + (root / "checks.py").read_bytes()).hexdigest()
    deadlines = manifest.get("deadlines", {})
    mutants = tuple(
        Mutant(file=m["file"], fails=tuple(m.get("fails", [])), why=m.get("why", ""))
        for m in manifest.get("mutants", [])
    )
    queue = manifest.get("queue", "cpu")
    if queue not in QUEUES:
        raise AssignmentError(f"assignment.toml: queue must be one of {QUEUES}, not {queue!r}")
    cpu_fallback = bool(manifest.get("cpu_fallback", False))
    if cpu_fallback and queue != "gpu":
        raise AssignmentError("assignment.toml: cpu_fallback needs queue = 'gpu'")
    gpu_seconds = None
    if any(k.startswith("gpu_") and k.endswith("_seconds") for k in lim):
        gpu_seconds = (
            float(lim.get("gpu_total_seconds", lim.get("total_seconds", 300))),
            float(lim.get("gpu_load_seconds", load.seconds)),
            float(lim.get("gpu_call_seconds", lim.get("call_seconds", 10))),
        )
    known = {c.name for c in checks}
    for m in mutants:
        unknown = set(m.fails) - known
        if unknown:
            raise AssignmentError(f"mutant {m.file} names unknown checks: {sorted(unknown)}")
    return Assignment(
        root=root,
        slug=slug,
        title=manifest.get("title", slug),
        version=int(manifest.get("version", 1)),
        summary=manifest.get("summary", ""),
        environment=manifest.get("environment", "numpy"),
        queue=queue,
        student_files=files,
        load=load,
        limits=limits,
        call_seconds=float(lim.get("call_seconds", 10)),
        total_seconds=float(lim.get("total_seconds", 300)),
        checks=checks,
        module=module,
        manifest=manifest,
        manifest_hash=checks_hash,
        mutants=mutants,
        gpu=bool(lim.get("gpu", False)),
        due=_when(deadlines.get("due")),
        hidden_release=_when(deadlines.get("hidden_release")),
        tolerances=dict(manifest.get("tolerances", {})),
        cpu_fallback=cpu_fallback,
        gpu_seconds=gpu_seconds,
    )
