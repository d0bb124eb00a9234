"""Which queue a submission goes to: the manifest's preference, and what this deployment has.

A manifest says ``queue = "cpu"`` or ``queue = "gpu"``; a GPU assignment may add
``cpu_fallback = true`` (its [limits] are then sized for a CPU, and
``gpu_*_seconds`` for a GPU). Whether GPU workers exist is the operator's to
say, not something a submitter can see (a worker listening on ``gpu`` may be
down, busy, or never started): ``DLGRADE_GPU_QUEUE`` is ``on`` where GPU workers
run (``dlgrade worker --queues gpu`` on GPU hosts) and ``off`` (the default:
one machine, no GPU) elsewhere.

    queue    cpu_fallback   DLGRADE_GPU_QUEUE   the run goes to
    cpu      -              any                 cpu
    gpu      true           on                  gpu (a GPU worker; the GPU time limits)
    gpu      true           off                 cpu (CUDA mapped onto the CPU; the CPU limits)
    gpu      false          on                  gpu
    gpu      false          off                 gpu, and it waits there: the note says why

The queue is decided once, at submission, and stored on the run: a worker
grades a run from the ``gpu`` queue as a GPU worker (the sandbox gets the GPU),
one from ``cpu`` as a CPU worker, whatever else it listens on.
"""

from __future__ import annotations

from dataclasses import dataclass

from grader.assignment import Assignment as AssignmentSpec
from worker.config import Settings

GPU_QUEUE_VALUES = ("on", "off")


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


def route(spec: AssignmentSpec, settings: Settings) -> Route:
    """The queue for a new run of ``spec`` (see the table above)."""
    if spec.queue != "gpu":
        return Route(spec.queue)
    if gpu_workers(settings):
        return Route("gpu")
    if spec.cpu_fallback:
        return Route("cpu", "graded on a CPU worker (DLGRADE_GPU_QUEUE=off: no GPU workers)")
    return Route(
        "gpu",
        "waits for a GPU worker: this assignment allows no CPU fallback and "
        "DLGRADE_GPU_QUEUE=off says there are none",
    )
