"""A worker's warm pool of Docker sandboxes: each container serves one start, then is gone.

The tests start real containers (the numpy image) through ``ContainerPool`` and
look at them from inside (what a program finds there) and from outside (what
``docker ps`` and ``docker inspect`` say). The isolation and red-team tests run
against pooled containers too (test_sandbox_docker.py ``started_in``,
test_redteam.py ``docker-pool``).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.config import REPO_ROOT
from grader.sandbox.base import SandboxLimits, SandboxSpec, SandboxUnavailable
from grader.sandbox.docker import DockerSandbox, docker_available
from grader.sandbox.images import image_for
from grader.sandbox.pool import (
    LABEL_POOL,
    ContainerPool,
    PooledDockerSandbox,
    owner_alive,
    owner_id,
    pooled_name_prefix,
    reap_pools,
)
from tests.conftest import require

HOW = "scripts/start_docker.sh && .venv/bin/python -m grader.sandbox.images build"
SMALL = SandboxLimits(memory_mb=256, cpus=1.0, pids=32, tmpfs_mb=16, cpu_seconds=60)
RUN_TIMEOUT_S = 60
GONE_WITHIN_S = 60.0

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def image() -> str:
    require(docker_available(), "Docker engine", HOW)
    try:
        return image_for("numpy")
    except SandboxUnavailable as exc:
        require(False, f"the sandbox images ({exc})", HOW)
        raise


def prepared(root: Path, marker: str) -> Path:
    """A folder like the engine's: runner/, submission/ (holding ``marker``), data/."""
    for sub in ("runner", "submission", "data"):
        (root / sub).mkdir(parents=True)
    (root / "submission" / "marker.txt").write_text(marker)
    for path in (root, *root.rglob("*")):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return root


@pytest.fixture
def pool(image: str) -> Iterator[ContainerPool]:
    pool = ContainerPool(size=2, refill=False)
    yield pool
    pool.close()


def containers(*filters: str) -> list[str]:
    argv = ["docker", "ps", "-a", "--format", "{{.Names}}"]
    for f in filters:
        argv += ["--filter", f]
    return subprocess.run(argv, capture_output=True, check=True, text=True).stdout.split()


def exists(name: str) -> bool:
    return name in containers(f"name=^{name}$")


def wait_until(condition, seconds: float = GONE_WITHIN_S) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


# What a first grading leaves wherever it can, and what the next one looks for.
LEAVE = """
import json, os, subprocess, sys
open("/tmp/left-behind", "w").write("first")
open("/dev/shm/left-behind", "w").write("first")
os.environ["LEFT_BEHIND"] = "first"
sys.modules["left_behind"] = sys  # in the interpreter the pool started
daemon = subprocess.Popen(["sleep", "600"], start_new_session=True)
print(json.dumps({"marker": open("/sandbox/submission/marker.txt").read(),
                  "daemon": daemon.pid}), flush=True)
"""
LOOK = """
import json, os, sys
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
}
print(json.dumps(found), flush=True)
"""


def run_in(box: DockerSandbox, code: str) -> dict:
    proc = box.start(["python3", "-c", textwrap.dedent(code)])
    out, err = proc.communicate(timeout=RUN_TIMEOUT_S)
    assert proc.returncode == 0, err.decode(errors="replace")
    return json.loads(out.decode().strip().splitlines()[-1])


def test_a_pooled_container_serves_one_start_and_carries_nothing_over(
    pool: ContainerPool, tmp_path: Path
) -> None:
    first_root = prepared(tmp_path / "first", "first submission")
    second_root = prepared(tmp_path / "second", "second submission")
    spec = SandboxSpec(root=first_root, limits=SMALL, label="test-pool")
    assert pool.fill(spec) == 2
    waiting = set(pool.names())

    first = PooledDockerSandbox(spec, pool)
    try:
        left = run_in(first, LEAVE)
        [used] = first.pooled_names
        assert used in waiting and used not in pool.names()  # taken: nobody else's now
        # Named after its grading now: the reaper finds it by the grading's label.
        [renamed] = first.settled_names()
        assert renamed.startswith(pooled_name_prefix("test-pool"))
        assert left["marker"] == "first submission"
    finally:
        first.kill()
    # Removed with its grading, never back in the pool.
    assert not exists(used) and not exists(renamed)
    assert used not in pool.names()

    second = PooledDockerSandbox(SandboxSpec(root=second_root, limits=SMALL), pool)
    try:
        seen = run_in(second, LOOK)
        assert second.pooled_names[0] != used and second.pooled_names[0] in waiting
    finally:
        second.kill()
    assert (first.pooled_starts, second.pooled_starts) == (1, 1)
    assert seen["marker"] == "second submission"
    assert "left-behind" not in seen["tmp"] and "left-behind" not in seen["shm"]
    assert seen["env"] is None and seen["module"] is False
    assert not any("sleep 600" in p for p in seen["processes"]), seen["processes"]
    # What the pool left in it before the grading: the init, and the program now running.
    assert len(seen["processes"]) == 2, seen["processes"]
    assert pool.waiting() == 0


def test_a_start_with_none_waiting_is_cold_and_the_same(pool: ContainerPool, tmp_path: Path):
    root = prepared(tmp_path / "root", "cold")
    box = PooledDockerSandbox(SandboxSpec(root=root, limits=SMALL), pool)
    try:
        assert run_in(box, LOOK)["marker"] == "cold"
    finally:
        box.kill()
    assert (box.pooled_starts, box.cold_starts) == (0, 1)
    assert pool.missed == 1


def inspect(name: str) -> dict:
    done = subprocess.run(["docker", "inspect", name], capture_output=True, check=True)
    return json.loads(done.stdout)[0]


HOLD = "import sys; print('up', flush=True); sys.stdin.read()"


def test_a_pooled_container_has_the_same_limits_and_flags_as_a_cold_one(
    pool: ContainerPool, tmp_path: Path
) -> None:
    root = prepared(tmp_path / "root", "flags")
    spec = SandboxSpec(root=root, limits=SMALL, label="test-flags")
    pool.fill(spec)
    found = {}
    for kind, box in (("cold", DockerSandbox(spec)), ("pooled", PooledDockerSandbox(spec, pool))):
        try:
            proc = box.start(["python3", "-c", HOLD])
            assert proc.stdout is not None and proc.stdout.readline() == b"up\n"
            names = box.settled_names() if isinstance(box, PooledDockerSandbox) else box.containers
            found[kind] = inspect(names[0])
        finally:
            box.kill()
    cold, pooled = found["cold"]["HostConfig"], found["pooled"]["HostConfig"]
    for key in ("Memory", "MemorySwap", "PidsLimit", "NanoCpus", "NetworkMode",
                "ReadonlyRootfs", "Privileged", "CapDrop", "SecurityOpt", "Init", "LogConfig",
                "Tmpfs", "ShmSize", "IpcMode", "Ulimits", "AutoRemove"):  # fmt: skip
        assert pooled[key] == cold[key], key
    assert pooled["NetworkMode"] == "none" and pooled["ReadonlyRootfs"] is True
    assert [b.split(":", 1)[1] for b in pooled["Binds"]] == ["/sandbox:ro"]
    for key in ("User", "WorkingDir", "Image", "Hostname"):
        assert found["pooled"]["Config"][key] == found["cold"]["Config"][key], key
    # The engine merges the image's variables with ours in no fixed order.
    assert sorted(found["pooled"]["Config"]["Env"]) == sorted(found["cold"]["Config"]["Env"])
    labels = found["pooled"]["Config"]["Labels"]
    assert labels["dlgrade.sandbox"] == "1" and labels[LABEL_POOL] == pool.owner


WORKER = """
import json, sys, time
from pathlib import Path
from grader.sandbox.base import SandboxLimits, SandboxSpec
from grader.sandbox.pool import ContainerPool
pool = ContainerPool(size=1, refill=False)
limits = SandboxLimits(memory_mb=256, cpus=1.0, pids=32, tmpfs_mb=16, cpu_seconds=60)
assert pool.fill(SandboxSpec(root=Path(sys.argv[1]), limits=limits)) == 1
warm = pool._ready[next(iter(pool._ready))][0]
print(json.dumps({"name": warm.name, "client": warm.proc.pid}), flush=True)
time.sleep(600)
"""


@pytest.fixture
def dying_worker(image: str, tmp_path: Path) -> Iterator[tuple[subprocess.Popen, dict]]:
    """A worker process with one waiting container; the test kills it."""
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(tmp_path)],
        stdout=subprocess.PIPE,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    assert worker.stdout is not None
    facts = json.loads(worker.stdout.readline())
    # The worker's Docker client, held by a pidfd: signalled only while it is that process.
    facts["client_pid"] = facts["client"]
    facts["client"] = os.pidfd_open(facts["client"])
    try:
        yield worker, facts
    finally:
        worker.kill()
        worker.wait()
        for sig in (signal.SIGKILL, signal.SIGCONT):
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(facts["client"], sig)
        os.close(facts["client"])
        subprocess.run(["docker", "rm", "-f", facts["name"]], capture_output=True, check=False)


def running(name: str) -> bool:
    return name in containers(f"name=^{name}$", "status=running")


def test_a_waiting_container_stops_when_its_worker_dies(dying_worker) -> None:
    worker, facts = dying_worker
    assert running(facts["name"])
    worker.kill()
    worker.wait()
    # Its standard input ends with the worker: the waiting program exits, and with it
    # the container; the reaper then removes what is left of it.
    assert wait_until(lambda: not running(facts["name"]))
    assert facts["name"] in reap_pools()
    assert not exists(facts["name"])


def test_the_reaper_removes_a_dead_workers_containers_by_label(dying_worker) -> None:
    worker, facts = dying_worker
    # A Docker client that cannot pass end-of-file on (stopped, as a frozen host may
    # leave it): the container outlives its worker until the reaper finds it.
    signal.pidfd_send_signal(facts["client"], signal.SIGSTOP)
    # Stopped before the worker dies: otherwise it may still pass the end of its input on.
    stat = Path(f"/proc/{facts['client_pid']}/stat")
    assert wait_until(lambda: stat.read_text().rpartition(")")[2].split()[0] == "T", 10)
    worker.kill()
    worker.wait()
    time.sleep(2.0)
    assert running(facts["name"])
    assert facts["name"] in reap_pools()
    assert not exists(facts["name"])


def test_the_reaper_spares_a_live_workers_containers(pool: ContainerPool, tmp_path: Path):
    pool.fill(SandboxSpec(root=prepared(tmp_path / "r", "x"), limits=SMALL))
    names = pool.names()
    assert len(names) == 2
    assert not set(names) & set(reap_pools())
    assert all(exists(n) for n in names)


def test_the_pool_refills_after_a_take_and_lets_an_idle_kind_go(image: str, tmp_path: Path):
    pool = ContainerPool(size=1, idle_s=4.0, tick_s=0.2)
    taken = None
    try:
        spec = SandboxSpec(root=prepared(tmp_path / "r", "x"), limits=SMALL)
        assert pool.fill(spec) == 1
        first = pool.names()
        taken = pool.take(spec)
        assert taken is not None and taken.name == first[0]
        # Refilled in the background with a fresh container.
        assert wait_until(lambda: pool.waiting() == 1)
        refilled = pool.names()
        assert refilled != first
        # Nobody asks for this kind any more: after idle_s its containers are removed.
        assert wait_until(lambda: pool.waiting() == 0, seconds=30)
        assert wait_until(lambda: not exists(refilled[0]))
    finally:
        if taken is not None:  # ours to remove, as a grading would
            box = PooledDockerSandbox(SandboxSpec(root=tmp_path, limits=SMALL), pool)
            box.containers.append(taken.name)
            box.procs.append(taken.owned)
            box.kill()
        pool.close()
    assert containers(f"label={LABEL_POOL}={pool.owner}") == []


def test_a_pool_owner_is_alive_only_while_its_very_process_runs() -> None:
    """A pid alone could be another process's by now: its start time must match too."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        owner = owner_id(child.pid)
        assert owner_alive(owner) is True
        assert owner_alive(f"{owner}:token") is True
        host, pid, ticks = owner.split(":")
        assert owner_alive(f"{host}:{pid}:{int(ticks) + 1}") is False  # a reused pid
        assert owner_alive(f"another-host:{pid}:{ticks}") is None  # its own host judges
        assert owner_alive("nonsense") is False
    finally:
        child.kill()
        child.wait()
    assert owner_alive(owner) is False


DAEMON = """
import os, signal, sys, time
if os.fork() == 0:                    # a double-forked daemon that ignores SIGTERM
    os.setsid()
    if os.fork() == 0:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        time.sleep(600)
    os._exit(0)
time.sleep(0.5)
print("ready", flush=True)
time.sleep(600)
"""


def test_kill_removes_a_running_pooled_container_at_once(pool: ContainerPool, tmp_path: Path):
    spec = SandboxSpec(root=prepared(tmp_path / "r", "x"), limits=SMALL)
    pool.fill(spec)
    box = PooledDockerSandbox(spec, pool)
    try:
        proc = box.start(["python3", "-c", DAEMON])
        assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
        [name] = box.settled_names()
        assert running(name)
    finally:
        box.kill()
    assert not exists(name)  # still running at the kill: removed before kill() returns
    assert proc.returncode is not None


def test_a_container_that_ended_itself_is_removed_in_the_background(image: str, tmp_path: Path):
    pool = ContainerPool(size=1, tick_s=0.2)
    try:
        spec = SandboxSpec(root=prepared(tmp_path / "r", "x"), limits=SMALL)
        pool.fill(spec)
        box = PooledDockerSandbox(spec, pool)
        assert run_in(box, LOOK)["marker"] == "x"
        [name] = box.settled_names()
        box.kill()  # returns without waiting on Docker: the pool removes the remains
        assert box.containers == []
        assert wait_until(lambda: not exists(name))
        assert wait_until(lambda: not (pool.slots / box.pooled_names[0]).exists())
        assert not (pool.slots / f"{box.pooled_names[0]}.cid").exists()
    finally:
        pool.close()


def test_a_pool_fills_and_serves_when_the_worker_holds_many_descriptors(
    pool: ContainerPool, tmp_path: Path, many_descriptors: list[int]
) -> None:
    """A worker that has run many gradings holds descriptors over 1024; its pool works on."""
    root = prepared(tmp_path / "root", "high")
    spec = SandboxSpec(root=root, limits=SMALL)
    assert pool.fill(spec) == 2  # the pool's size
    box = PooledDockerSandbox(spec, pool)
    try:
        assert run_in(box, LOOK)["marker"] == "high"
    finally:
        box.kill()
    assert (box.pooled_starts, box.cold_starts) == (1, 0)
