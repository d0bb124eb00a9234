"""Which queue a run goes to: the course's setting, the manifest, and what this deployment has.

A manifest says ``queue = "cpu"`` or ``queue = "gpu"``; a GPU assignment may add
``cpu_fallback = true`` (its [limits] are then sized for a CPU, and
``gpu_*_seconds`` for a GPU). The course's instructors may choose the other
queue for their assignment (``Assignment.queue``, the settings page and the
API; a new row starts with the manifest's choice, and a new version of the
checks keeps the course's): that choice, not the manifest's, is the ``queue``
below. Whether GPU workers exist is the operator's to say, not something a
submitter can see (a worker listening on ``gpu`` may be down, busy, or never
started): ``DLGRADE_GPU_QUEUE`` is ``on`` where GPU workers run (``dlgrade
worker --queues gpu`` on GPU hosts) and ``off`` (the default: one machine, no
GPU) elsewhere.

    queue    manifest's queue, cpu_fallback   DLGRADE_GPU_QUEUE   the run goes to
    cpu      any                              any                 cpu (CUDA mapped onto the CPU;
                                                                  the CPU limits)
    gpu      any                              on                  gpu (a GPU worker; the GPU limits)
    gpu      gpu, true                        off                 cpu (CUDA mapped onto the CPU;
                                                                  the CPU limits), with a note
    gpu      cpu (its limits are a CPU's)     off                 cpu, with the same note
    gpu      gpu, false                       off                 gpu, and it waits there: the
                                                                  note says why

The queue is decided for each run when it is made, a submission's first run or
a regrade (``web.staff.regrade``), and stored on the run: a worker grades a run
from the ``gpu`` queue as a GPU worker (the sandbox gets the GPU), one from
``cpu`` as a CPU worker, whatever else it listens on.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from worker.config import Settings

GPU_QUEUE_VALUES = ("on", "off")
QUEUES = ("cpu", "gpu")  # what an instructor may choose for an assignment


class Prefers(Protocol):
    """What a manifest says about queues (a loaded ``grader.assignment.Assignment`` does)."""

    @property
    def queue(self) -> str: ...

    @property
    def cpu_fallback(self) -> bool: ...


@dataclass(frozen=True)
class Preference:
    """The manifest's ``queue`` and ``cpu_fallback``, read without importing its checks."""

    queue: str = "cpu"
    cpu_fallback: bool = False

    def describe(self) -> str:
        if self.queue != "gpu":
            return "cpu"
        return "gpu, CPU fallback allowed" if self.cpu_fallback else "gpu, no CPU fallback"


def preference_of(folder: str | Path) -> Preference:
    """The preference in ``folder``'s assignment.toml (OSError, tomllib.TOMLDecodeError)."""
    manifest = tomllib.loads((Path(folder) / "assignment.toml").read_text())
    return Preference(
        str(manifest.get("queue", "cpu")), manifest.get("cpu_fallback", False) is True
    )


@dataclass(frozen=True)
class Route:
    queue: str
    note: str = ""


def gpu_workers(settings: Settings) -> bool:
    """Whether this deployment has GPU workers (``DLGRADE_GPU_QUEUE``: on or off)."""
    value = settings.gpu_queue.strip().lower()
    if value not in GPU_QUEUE_VALUES:
        raise ValueError(f"DLGRADE_GPU_QUEUE must be 'on' or 'off', not {settings.gpu_queue!r}")
    return value == "on"


def route(spec: Prefers, settings: Settings, queue: str | None = None) -> Route:
    """The queue for a new run of ``spec`` (see the table above); ``queue``: the course's
    setting for it (``Assignment.queue``), else the manifest's."""
    wanted = queue or spec.queue
    if wanted not in QUEUES:
        raise ValueError(f"the queue of an assignment is 'cpu' or 'gpu', not {wanted!r}")
    if wanted == "cpu":
        return Route("cpu")
    if gpu_workers(settings):
        return Route("gpu")
    if spec.cpu_fallback or spec.queue == "cpu":
        return Route("cpu", "graded on a CPU worker (DLGRADE_GPU_QUEUE=off: no GPU workers)")
    return Route(
        "gpu",
        "waits for a GPU worker: this assignment allows no CPU fallback and "
        "DLGRADE_GPU_QUEUE=off says there are none",
    )
