"""A worker's default concurrency: as many gradings as its cores hold, never more."""

from __future__ import annotations

from pathlib import Path

from tests.worker.conftest import TINY
from worker.concurrency import (
    BUILT_IN,
    default_concurrency,
    host_cores,
    manifest_cpus,
    worker_concurrency,
)
from worker.config import Settings
from worker.submit import submit


def test_gradings_at_once_fill_the_cores_and_no_more() -> None:
    assert default_concurrency(2, [1.0, 1.0]) == 2  # this course on a 2-core host
    assert default_concurrency(2, [1.0, 2.0]) == 1  # one assignment takes both cores
    assert default_concurrency(16, [1.0, 4.0]) == 4
    assert default_concurrency(3, [2.0]) == 1  # 1.5 gradings do not fit: one
    assert default_concurrency(2, [0.5]) == 4  # half-core sandboxes: four fill two cores
    assert default_concurrency(1, [4.0]) == 1  # never zero: a wide grading still runs
    assert default_concurrency(8, []) == 8  # nothing known: the default of one cpu each


def _manifest(folder: Path, limits: str) -> Path:
    folder.mkdir()
    (folder / "assignment.toml").write_text(f'slug = "{folder.name}"\n\n[limits]\n{limits}\n')
    return folder


def test_cpus_are_read_from_the_manifest(tmp_path: Path) -> None:
    assert manifest_cpus(_manifest(tmp_path / "two", "cpus = 2")) == 2.0
    assert manifest_cpus(_manifest(tmp_path / "unset", "memory_mb = 512")) == 1.0
    assert manifest_cpus(tmp_path / "missing") is None
    assert manifest_cpus(BUILT_IN / "activations") == 1.0  # its manifest says cpus = 1


def test_a_worker_counts_the_assignments_of_its_database(
    settings: Settings, tmp_path: Path
) -> None:
    import shutil

    from grader.assignment import load_assignment

    n, how = worker_concurrency(settings, cores=4)
    assert (n, how) == (4, "4 cores / 1 cpus per grading"), "an empty database: the built-in"
    wide = tmp_path / "wide"
    shutil.copytree(TINY, wide)
    toml = wide / "assignment.toml"
    toml.write_text(toml.read_text().replace("cpus = 1", "cpus = 2"))
    submit(load_assignment(wide), TINY / "submissions" / "good.py", "alice", settings, None)
    assert worker_concurrency(settings, cores=4) == (2, "4 cores / 2 cpus per grading")


def test_the_cores_are_those_this_process_may_run_on() -> None:
    import os

    assert host_cores() == len(os.sched_getaffinity(0))
