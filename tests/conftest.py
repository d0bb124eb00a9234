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
