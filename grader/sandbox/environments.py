"""What each sandbox environment holds: one list, used by both sandboxes.

The Docker images (images.py) and the local sandbox's virtual environments
(local.py) are built from these requirements, so a package added here reaches
both, and both rebuild: an image's tag hashes its requirements, and a local
environment's ready-marker records them.

    numpy   numpy only: torch is NOT importable (that is how "implement it yourself"
            is enforced), plus the course's harmless helpers
    torch   numpy and torch (CPU build), plus the same helpers

The helpers are what the course's own templates import: tqdm (progress bars)
and matplotlib (training curves; the runner makes it headless, Agg, writing into
the sandbox's scratch space). Neither gives a student anything to grade with.
numpy is pinned where the environment is built, to the trusted side's version.
"""

from __future__ import annotations

TORCH_VERSION = "2.13.0"
COURSE_HELPERS = ("tqdm==4.70.1", "matplotlib==3.11.2")

ENVIRONMENTS: dict[str, tuple[str, ...]] = {
    "numpy": ("numpy", *COURSE_HELPERS),
    "torch": ("numpy", f"torch=={TORCH_VERSION}", *COURSE_HELPERS),
}
