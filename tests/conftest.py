"""Shared test helpers.

Tests that need a real service (Docker engine, bubblewrap, Redis, PostgreSQL,
genuine MNIST) call ``require(...)``: outside CI a missing service skips the
test with the command that provides it; with CI=true it fails, because CI's
set-up is supposed to have provided it.
"""

from __future__ import annotations

import os

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def require(available: bool, what: str, how: str) -> None:
    """Skip (developer machine) or fail (CI) when ``what`` is not available."""
    if available:
        return
    message = f"{what} is not available here; provide it with: {how}"
    if IN_CI:
        pytest.fail(f"CI=true and {message}", pytrace=False)
    pytest.skip(message)


def require_dataset(name: str = "mnist"):
    """The genuine dataset ``name`` (verified), or skip/fail naming the fetch script."""
    from reference.data import DatasetError, load_mnist

    try:
        return load_mnist(name)
    except DatasetError as exc:
        require(False, f"the {name} dataset ({exc})", "scripts/fetch_data.sh")


@pytest.fixture
def driver_without_a_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """This host's NVIDIA driver, as the local sandbox finds it: present, with no device.

    A GPU grading on a host with no driver is refused as a platform error
    (grader/sandbox/nvidia.py). Tests of what a GPU worker does (nothing mapped onto
    the CPU) need the grading to run: with this stand-in it does, and the homework's
    own CUDA calls fail for want of a device, as on any machine without one.
    """
    from grader.sandbox import local
    from grader.sandbox.nvidia import NvidiaDriver

    monkeypatch.setattr(local, "find_driver", lambda: NvidiaDriver((), ()))
