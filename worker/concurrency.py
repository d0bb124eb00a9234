"""How many gradings a worker host runs at once: no more than its cores hold (``dlgrade
worker``'s default ``--concurrency``; ``worker.capacity`` says how many workers a deadline needs).

Each grading's sandbox may use its assignment's ``cpus`` cores (its cgroup
quota). A worker that runs more gradings than its cores hold only makes them
compete: each takes longer, none finishes sooner. So by default a worker runs
``cores // cpus`` of them (the largest ``cpus`` among the assignments it may
be given), and the rest wait in the queue for a CPU instead of fighting for
one. The sandboxes' cgroup weight (grader/sandbox/cgroups.py) keeps the
portal, database and broker responsive beside them.
"""

from __future__ import annotations

import logging
import math
import os
import tomllib
from collections.abc import Iterable
from pathlib import Path

from grader.config import REPO_ROOT
from grader.sandbox.base import SandboxLimits
from worker.config import Settings

log = logging.getLogger(__name__)

BUILT_IN = REPO_ROOT / "assignments"


def host_cores() -> int:
    """The cores this process may run on (its CPU affinity, which a container narrows)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def manifest_cpus(folder: Path) -> float | None:
    """``[limits] cpus`` of the assignment in ``folder`` (the default when unset); None if
    the folder holds no readable manifest."""
    try:
        manifest = tomllib.loads((folder / "assignment.toml").read_text())
    except (OSError, ValueError):
        return None
    value = manifest.get("limits", {}).get("cpus", SandboxLimits().cpus)
    try:
        cpus = float(value)
    except (TypeError, ValueError):
        return None
    return cpus if cpus > 0 else None


def default_concurrency(cores: int, cpus: Iterable[float]) -> int:
    """Gradings at once on ``cores`` cores when each may take up to ``max(cpus)`` of them."""
    widest = max(cpus, default=SandboxLimits().cpus)
    return max(1, math.floor(cores / widest + 1e-9))


def assignment_folders(settings: Settings) -> list[Path]:
    """The assignments this worker may be given: those in the database, else the built-in."""
    try:
        from sqlalchemy import select

        from worker.db import get_engine
        from worker.models import Assignment

        with get_engine(settings.database_url).connect() as conn:
            paths = [Path(p) for p in conn.scalars(select(Assignment.path).distinct())]
    except Exception as err:  # a database not there yet: the built-in ones stand for them
        log.warning("could not list the assignments (%s): the built-in ones are counted", err)
        paths = []
    return paths or sorted(p for p in BUILT_IN.iterdir() if (p / "assignment.toml").is_file())


def worker_concurrency(settings: Settings, cores: int | None = None) -> tuple[int, str]:
    """The default number of gradings at once, and how it was reached (for the log)."""
    cores = cores or host_cores()
    cpus = [c for c in map(manifest_cpus, assignment_folders(settings)) if c is not None]
    n = default_concurrency(cores, cpus)
    widest = max(cpus, default=SandboxLimits().cpus)
    return n, f"{cores} cores / {widest:g} cpus per grading"
