"""A worker's warm pool of bubblewrap sandboxes: each waiting sandbox serves one start.

Real bubblewrap sandboxes with real cgroups, started through ``LocalPool``, looked
at from inside (what a program finds there) and from outside (their processes,
cgroup files and limits). The red-team tests run against pooled sandboxes too
(test_redteam.py ``local-pool``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.assignment import load_assignment
from grader.config import REPO_ROOT
from grader.engine import grade
from grader.sandbox import pool as pools
from grader.sandbox.base import SandboxLimits, SandboxSpec
from grader.sandbox.cgroups import CgroupLayout, cgroup_layout, reap_cgroups
from grader.sandbox.local import LocalSandbox, bwrap_path
from grader.sandbox.local_pool import LocalPool, PooledLocalSandbox
from tests.conftest import require
from tests.grader.test_sandbox_pool import LEAVE

SMALL = SandboxLimits(memory_mb=256, cpus=1.0, pids=32, tmpfs_mb=16, cpu_seconds=60)
RUN_TIMEOUT_S = 60
ACTIVATIONS = REPO_ROOT / "assignments" / "activations"

pytestmark = pytest.mark.bwrap


@pytest.fixture(scope="module")
def layout() -> CgroupLayout:
    require(bwrap_path() is not None, "bubblewrap", "apt-get install bubblewrap")
    found, why = cgroup_layout()
    require(found is not None, f"memory cgroup ({why})", "run as root with cgroup v1 or v2")
    assert found is not None
    return found


@pytest.fixture
def pool(layout: CgroupLayout) -> Iterator[LocalPool]:
    pool = LocalPool(size=2, tick_s=0.2)
    yield pool
    pool.close()


@pytest.fixture
def tmp_path() -> Iterator[Path]:
    """A folder in /tmp that a sandbox's uid can reach (pytest's own are 0700)."""
    place = Path(tempfile.mkdtemp(prefix="dlgrade-test-local-pool-"))
    place.chmod(0o755)
    yield place
    shutil.rmtree(place, ignore_errors=True)


def prepared(root: Path, marker: str) -> Path:
    """A folder like the engine's: runner/, submission/ (holding ``marker``), data/."""
    for sub in ("runner", "submission", "data"):
        (root / sub).mkdir(parents=True)
    root.parent.chmod(0o755)
    (root / "submission" / "marker.txt").write_text(marker)
    for path in (root, *root.rglob("*")):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return root


def wait_until(condition, seconds: float = 30.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def alive(pid: int, started: str) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    fields = stat.rpartition(")")[2].split()
    return fields[19] == started and fields[0] not in ("Z", "X")


def started_at(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[19]


def run_in(box: LocalSandbox, code: str) -> dict:
    proc = box.start(["python3", "-c", textwrap.dedent(code)])
    out, err = proc.communicate(timeout=RUN_TIMEOUT_S)
    assert proc.returncode == 0, err.decode(errors="replace")
    return json.loads(out.decode().strip().splitlines()[-1])


# What the next grading looks for (what the first leaves: LEAVE, as for Docker's pool).
LOOK = """
import json, os, resource, sys
found = {
    "marker": open("/sandbox/submission/marker.txt").read(),
    "tmp": sorted(os.listdir("/tmp")),
    "shm": sorted(os.listdir("/dev/shm")),
    "env": os.environ.get("LEFT_BEHIND"),
    "module": "left_behind" in sys.modules,
    "processes": sorted(
        open(f"/proc/{p}/cmdline", "rb").read().replace(b"\\0", b" ").decode()
        for p in os.listdir("/proc") if p.isdigit()
    ),
    "uid": os.getuid(),
    "limits": {name: resource.getrlimit(getattr(resource, name)) for name in
               ("RLIMIT_AS", "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_NOFILE", "RLIMIT_CORE")},
    "environ": {k: v for k, v in os.environ.items() if k != "LEFT_BEHIND"},
    "cwd": os.getcwd(),
    "writable_root": os.access("/", os.W_OK),
    "sandbox_writable": os.access("/sandbox", os.W_OK),
}
print(json.dumps(found), flush=True)
"""


def test_a_pooled_sandbox_serves_one_start_and_carries_nothing_over(
    pool: LocalPool, tmp_path: Path
) -> None:
    first_root = prepared(tmp_path / "first", "first submission")
    second_root = prepared(tmp_path / "second", "second submission")
    spec = SandboxSpec(root=first_root, limits=SMALL, label="test-pool")
    assert pool.fill(spec) == 2
    first = PooledLocalSandbox(spec, pool)
    try:
        left = run_in(first, LEAVE)
        assert left["marker"] == "first submission"
        [group] = first.groups
        folders = list(group.dirs)
        [slot] = first.slots
    finally:
        first.kill()
    # Killed with its grading, its group and slot removed: never back in the pool.
    assert not any(f.exists() for f in folders)
    assert not slot.exists()

    second = PooledLocalSandbox(SandboxSpec(root=second_root, limits=SMALL), pool)
    try:
        seen = run_in(second, LOOK)
    finally:
        second.kill()
    assert (first.pooled_starts, second.pooled_starts) == (1, 1)
    assert seen["marker"] == "second submission"
    assert seen["tmp"] == [] and seen["shm"] == []
    assert seen["env"] is None and seen["module"] is False
    assert not any("sleep 600" in p for p in seen["processes"]), seen["processes"]
    # What runs in its namespace: bubblewrap's init, and the program now running.
    assert len(seen["processes"]) == 2, seen["processes"]
    assert pool.taken == 2


def test_a_pooled_sandbox_has_the_same_limits_and_view_as_a_cold_one(
    pool: LocalPool, tmp_path: Path
) -> None:
    root = prepared(tmp_path / "root", "same")
    spec = SandboxSpec(root=root, limits=SMALL)
    pool.fill(spec)
    found = {}
    groups = {}
    for kind, box in (("cold", LocalSandbox(spec)), ("pooled", PooledLocalSandbox(spec, pool))):
        try:
            found[kind] = run_in(box, LOOK)
            [group] = box.groups
            groups[kind] = {
                name: (group.layout.homes[ctl] / group.name / name).read_text()
                for ctl, name in (
                    ("memory", "memory.limit_in_bytes"),
                    ("pids", "pids.max"),
                    ("cpu", "cpu.cfs_quota_us"),
                    ("cpu", "cpu.cfs_period_us"),
                    ("cpu", "cpu.shares"),  # a taken one weighs as a cold one again
                )
                if group.layout.version == 1 and group.layout.has(ctl)
            }
        finally:
            box.kill()
    cold, pooled = found["cold"], found["pooled"]
    assert pooled["marker"] == cold["marker"] == "same"
    for key in ("limits", "environ", "cwd", "writable_root", "sandbox_writable", "tmp", "shm"):
        assert pooled[key] == cold[key], key
    assert pooled["uid"] != 0 and cold["uid"] != 0
    assert pooled["writable_root"] is False and pooled["sandbox_writable"] is False
    assert groups["pooled"] == groups["cold"]
    assert pool.taken == 1 and pool.missed == 0


def test_a_waiting_sandbox_takes_only_cpu_no_grading_wants(pool: LocalPool, tmp_path: Path):
    """Refilled while the grading that took one runs, it must not slow that grading down."""
    spec = SandboxSpec(root=prepared(tmp_path / "r", "x"), limits=SMALL)
    assert pool.fill(spec) == 2
    for warm in [w for q in pool._ready.values() for w in q]:
        [group] = warm.box.groups
        if group.layout.version == 1:
            shares = (group.folder("cpu") / "cpu.shares").read_text()
            assert int(shares) == 2  # the least cgroup v1 allows; a grading's is 1024
        else:
            assert int((group.folder("cpu") / "cpu.weight").read_text()) == 1


def test_a_start_with_none_waiting_is_cold_and_the_same(pool: LocalPool, tmp_path: Path):
    box = PooledLocalSandbox(SandboxSpec(root=prepared(tmp_path / "r", "cold"), limits=SMALL), pool)
    try:
        assert run_in(box, LOOK)["marker"] == "cold"
    finally:
        box.kill()
    assert box.pooled_starts == 0 and box.starts == 1
    assert pool.missed == 1


def test_the_pool_refills_after_a_take_and_lets_an_idle_kind_go(
    layout: CgroupLayout, tmp_path: Path
) -> None:
    pool = LocalPool(size=1, idle_s=8.0, tick_s=0.2)
    taken = None
    try:
        spec = SandboxSpec(root=prepared(tmp_path / "r", "x"), limits=SMALL)
        assert pool.fill(spec) == 1
        taken = pool.take(spec)
        assert taken is not None
        # Refilled in the background with a fresh sandbox.
        assert wait_until(lambda: pool.waiting() == 1)
        [refilled] = [w for q in pool._ready.values() for w in q]
        assert refilled.proc.pid != taken.proc.pid
        folders = list(refilled.box.groups[0].dirs)
        # Nobody asks for this kind any more: after idle_s its sandboxes are killed.
        assert wait_until(lambda: pool.waiting() == 0)
        assert wait_until(lambda: not any(f.exists() for f in folders))
        assert refilled.proc.poll() is not None
    finally:
        if taken is not None:
            taken.box.close()
        pool.close()


WORKER = """
import json, sys, time
from pathlib import Path
from grader.sandbox.base import SandboxLimits, SandboxSpec
from grader.sandbox.local_pool import LocalPool
pool = LocalPool(size=1, tick_s=0.2)
limits = SandboxLimits(memory_mb=256, cpus=1.0, pids=32, tmpfs_mb=16, cpu_seconds=60)
assert pool.fill(SandboxSpec(root=Path(sys.argv[1]), limits=limits)) == 1
warm = pool._ready[next(iter(pool._ready))][0]
print(json.dumps({"members": warm.box.groups[0].members(),
                  "group": warm.box.groups[0].name}), flush=True)
time.sleep(600)
"""


def test_a_waiting_sandbox_dies_with_its_worker_and_its_group_is_reaped(
    layout: CgroupLayout, tmp_path: Path
) -> None:
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(prepared(tmp_path / "r", "x"))],
        stdout=subprocess.PIPE,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    try:
        assert worker.stdout is not None
        facts = json.loads(worker.stdout.readline())
        members = {pid: started_at(pid) for pid in facts["members"]}
        assert len(members) >= 3  # bubblewrap, its init, the waiting interpreter
    finally:
        worker.kill()
        worker.wait()
    # bubblewrap runs --die-with-parent: the sandbox ends with the thread that started it.
    assert wait_until(lambda: not any(alive(p, s) for p, s in members.items()))
    # Its cgroup, named after the dead worker, is the reaper's.
    assert facts["group"] in reap_cgroups(max_age_s=3600)
    assert not any((parent / facts["group"]).exists() for parent in layout.parents)


def test_a_worker_grading_takes_a_waiting_sandbox_and_scores_the_same(layout: CgroupLayout):
    """The engine with the pool installed, as a worker grades: full marks, one pooled start."""
    assignment = load_assignment(ACTIVATIONS)
    solution = ACTIVATIONS / "solution" / "activations.py"
    cold = grade(assignment, solution, sandbox="local")
    pool = LocalPool(size=1, tick_s=0.2)
    pools.install(pool, "local")
    try:
        spec = SandboxSpec(
            root=ACTIVATIONS, environment=assignment.environment, limits=assignment.limits
        )
        assert pool.fill(spec) == 1
        warm = grade(assignment, solution, sandbox="local")
    finally:
        pools.install(None, "local")
        pool.close()
    assert warm.environment["pooled_starts"] == 1
    assert "pooled_starts" not in cold.environment
    assert warm.score == cold.score == warm.max_score
    assert [(c.name, c.status, c.score) for c in warm.checks] == [
        (c.name, c.status, c.score) for c in cold.checks
    ]


def test_a_sandbox_started_ahead_is_waited_for_taken_once_and_never_replaced(
    layout: CgroupLayout, tmp_path: Path
) -> None:
    """``head_start``'s pool: the take waits for the start under way, then nothing more starts."""
    spec = SandboxSpec(root=prepared(tmp_path / "r", "ahead"), limits=SMALL)
    pool = LocalPool(1, once=True, idle_weight=False, tick_s=0.2)
    box = None
    try:
        pool.prime(spec)
        box = PooledLocalSandbox(spec, pool)
        seen = run_in(box, LOOK)  # asked at once: the sandbox is still starting
        assert (box.pooled_starts, pool.taken, pool.missed) == (1, 1, 0)
        assert seen["marker"] == "ahead"
        # Nothing was started to replace it; a second start of the grading is a cold one.
        time.sleep(1.0)
        assert pool.waiting() == 0 and pool.waiting_pids() == set()
        assert box.start(["true"]).wait(timeout=RUN_TIMEOUT_S) == 0
        assert (box.pooled_starts, box.starts, pool.missed) == (1, 2, 1)
    finally:
        if box is not None:
            box.kill()
        pool.close()


def test_a_sandbox_started_ahead_for_another_kind_is_not_taken_and_is_killed(
    layout: CgroupLayout, tmp_path: Path
) -> None:
    root = prepared(tmp_path / "r", "other")
    pool = LocalPool(1, once=True, idle_weight=False, tick_s=0.2)
    try:
        pool.prime(SandboxSpec(root=root, limits=SMALL))
        assert wait_until(lambda: pool.waiting() == 1, RUN_TIMEOUT_S)
        [primed] = [w for q in pool._ready.values() for w in q]
        [group] = primed.box.groups
        folders = list(group.dirs)
        # A grading's weight while it waits: its grading is waiting for it, not beside it.
        if layout.version == 1:
            assert int((group.folder("cpu") / "cpu.shares").read_text()) == 1024
        else:
            assert int((group.folder("cpu") / "cpu.weight").read_text()) == 100
        other = SandboxSpec(root=root, limits=SandboxLimits(memory_mb=128, cpu_seconds=60))
        assert pool.take(other) is None
    finally:
        pool.close()
    assert primed.proc.poll() is not None
    assert not any(f.exists() for f in folders)


def test_the_command_line_starts_the_sandbox_before_it_imports_numpy() -> None:
    """``dlgrade grade``: the manifest is read and the sandbox starting before numpy loads."""
    probe = textwrap.dedent(
        """
        import sys, time
        from grader.cli import _sandbox_started_early
        from grader.sandbox import pool
        with _sandbox_started_early(sys.argv[1], "local", False) as kind:
            ahead = pool.installed("local")
            # Its process spawned before the block began: no thread of this process is
            # still at the spawn while the grading's imports run.
            print(len(ahead.waiting_pids()) > 0)
            deadline = time.monotonic() + 60
            while ahead.waiting() == 0 and time.monotonic() < deadline:
                time.sleep(0.01)
            # Started, and neither this thread nor the pool's imported numpy for it.
            print(kind, ahead.waiting(), "numpy" in sys.modules)
        print(pool.installed("local") is None, ahead.waiting_pids() == set())
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(ACTIVATIONS)],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=RUN_TIMEOUT_S,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "local", "1", "False", "True", "True"]


def test_a_head_start_that_cannot_start_does_not_hold_the_grading_up(tmp_path: Path) -> None:
    """A start that fails (here: an environment this host does not have) ends the wait
    for its spawn at once; the grading then starts its own sandbox and says why."""
    spec = SandboxSpec(root=prepared(tmp_path / "r", "x"), environment="fortran", limits=SMALL)
    with pools.head_start("local", spec) as ahead:
        assert ahead.wait_spawned(0)
        assert ahead.waiting() == 0 and ahead.waiting_pids() == set()


def test_the_command_line_grades_in_the_sandbox_it_started_ahead(layout: CgroupLayout) -> None:
    assignment = load_assignment(ACTIVATIONS)
    solution = ACTIVATIONS / "solution" / "activations.py"
    cold = grade(assignment, solution, sandbox="local")
    done = subprocess.run(
        [sys.executable, "-m", "grader.cli", "grade", str(ACTIVATIONS), str(solution),
         "--sandbox", "local", "--json"],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=RUN_TIMEOUT_S,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["environment"]["pooled_starts"] == 1
    assert report["score"] == cold.score == cold.max_score
    assert [(c["name"], c["status"], c["score"]) for c in report["checks"]] == [
        (c.name, c.status, c.score) for c in cold.checks
    ]
