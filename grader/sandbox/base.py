"""What every sandbox backend provides: start the runner on a prepared folder, kill everything.

Layout inside every sandbox (the contract the runner relies on):

    /sandbox            read-only: the prepared host folder (``SandboxSpec.root``)
      runner/           runner.py and codec.py: the in-sandbox half of the protocol
      submission/       the student's files
      data/             public data the assignment declares (never labels used for grading)
    /tmp                writable, size-capped; the runner works in /tmp/work
    python3             on PATH: the interpreter of the assignment's environment

Nothing else of the host is visible: not the repository, not reference/, not the
service's environment variables.
"""

from __future__ import annotations

import abc
import subprocess
from dataclasses import dataclass
from pathlib import Path

SANDBOX_ROOT = "/sandbox"


class SandboxUnavailable(RuntimeError):
    """The backend cannot run here (no Docker engine, no image, no bubblewrap).

    A platform fault, never a student's: workers retry these, the CLI reports them.
    """


@dataclass(frozen=True)
class SandboxLimits:
    """Limits enforced from outside the submission's processes."""

    memory_mb: int = 1024
    cpus: float = 1.0
    pids: int = 64
    tmpfs_mb: int = 64
    output_bytes: int = 64 * 1024
    cpu_seconds: int = 600


@dataclass(frozen=True)
class SandboxSpec:
    """One submission's sandbox: which folder, which environment, which limits."""

    root: Path
    environment: str = "numpy"
    limits: SandboxLimits = SandboxLimits()
    gpu: bool = False
    label: str = ""


class Sandbox(abc.ABC):
    """A backend instance bound to one submission.

    ``start`` may be called again after ``kill`` (a hung call costs only its
    checks: the engine kills the runner and starts a fresh one).
    """

    name: str = "abstract"
    is_security_boundary: bool = True

    def __init__(self, spec: SandboxSpec) -> None:
        self.spec = spec

    @abc.abstractmethod
    def start(self, argv: list[str]) -> subprocess.Popen[bytes]:
        """Start ``argv`` in the sandbox: cwd /tmp, binary pipes on stdin, stdout and stderr."""

    @abc.abstractmethod
    def kill(self) -> None:
        """Kill every process the submission started (daemons included). Idempotent."""

    def oom_kills(self) -> int:
        """How many of the submission's processes the kernel killed for memory (0 if unknown)."""
        return 0

    # Whether ``cpu_seconds`` counts this sandbox's CPU time (a cgroup's): the time
    # limits are then CPU time, wall time only their backstop. Else they are wall-clock.
    measures_cpu: bool = False
    why_wall_clock: str = "this sandbox cannot measure CPU time"

    def cpu_seconds(self) -> float | None:
        """CPU time the latest runner's processes used, together; None before it runs."""
        return None

    def waiting_seconds(self) -> float | None:
        """Time the latest runner's processes were runnable but had no CPU (None: unknown)."""
        return None

    def vanished(self) -> bool:
        """Whether the latest runner's sandbox was removed by something other than ``kill``."""
        return False

    def close(self) -> None:
        """Release everything; after close nothing of the submission runs or remains."""
        self.kill()

    def describe(self) -> dict[str, object]:
        """Plain facts for the report's environment section."""
        return {"sandbox": self.name, "environment": self.spec.environment}

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
