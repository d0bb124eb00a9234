"""The local sandbox's limits per submission: cgroups where they can be managed, rlimits elsewhere.

Each test starts small ``python3 -c`` programs through ``LocalSandbox`` (or
grades a tiny submission to the red-team fixture assignment) and checks, from
inside and from the host, what the limits allowed: memory held by several
processes together, processes forked, cgroup folders and processes left behind.
Tests that need cgroups call ``require`` (root on a machine with cgroup v1's
memory and pids controllers, or cgroup v2); the rlimit fallback is checked
anywhere, by asking for it.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from grader.assignment import load_assignment
from grader.engine import grade
from grader.messages import CheckStatus, ReportStatus
from grader.sandbox import cgroups as cgroups_module
from grader.sandbox.base import SandboxLimits, SandboxSpec
from grader.sandbox.cgroups import (
    CGROUP_PARENT,
    CgroupLayout,
    SubmissionCgroup,
    _v2_parent,
    cgroup_layout,
    reap_cgroups,
)
from grader.sandbox.local import (
    ADDRESS_SPACE_FACTOR,
    ADDRESS_SPACE_HEADROOM,
    LocalSandbox,
    bwrap_path,
)
from grader.sandbox.owned import wait_fd
from tests.conftest import require

HERE = Path(__file__).resolve().parent
FIXTURE = HERE / "redteam" / "assignment"  # limits: 256 MB, 32 processes, 3 s per call
HOW_CGROUPS = "run as root on a machine with cgroup v1 memory controller or cgroup v2"
MIB = 1 << 20
SMALL = SandboxLimits(memory_mb=256, cpus=1.0, pids=16, tmpfs_mb=8, cpu_seconds=60)
RUN_TIMEOUT_S = 30.0

pytestmark = pytest.mark.filterwarnings("ignore::grader.sandbox.local.UnsafeSandboxWarning")


@pytest.fixture
def cgroups() -> CgroupLayout:
    require(bwrap_path() is not None, "bubblewrap", "apt-get install bubblewrap")
    layout, why = cgroup_layout()
    require(layout is not None, f"memory cgroup ({why})", HOW_CGROUPS)
    assert layout is not None
    return layout


@pytest.fixture
def sandbox_root() -> Iterator[Path]:
    """A prepared folder like the engine's, in /tmp where the sandbox user can reach it."""
    root = Path(tempfile.mkdtemp(prefix="dlgrade-test-local-"))
    for sub in ("runner", "submission", "data"):
        (root / sub).mkdir()
    for path in (root, *root.rglob("*")):
        path.chmod(0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


def make_box(root: Path, limits: SandboxLimits = SMALL, *, use_cgroups: bool = True):
    return LocalSandbox(SandboxSpec(root=root, limits=limits), use_cgroups=use_cgroups)


@dataclass
class Ran:
    status: int
    out: str
    box: LocalSandbox


def run_python(root: Path, code: str, *, use_cgroups: bool = True) -> Ran:
    """Run ``code`` in a fresh sandbox to its end; the sandbox is closed when this returns."""
    box = make_box(root, use_cgroups=use_cgroups)
    try:
        proc = box.start(["python3", "-c", textwrap.dedent(code)])
        out, _ = proc.communicate(timeout=RUN_TIMEOUT_S)
    finally:
        box.close()
    return Ran(proc.returncode, out.decode(), box)


def read_line(proc: subprocess.Popen[bytes], seconds: float = RUN_TIMEOUT_S) -> str:
    assert proc.stdout is not None
    assert wait_fd(proc.stdout.fileno(), seconds), f"no output within {seconds:g} s"
    return proc.stdout.readline().decode()


def start_time(pid: int) -> str | None:
    """The start time of live process ``pid`` (None once it is gone or a zombie)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rpartition(")")[2].split()
    except OSError:
        return None
    return None if fields[0] in ("Z", "X") else fields[19]


def still_running(seen: dict[int, str | None]) -> list[int]:
    return [pid for pid, started in seen.items() if started and start_time(pid) == started]


def our_group_folders(layout: CgroupLayout) -> list[Path]:
    """Folders of groups this test process made (their names start with its pid)."""
    prefix = f"{os.getpid()}-"
    return [
        Path(entry.path)
        for parent in layout.parents
        for entry in os.scandir(parent)
        if entry.is_dir() and entry.name.startswith(prefix)
    ]


# -- memory: one limit for all of a submission's processes together -------------------------

# Four fresh interpreters (each small, without NumPy) each fill 100 MiB and hold it:
# each one alone is far under 256 MB, all four together far over.
SPREAD_OUT = """
    import json, os, subprocess, sys, time
    HOLD = ("import os, time\\nblock = b'\\\\1' * (100 << 20)\\n"
            "os.write(1, b'+')\\ntime.sleep(60)\\n")
    children = [subprocess.Popen([sys.executable, "-c", HOLD], stdout=subprocess.PIPE)
                 for _ in range(4)]
    filled = set()
    deadline = time.monotonic() + 15
    # Settled when each child has filled its block or died; then a moment for late kills.
    while time.monotonic() < deadline:
        for i, child in enumerate(children):
            if i not in filled and child.poll() is None:
                os.set_blocking(child.stdout.fileno(), False)
                if child.stdout.read(1):
                    filled.add(i)
        if all(i in filled or c.poll() is not None for i, c in enumerate(children)):
            break
        time.sleep(0.05)
    time.sleep(0.5)
    holding = [i for i in filled if children[i].poll() is None]
    print(json.dumps({"filled": len(filled), "holding": len(holding)}))
    for child in children:
        child.kill()
"""


def test_processes_together_over_the_memory_limit_are_killed(
    cgroups: CgroupLayout, sandbox_root: Path
) -> None:
    ran = run_python(sandbox_root, SPREAD_OUT)
    assert ran.status == 0, ran.out
    found = json.loads(ran.out)
    assert found["filled"] >= 1  # the program ran and could allocate
    assert found["holding"] * 100 < SMALL.memory_mb  # together under the limit: 2 at most
    assert ran.box.oom_kills() >= 4 - found["holding"]  # the others: killed by the kernel
    facts = ran.box.describe()
    assert facts["memory_limit"] == cgroups.mechanism
    assert facts["oom_kills"] == ran.box.oom_kills() >= 1
    assert facts["cgroup_peak_memory_mb"] <= SMALL.memory_mb


def test_rlimit_fallback_limits_each_process_only(sandbox_root: Path) -> None:
    """Why cgroups: under the per-process rlimit all four hold their 100 MiB (400 MiB together)."""
    ran = run_python(sandbox_root, SPREAD_OUT, use_cgroups=False)
    assert ran.status == 0, ran.out
    assert json.loads(ran.out) == {"filled": 4, "holding": 4}
    assert ran.box.oom_kills() == 0
    assert ran.box.describe()["memory_limit"] == "per-process rlimit"


# The runner grows to 150 MiB (under 256 MB on its own), then starts interpreters
# that hold 60 MiB each: together they pass the limit, and the kernel kills the
# largest process, the runner.
MEMORY_TOGETHER_SUBMISSION = """
import subprocess
import sys
import time

import numpy as np

HOLD = "import os, time\\nblock = b'\\\\1' * (60 << 20)\\nos.write(1, b'+')\\ntime.sleep(60)\\n"
kept = []


def square(x):
    return x * x


def add(a, b):
    kept.append(np.ones(150 * (1 << 20) // 8))  # 150 MiB, every page written
    for _ in range(3):
        child = subprocess.Popen([sys.executable, "-c", HOLD], stdout=subprocess.PIPE)
        child.stdout.read(1)
    time.sleep(1.0)
    return a + b


def center(x):
    return x - np.mean(x)


def total(x):
    return float(np.sum(x))
"""


def test_grading_reports_memory_when_processes_together_exceed_it(
    cgroups: CgroupLayout, tmp_path: Path
) -> None:
    submission = tmp_path / "redteam.py"
    submission.write_text(MEMORY_TOGETHER_SUBMISSION)
    report = grade(load_assignment(FIXTURE), submission, sandbox="local")
    assert report.status == ReportStatus.GRADED
    checks = {c.name: (c.status, c.message) for c in report.checks}
    assert checks["add"][0] == CheckStatus.MEMORY, checks["add"]
    # The kernel's own count of OOM kills lets the message name the limit, not guess.
    assert "went past the memory limit of 256 MB" in checks["add"][1], checks["add"]
    # Only add() is lost: the next check gets a fresh runner.
    assert {name: status for name, (status, _) in checks.items() if name != "add"} == dict.fromkeys(
        ("square", "center", "total", "square_hidden"), CheckStatus.PASSED
    )
    assert report.score == 5.0
    assert report.environment["memory_limit"] == cgroups.mechanism
    assert report.environment["oom_kills"] >= 1
    assert report.environment["runner_starts"] == 2


# -- processes: one limit per sandbox, not shared with a concurrent one ---------------------

FORK_BOMB = """
    import errno, os, time
    made, error = 0, None
    while made < 1000:
        try:
            pid = os.fork()
        except OSError as exc:
            error = errno.errorcode[exc.errno]
            break
        if pid == 0:
            time.sleep(60)
            os._exit(0)
        made += 1
    print(made, error, flush=True)
    time.sleep(60)
"""
FORK_EIGHT = """
    import os, time
    pids = []
    for _ in range(8):
        pid = os.fork()
        if pid == 0:
            time.sleep(60)
            os._exit(0)
        pids.append(pid)
    print(len(pids), flush=True)
    time.sleep(60)
"""


def test_fork_bomb_is_held_by_its_own_sandboxes_pids_limit(
    cgroups: CgroupLayout, sandbox_root: Path
) -> None:
    bombed, honest = make_box(sandbox_root), make_box(sandbox_root)
    seen: dict[int, str | None] = {}
    try:
        bomb = bombed.start(["python3", "-c", textwrap.dedent(FORK_BOMB)])
        made, error = read_line(bomb).split()
        assert bombed.last_group is not None
        members = bombed.last_group.members()
        seen.update({pid: start_time(pid) for pid in members})
        # The whole sandbox (bwrap, its init, python3 and the children) within the limit,
        # and refused by the cgroup's pids.max.
        assert error == "EAGAIN"
        assert 0 < int(made) < SMALL.pids
        assert len(members) <= SMALL.pids
        events = (bombed.last_group.folder("pids") / "pids.events").read_text()
        assert int(events.split()[1]) > 0, events  # "max N": forks this group refused
        # While the bomb holds all it may, a concurrent sandbox forks as usual.
        other = honest.start(["python3", "-c", textwrap.dedent(FORK_EIGHT)])
        assert read_line(other) == "8\n"
        assert honest.last_group is not None
        seen.update({pid: start_time(pid) for pid in honest.last_group.members()})
    finally:
        bombed.close()
        honest.close()
    assert still_running(seen) == []
    assert our_group_folders(cgroups) == []


# -- nothing is left behind ------------------------------------------------------------------

DAEMON = """
    import os, time
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.close(1)  # lets go of the pipe like a daemon; the sandbox must still end it
            time.sleep(600)
        os._exit(0)
    print("daemonised", flush=True)
    time.sleep(60)
"""


def test_no_cgroup_or_process_left_after_close(cgroups: CgroupLayout, sandbox_root: Path) -> None:
    box = make_box(sandbox_root)
    seen: dict[int, str | None] = {}
    folders: list[Path] = []
    try:
        for start in range(2):  # a restart makes a fresh group; each must go
            proc = box.start(["python3", "-c", textwrap.dedent(DAEMON)])
            assert read_line(proc) == "daemonised\n"
            assert box.last_group is not None
            folders += box.last_group.dirs
            members = box.last_group.members()
            assert len(members) >= 4  # bwrap, its init, python3, the daemon
            seen.update({pid: start_time(pid) for pid in members})
            if start == 0:
                box.kill()  # as the engine does before a restart
                assert not any(f.exists() for f in folders)
    finally:
        box.close()
    assert len(set(folders)) == 2 * len(cgroups.parents)
    assert [f for f in folders if f.exists()] == []
    assert our_group_folders(cgroups) == []
    assert still_running(seen) == []
    box.close()  # idempotent
    assert box.describe()["oom_kills"] == 0


def _fds_into(folders: list[Path]) -> list[str]:
    """This process's open descriptors on files in ``folders``."""
    out = []
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/self/fd/{fd}")
            if any(target.startswith(str(f) + "/") for f in folders):
                out.append(target)
    return out


def test_cpu_meter_reads_a_held_file_that_goes_with_its_group(
    cgroups: CgroupLayout, sandbox_root: Path
) -> None:
    """The time limits read the group's CPU time twice per call from one held descriptor:
    it must keep counting (a cgroup file is generated afresh at each read), and it must
    not outlive the group, nor keep the group's folder from being removed."""
    box = make_box(sandbox_root)
    try:
        proc = box.start(["python3", "-c", BURN_THEN_WAIT])
        assert read_line(proc) == "burnt\n"
        assert box.last_group is not None
        folders = list(box.last_group.dirs)
        first = box.cpu_seconds()
        assert first is not None and first >= 0.2  # the 0.3 s of CPU it burnt before saying so
        proc.stdin.write(b"burn\n")
        proc.stdin.flush()
        assert read_line(proc) == "burnt\n"
        second = box.cpu_seconds()
        assert second is not None and second >= first + 0.2
        assert _fds_into(folders), "the meter holds its usage file open between reads"
        box.kill()
        assert not any(f.exists() for f in folders)
        assert _fds_into(folders) == []
        assert box.cpu_seconds() is None
    finally:
        box.close()


BURN_THEN_WAIT = """
import sys, time
def burn():
    t = time.process_time()
    while time.process_time() - t < 0.3:
        pass
    print("burnt", flush=True)
burn()
for line in sys.stdin:
    burn()
"""


@pytest.fixture
def private_layout(cgroups: CgroupLayout) -> Iterator[CgroupLayout]:
    """A parent folder of its own, next to the real one: no other test run reaps in it."""
    suffix = f"-test-{secrets.token_hex(4)}"
    mine = CgroupLayout(
        cgroups.version,
        {c: p.with_name(CGROUP_PARENT + suffix) for c, p in cgroups.homes.items()},
    )
    for parent in mine.parents:
        parent.mkdir()
    yield mine
    left = {entry.name for parent in mine.parents for entry in os.scandir(parent) if entry.is_dir()}
    for name in left:  # what a failed test left: its processes killed, its folders removed
        SubmissionCgroup(mine, name).destroy()
    for parent in mine.parents:
        parent.rmdir()


def test_reap_cgroups_removes_orphans_and_spares_groups_in_use(
    private_layout: CgroupLayout,
) -> None:
    with open("/proc/self/stat") as fh:
        me_started = fh.read().rpartition(")")[2].split()[19]
    now = int(time.time())
    me = os.getpid()

    def group(started: str, made: int) -> SubmissionCgroup:
        name = f"{me}-{started}-{made}-{secrets.token_hex(4)}"
        made_group = SubmissionCgroup(private_layout, name)
        for folder in made_group.dirs:
            folder.mkdir()
        return made_group

    # Made by "a process with our pid that started at tick 1": a dead owner, whose
    # sandbox left a process behind.
    orphan = group("1", now)
    young = group(me_started, now)
    old = group(me_started, now - 7200)
    fds = orphan.join_fds()
    try:
        left = subprocess.Popen(
            ["sleep", "600"], preexec_fn=lambda: [os.write(fd, b"0") for fd in fds]
        )
    finally:
        for fd in fds:
            os.close(fd)
    assert orphan.members() == [left.pid]
    reaped = reap_cgroups(max_age_s=3600, layout=private_layout)
    assert left.wait(timeout=10) == -9
    assert sorted(reaped) == sorted([orphan.name, old.name])
    assert not any(f.exists() for f in (*orphan.dirs, *old.dirs))
    assert all(f.exists() for f in young.dirs)


# -- the group is in place before anything runs; limits as described --------------------------


@pytest.mark.parametrize("use_cgroups", [True, False])
def test_runner_starts_inside_its_group_with_its_limits(
    sandbox_root: Path, use_cgroups: bool
) -> None:
    if use_cgroups:
        layout, why = cgroup_layout()
        require(layout is not None, f"memory cgroup ({why})", HOW_CGROUPS)
    box = make_box(sandbox_root, use_cgroups=use_cgroups)
    try:
        proc = box.start(["python3", "-c", "import sys; sys.stdin.read()"])
        # start() returns once the child has exec'd: it joined before it ran anything.
        with open(f"/proc/{proc.pid}/cgroup") as fh:
            lines = fh.read().splitlines()
        limits = Path(f"/proc/{proc.pid}/limits").read_text()
        address_space = next(line for line in limits.splitlines() if "address space" in line)
        if use_cgroups:
            assert box.last_group is not None
            mine = f"/{CGROUP_PARENT}/{box.last_group.name}"
            ours = [line for line in lines if line.endswith(mine)]
            if box.cgroup_layout.version == 1:  # every hierarchy in use: memory, pids, cpu...
                joined = {c for line in ours for c in line.split(":")[1].split(",")}
                assert joined >= set(box.cgroup_layout.homes) >= {"memory", "pids"}
                assert len(ours) == len(box.cgroup_layout.parents)
            else:
                assert [line.split(":")[1] for line in ours] == [""]
            expected = ADDRESS_SPACE_FACTOR * SMALL.memory_mb * MIB + ADDRESS_SPACE_HEADROOM
        else:
            assert not any(CGROUP_PARENT in line for line in lines)
            expected = SMALL.memory_mb * MIB
        assert address_space.split()[3:5] == [str(expected)] * 2
    finally:
        box.close()


def test_cgroup_limits_written(cgroups: CgroupLayout) -> None:
    group = SubmissionCgroup.create(cgroups, SMALL)
    try:
        memory, pids = group.folder("memory"), group.folder("pids")
        if cgroups.version == 1:
            assert int((memory / "memory.limit_in_bytes").read_text()) == SMALL.memory_mb * MIB
            swap = memory / "memory.memsw.limit_in_bytes"
            if swap.exists():  # kernels without swap accounting have no such file
                assert int(swap.read_text()) == SMALL.memory_mb * MIB
        else:
            assert int((memory / "memory.max").read_text()) == SMALL.memory_mb * MIB
        assert (pids / "pids.max").read_text().strip() == str(SMALL.pids)
        if cgroups.has("cpu"):  # SMALL.cpus is one core: one period's worth per period
            cpu = group.folder("cpu")
            if cgroups.version == 1:
                assert (cpu / "cpu.cfs_period_us").read_text().strip() == "100000"
                assert (cpu / "cpu.cfs_quota_us").read_text().strip() == "100000"
            else:
                assert (cpu / "cpu.max").read_text().split() == ["100000", "100000"]
    finally:
        assert group.destroy()
    assert not any(f.exists() for f in group.dirs)


def test_v2_limit_files(tmp_path: Path) -> None:
    """cgroup v2's names, checked on a plain folder (this machine may have only v1)."""
    group = SubmissionCgroup.create(CgroupLayout.unified(tmp_path, cpu=True), SMALL)
    folder = tmp_path / group.name
    assert group.dirs == (folder,)
    assert (folder / "memory.max").read_text() == str(SMALL.memory_mb * MIB)
    assert (folder / "memory.swap.max").read_text() == "0"
    assert (folder / "pids.max").read_text() == str(SMALL.pids)
    assert (folder / "cpu.max").read_text() == "100000 100000"  # one core: SMALL.cpus


@pytest.mark.parametrize("own", ["/system.slice/dlgrade-worker.service", "/"])
def test_v2_parent_is_made_where_controllers_can_be_handed_down(
    tmp_path: Path, own: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a plain folder shaped like cgroup v2: our own cgroup holds a process, so it
    refuses to enable controllers for children (as the kernel does, EBUSY); the top takes them.
    The cpu controller, offered, is handed down too, in a write of its own.
    """
    (tmp_path / "cgroup.controllers").write_text("cpu io memory pids\n")
    (tmp_path / "cgroup.subtree_control").write_text("cpu\n")
    ours = tmp_path / own.lstrip("/")
    if own != "/":
        (ours / "cgroup.subtree_control").mkdir(parents=True)  # writing to it fails
    # The kernel gives every new cgroup folder its files; a plain folder needs them made.
    (tmp_path / CGROUP_PARENT).mkdir()
    (tmp_path / CGROUP_PARENT / "cgroup.subtree_control").write_text("")
    writes: list[tuple[Path, str]] = []
    real_write = cgroups_module._write

    def write(path: Path, text: str) -> None:
        control = path.name == "cgroup.subtree_control"
        before = set(path.read_text().split()) if control else set()
        real_write(path, text)
        writes.append((path, text))
        if control:  # as the kernel shows it: every controller enabled, by name
            path.write_text(" ".join(sorted(before | set(text.replace("+", " ").split()))))

    monkeypatch.setattr(cgroups_module, "_write", write)
    parent, cpu = _v2_parent((tmp_path, "/"), own)
    assert parent == tmp_path / CGROUP_PARENT
    assert cpu
    control = CGROUP_PARENT + "/cgroup.subtree_control"
    assert [(str(p.relative_to(tmp_path)), t) for p, t in writes] == [
        ("cgroup.subtree_control", "+memory +pids"),
        (control, "+memory +pids"),
        (control, "+cpu"),  # the top had cpu enabled already
    ]
    assert not (ours / CGROUP_PARENT).exists() or own == "/"


def test_describe_says_which_limits_are_in_force(sandbox_root: Path) -> None:
    layout, why = cgroup_layout()
    fallback = make_box(sandbox_root, use_cgroups=False).describe()
    assert fallback["memory_limit"] == "per-process rlimit"
    assert fallback["process_limit"] == ("per-uid rlimit" if os.getuid() == 0 else "none")
    assert fallback["cgroup_unavailable"] == "cgroups not asked for"
    facts = make_box(sandbox_root).describe()
    if layout is None:
        assert facts["memory_limit"] == "per-process rlimit"
        assert facts["cgroup_unavailable"] == why != ""
    else:
        assert facts["memory_limit"] == facts["process_limit"] == f"cgroup v{layout.version}"
        assert facts["cpu_limit"] == (
            f"1 cpu (cgroup v{layout.version} quota)" if layout.has("cpu") else "not enforced"
        )
        assert "cgroup_unavailable" not in facts
        assert facts["oom_kills"] == 0


# -- without bubblewrap: the rlimits fallback still runs the runner, start after start ------


def test_the_fallback_without_bubblewrap_starts_the_interpreter_again_and_again(
    sandbox_root: Path,
):
    """Without bubblewrap "python3" is the environment's interpreter (it was taken for the
    script's name: exit status 2), and each start gets a TMPDIR of its own: as root every
    start runs as another uid, which could not replace what the last one wrote there (a
    training check's second run failed to load the file)."""
    require(os.getuid() == 0, "root (each start runs as its own uid)", "run the tests as root")
    box = make_box(sandbox_root, use_cgroups=False)
    box.bwrap = None  # the host's bubblewrap, hidden: the fallback a host without one takes
    write_work = """
        import os, pathlib, sys
        work = pathlib.Path(os.environ["TMPDIR"]) / "work"
        work.mkdir(exist_ok=True)
        (work / "homework.py").write_text("x = 1")
        print(sys.prefix, os.getuid())
    """
    try:
        seen = []
        for _ in range(2):
            proc = box.start(["python3", "-c", textwrap.dedent(write_work)])
            out, err = proc.communicate(timeout=RUN_TIMEOUT_S)
            assert proc.returncode == 0, err.decode()
            seen.append(out.decode().split())
            box.kill()  # as a training check's next run does (the session closes first)
    finally:
        box.close()
    assert [os.path.realpath(prefix) for prefix, _ in seen] == [os.path.realpath(box.env)] * 2
    assert seen[0][1] != seen[1][1]  # two uids, as the engine's starts are


def test_getpass_works_for_a_uid_without_a_passwd_entry(sandbox_root: Path):
    """CUDA builds of torch ask getpass.getuser() (a GPU grading stopped on KeyError
    'getpwuid(): uid not found' before the sandbox named its user)."""
    require(bwrap_path() is not None, "bubblewrap", "apt-get install bubblewrap")
    ran = run_python(sandbox_root, "import getpass; print(getpass.getuser())")
    assert (ran.status, ran.out.strip()) == (0, "sandbox")
