"""The local sandbox's host view is computed once per environment and read from its cache after.

Each test builds a small virtual environment of its own (the system interpreter,
no packages) in a temporary folder, so the cache it writes beside it is the
test's alone. The real computation runs (probe and ``ldd``); the tests count how
often it runs and check what makes it run again.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.sandbox import hostview
from grader.sandbox.hostview import cache_path, compute_host_view, host_view

SYSTEM_PYTHON = Path("/usr/bin/python3")


@pytest.fixture
def env(tmp_path: Path) -> Path:
    base = SYSTEM_PYTHON if SYSTEM_PYTHON.exists() else Path(sys.executable)
    target = tmp_path / "envs" / "numpy"
    subprocess.run([str(base), "-m", "venv", "--without-pip", str(target)], check=True)
    (target / ".dlgrade-ready").write_text("numpy\n")
    return target


@pytest.fixture
def computations(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every environment the real computation ran for, in order."""
    runs: list[Path] = []

    def counted(env: Path) -> tuple[hostview.HostView, list[str]]:
        runs.append(env)
        return compute_host_view(env)

    monkeypatch.setattr(hostview, "compute_host_view", counted)
    return runs


def test_a_grading_after_the_first_only_reads_the_cache(
    env: Path, computations: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = host_view(env)
    assert computations == [env]
    assert cache_path(env).is_file()

    def no_process(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a cached host view started a process: {args}")

    # Neither the probe nor ldd may run again: a grading only reads the file.
    monkeypatch.setattr(hostview.subprocess, "run", no_process)
    assert host_view(env) == first
    assert computations == [env]
    assert first.binds and "/usr/bin" in first.binds


def test_the_cache_lies_outside_what_the_sandbox_sees(env: Path) -> None:
    host_view(env)
    path = cache_path(env)
    assert path.is_file()
    # The environment is bound at /opt/env: nothing of the cache may be under it.
    assert env.resolve() not in path.resolve().parents


def test_the_stamp_covers_the_libraries_the_interpreter_links(env: Path) -> None:
    """A host library ldd resolves is among the stamped paths: upgrading it invalidates."""
    ldd = shutil.which("ldd")
    if ldd is None:
        pytest.skip("no ldd on this host: the stamp then rests on the interpreter's maps")
    host_view(env)
    saved = json.loads(cache_path(env).read_text())
    linked = subprocess.run(
        [ldd, os.path.realpath(env / "bin" / "python3")], capture_output=True, text=True
    ).stdout
    resolved = [line.split("=>")[1].split()[0] for line in linked.splitlines() if "=> /" in line]
    assert resolved, linked
    assert set(resolved) <= set(saved["watched"])
    assert os.path.realpath(env / "bin" / "python3") in saved["watched"]
    assert all(saved["stamp"]["paths"][p] is not None for p in resolved)


def test_a_changed_host_file_makes_it_compute_again(
    env: Path, tmp_path: Path, computations: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Upgrading a library replaces its file: a new inode and time, so the stamp differs."""
    library = tmp_path / "lib" / "libcourse.so.1"
    library.parent.mkdir()
    library.write_bytes(b"old")
    real = compute_host_view

    def with_library(env_: Path) -> tuple[hostview.HostView, list[str]]:
        computations.append(env_)
        view, watched = real(env_)
        return view, [*watched, str(library), str(library.parent)]

    monkeypatch.setattr(hostview, "compute_host_view", with_library)
    host_view(env)
    host_view(env)
    assert len(computations) == 1
    # As a package manager does: a new file written beside, then renamed over the old one.
    fresh = library.with_name("libcourse.so.1.new")
    fresh.write_bytes(b"new version")
    fresh.rename(library)
    host_view(env)
    assert len(computations) == 2
    host_view(env)
    assert len(computations) == 2


def test_a_rebuilt_environment_makes_it_compute_again(env: Path, computations: list[Path]) -> None:
    host_view(env)
    # ensure_env writes the marker with the requirements it built from.
    (env / ".dlgrade-ready").write_text("numpy\ntqdm\n")
    host_view(env)
    assert len(computations) == 2
    host_view(env)
    assert len(computations) == 2


def test_another_version_of_the_computation_does_not_trust_the_cache(
    env: Path, computations: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    host_view(env)
    monkeypatch.setattr(hostview, "_CODE", "another-version")
    host_view(env)
    assert len(computations) == 2


@pytest.mark.parametrize("content", ["", "{not json", '{"stamp": 1}', "[]"])
def test_an_unreadable_cache_is_computed_again_and_replaced(
    env: Path, computations: list[Path], content: str
) -> None:
    first = host_view(env)
    cache_path(env).write_text(content)
    assert host_view(env) == first
    assert len(computations) == 2
    assert json.loads(cache_path(env).read_text())["binds"] == list(first.binds)


def test_one_environment_reached_by_two_paths_is_computed_once(
    env: Path, tmp_path: Path, computations: list[Path]
) -> None:
    """Each checkout reaches the shared data folder through a link of its own."""
    link = tmp_path / "checkout" / ".data"
    link.parent.mkdir()
    link.symlink_to(env.parent.parent)
    first = host_view(env)
    assert host_view(link / "envs" / env.name) == first
    assert host_view(env) == first
    assert len(computations) == 1
