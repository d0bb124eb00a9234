"""The runs' state machine against SQLite and PostgreSQL: claims, leases, fencing, fairness, limits.

No broker here: ``publish`` is a list that records what would be sent, in order.
"""

from __future__ import annotations

import hashlib
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from grader.assignment import load_assignment
from grader.messages import CheckStatus
from tests.worker.conftest import SUBMISSIONS, TINY, wait_until
from worker.config import Settings
from worker.grading import execute_run
from worker.models import (
    GradeReport,
    GradeRun,
    RunStatus,
    Submission,
    SubmissionBlob,
    User,
    utcnow,
)
from worker.reaper import reap_once
from worker.runs import GradeQueue
from worker.status import submission_status
from worker.storage import BlobCorrupt, load_blob
from worker.submit import SubmissionRefused, submit

GOOD = SUBMISSIONS / "good.py"


class Outbox(list):
    """A stand-in broker: remembers (run_id, queue, time limit) in publishing order."""

    def __call__(self, run_id: int, queue: str, time_limit: float) -> None:
        self.append((run_id, queue, time_limit))

    @property
    def runs(self) -> list[int]:
        return [r for r, _, _ in self]


@pytest.fixture(scope="module")
def tiny():
    return load_assignment(TINY)


def _expire(settings: Settings, run_id: int) -> None:
    with GradeQueue(settings).Session() as s, s.begin():
        s.execute(
            update(GradeRun)
            .where(GradeRun.id == run_id)
            .values(lease_expires_at=utcnow() - timedelta(seconds=1))
        )


def _run(settings: Settings, run_id: int) -> GradeRun:
    with GradeQueue(settings).Session() as s:
        run = s.get(GradeRun, run_id)
        assert run is not None
        return run


def _reports(settings: Settings, submission_id: int) -> int:
    with GradeQueue(settings).Session() as s:
        return s.scalar(
            select(func.count())
            .select_from(GradeReport)
            .where(GradeReport.submission_id == submission_id)
        )


REPORT = {"status": "graded", "score": 3.0, "max_score": 3.0, "assignment": "worker-tiny"}


def test_a_claim_is_exclusive_and_a_lost_lease_cannot_write(settings: Settings, tiny) -> None:
    q = GradeQueue(settings)
    acc = submit(tiny, GOOD, "alice", settings, publish=None)
    first = q.claim(acc.run_id, "w1")
    assert first is not None and first.attempt == 1
    assert q.claim(acc.run_id, "w2") is None, "a live lease must keep others out"
    assert q.heartbeat(first, "check 1/2: add")
    assert _run(settings, acc.run_id).progress == "check 1/2: add"

    _expire(settings, acc.run_id)
    second = q.claim(acc.run_id, "w2")
    assert second is not None and second.attempt == 2
    # The first worker comes back: every write of its stale attempt is refused.
    assert not q.heartbeat(first, "check 2/2")
    assert not q.finish(first, REPORT, tiny.manifest_hash)
    assert not q.release(first, "x", 1.0)
    assert not q.fail(first, "x")
    assert q.finish(second, REPORT, tiny.manifest_hash)
    assert not q.finish(second, REPORT, tiny.manifest_hash), "finish twice"
    assert q.claim(acc.run_id, "w3") is None, "a redelivered message for a done run"
    assert _reports(settings, acc.submission_id) == 1
    run = _run(settings, acc.run_id)
    assert (run.status, run.attempt, run.worker) == ("done", 2, "w2")


def test_the_database_refuses_a_second_report_for_a_run(settings: Settings, tiny) -> None:
    q = GradeQueue(settings)
    acc = submit(tiny, GOOD, "alice", settings, publish=None)
    claim = q.claim(acc.run_id, "w1")
    assert claim is not None and q.finish(claim, REPORT, tiny.manifest_hash)
    with pytest.raises(IntegrityError), q.Session() as s, s.begin():
        s.add(
            GradeReport(
                run_id=acc.run_id,
                submission_id=acc.submission_id,
                status="graded",
                score=0.0,
                max_score=3.0,
                report={},
                manifest_hash="x",
                worker="intruder",
            )
        )


def test_racing_claims_yield_exactly_one_winner(settings: Settings, tiny) -> None:
    acc = submit(tiny, GOOD, "alice", settings, publish=None)
    start = threading.Barrier(8)
    wins: list[object] = []

    def contender(n: int) -> None:
        q = GradeQueue(settings)
        start.wait()
        claim = q.claim(acc.run_id, f"w{n}")
        if claim is not None:
            wins.append(claim)

    threads = [threading.Thread(target=contender, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1


def test_fair_dispatch_interleaves_students(settings: Settings, tiny) -> None:
    """One student's five submissions do not hold back a classmate's one (window of 1)."""
    settings = settings.with_(dispatch_per_student=1)
    q = GradeQueue(settings)
    out = Outbox()
    busy = [submit(tiny, GOOD, "busy", settings, out).run_id for _ in range(5)]
    quiet = submit(tiny, GOOD, "quiet", settings, out).run_id
    assert out.runs == [busy[0], quiet], "the rest of busy's runs wait in the database"
    assert all(limit > tiny.total_seconds for _, _, limit in out)
    # A FIFO broker served by one worker: take the oldest message, grade, dispatch the next.
    order = []
    while len(order) < len(out):
        run_id = out.runs[len(order)]
        claim = q.claim(run_id, "w")
        assert claim is not None
        assert q.finish(claim, REPORT, tiny.manifest_hash)
        q.dispatch(claim.user_id, claim.queue, out)
        order.append(run_id)
    assert order == [busy[0], quiet, *busy[1:]]


def test_admission_caps_in_flight_and_rate(settings: Settings, tiny) -> None:
    capped = settings.with_(max_in_flight=2)
    submit(tiny, GOOD, "alice", capped, publish=None)
    submit(tiny, GOOD, "alice", capped, publish=None)
    with pytest.raises(SubmissionRefused, match="already has 2"):
        submit(tiny, GOOD, "alice", capped, publish=None)
    submit(tiny, GOOD, "bob", capped, publish=None)  # a cap per student, not per course

    rated = settings.with_(rate_limit="3/3600")
    with pytest.raises(SubmissionRefused, match="3 times") as refused:
        for _ in range(4):
            submit(tiny, GOOD, "carol", rated, publish=None)
    assert 3500 < (refused.value.retry_after_s or 0) <= 3600
    with GradeQueue(settings).Session() as s:
        carol = s.scalar(
            select(func.count())
            .select_from(Submission)
            .join(User, User.id == Submission.user_id)
            .where(User.name == "carol")
        )
    assert carol == 3, "a refused submission leaves no row"


def test_submissions_are_content_addressed_and_immutable(settings: Settings, tiny) -> None:
    a = submit(tiny, GOOD, "alice", settings, publish=None)
    b = submit(tiny, GOOD, "bob", settings, publish=None)
    data = GOOD.read_bytes()
    assert a.sha256 == b.sha256 == hashlib.sha256(data).hexdigest()
    assert a.size == len(data)
    with GradeQueue(settings).engine.connect() as conn:
        assert load_blob(conn, a.sha256) == data
        assert conn.scalars(select(SubmissionBlob.sha256)).all() == [a.sha256]
        # Bytes that no longer hash to their name are never handed to a grader.
        conn.execute(
            update(SubmissionBlob).where(SubmissionBlob.sha256 == a.sha256).values(data=b"x")
        )
        with pytest.raises(BlobCorrupt):
            load_blob(conn, a.sha256)
    with pytest.raises(ValueError, match="immutable"), GradeQueue(settings).Session() as s:
        sub = s.get(Submission, a.submission_id)
        sub.filename = "other.py"
        s.commit()


def test_late_flag_follows_the_due_date(settings: Settings, tiny) -> None:
    from dataclasses import replace
    from datetime import UTC, datetime

    past = replace(tiny, due=datetime(2020, 1, 1, tzinfo=UTC), manifest_hash="p" * 64)
    future = replace(tiny, due=datetime(2999, 1, 1, tzinfo=UTC), manifest_hash="f" * 64)
    assert submit(past, GOOD, "alice", settings, publish=None).late
    assert not submit(future, GOOD, "alice", settings, publish=None).late


def test_reaper_requeues_expired_leases_then_gives_up(settings: Settings, tiny) -> None:
    settings = settings.with_(max_attempts=2)
    q = GradeQueue(settings)
    out = Outbox()
    acc = submit(tiny, GOOD, "alice", settings, out)
    for attempt in (1, 2):
        claim = q.claim(acc.run_id, f"w{attempt}")
        assert claim is not None and claim.attempt == attempt
        _expire(settings, acc.run_id)
        counts = reap_once(settings, out)
        assert (counts["requeued"], counts["given_up"]) == ((1, 0) if attempt == 1 else (0, 1))
    run = _run(settings, acc.run_id)
    assert run.status == RunStatus.ERROR.value
    assert "gave up after 2 attempts" in run.error and "w2" in run.error
    assert out.runs == [acc.run_id, acc.run_id], "dispatched again once, after the first loss"
    info = submission_status(settings, acc.submission_id)
    assert info is not None and (info["status"], info["attempts"], info["reports"]) == (
        "error",
        2,
        0,
    )


def test_stale_dispatch_is_sent_again(settings: Settings, tiny) -> None:
    settings = settings.with_(redispatch_after=60)
    out = Outbox()
    acc = submit(tiny, GOOD, "alice", settings, out)
    assert reap_once(settings, out)["redispatched"] == 0
    with GradeQueue(settings).Session() as s, s.begin():
        s.execute(
            update(GradeRun)
            .where(GradeRun.id == acc.run_id)
            .values(dispatched_at=utcnow() - timedelta(seconds=61))
        )
    counts = reap_once(settings, out)
    assert (counts["redispatched"], counts["dispatched"]) == (1, 1)
    assert out.runs == [acc.run_id, acc.run_id]


def test_a_student_verdict_is_stored_at_once(settings: Settings, tiny) -> None:
    """Timeouts are the student's: one attempt, a report, no retry; the next job runs."""
    out = Outbox()
    forever = submit(tiny, SUBMISSIONS / "forever.py", "alice", settings, out)
    good = submit(tiny, GOOD, "alice", settings, out)
    assert execute_run(forever.run_id, settings, out) == "graded"
    assert execute_run(good.run_id, settings, out) == "graded"
    slow = submission_status(settings, forever.submission_id)
    assert slow is not None
    assert (slow["status"], slow["attempts"], slow["reports"], slow["score"]) == (
        "graded",
        1,
        1,
        0.0,
    )
    assert [c["status"] for c in slow["report"]["checks"]] == [CheckStatus.TIMEOUT] * 2
    fine = submission_status(settings, good.submission_id)
    assert fine is not None and (fine["status"], fine["score"], fine["max_score"]) == (
        "graded",
        3.0,
        3.0,
    )
    assert fine["report"]["environment"]["seed"] == good.submission_id
    assert execute_run(good.run_id, settings, out) == "skipped", "a redelivered message"
    assert _reports(settings, good.submission_id) == 1


def test_a_malformed_reply_is_one_attempt_and_one_report(settings: Settings, tiny) -> None:
    """A frame the grader cannot accept is a verdict on the submission, never a retry."""
    out = Outbox()
    acc = submit(tiny, SUBMISSIONS / "forged_reply_id.py", "alice", settings, out)
    assert execute_run(acc.run_id, settings, out) == "graded"
    info = submission_status(settings, acc.submission_id)
    assert info is not None
    assert (info["status"], info["attempts"], info["reports"], info["score"]) == (
        "graded",
        1,
        1,
        2.0,
    )
    statuses = {c["name"]: c["status"] for c in info["report"]["checks"]}
    assert statuses == {"add": CheckStatus.CRASH, "scale": CheckStatus.PASSED}
    assert execute_run(acc.run_id, settings, out) == "skipped"
    assert _reports(settings, acc.submission_id) == 1


def test_infrastructure_failures_back_off_then_end_in_error(settings: Settings, tiny) -> None:
    """A sandbox that cannot start is retried later, never graded as the student's fault."""
    broken = settings.with_(sandbox="no-such-sandbox", max_attempts=2, retry_backoff=30.0)
    out = Outbox()
    acc = submit(tiny, GOOD, "alice", broken, out)
    assert execute_run(acc.run_id, broken, out) == "retry"
    run = _run(broken, acc.run_id)
    assert run.status == RunStatus.QUEUED.value and "could not start" in run.error
    assert run.not_before is not None and run.not_before > utcnow() + timedelta(seconds=25)
    assert execute_run(acc.run_id, broken, out) == "skipped", "backing off: not before its time"
    assert reap_once(broken, out)["dispatched"] == 0
    assert _reports(broken, acc.submission_id) == 0

    with GradeQueue(broken).Session() as s, s.begin():
        s.execute(update(GradeRun).where(GradeRun.id == acc.run_id).values(not_before=utcnow()))
    assert execute_run(acc.run_id, broken, out) == "error", "the last attempt keeps its report"
    info = submission_status(broken, acc.submission_id)
    assert info is not None
    assert (info["status"], info["attempts"], info["reports"]) == ("error", 2, 1)
    assert info["report_status"] == "platform_error"


def test_an_assignment_that_cannot_load_is_an_error_without_retry(
    settings: Settings, tiny, tmp_path: Path
) -> None:
    import shutil

    copy = tmp_path / "tiny-copy"
    shutil.copytree(TINY, copy)
    spec = load_assignment(copy)
    acc = submit(spec, GOOD, "alice", settings, publish=None)
    (copy / "checks.py").write_text("raise RuntimeError('broken checks')\n")
    assert execute_run(acc.run_id, settings, None) == "error"
    run = _run(settings, acc.run_id)
    assert (run.status, run.attempt) == ("error", 1)
    assert "cannot be loaded" in run.error


def test_the_queue_comes_from_the_manifest(settings: Settings, tiny) -> None:
    from dataclasses import replace

    gpu = replace(tiny, queue="gpu", manifest_hash="g" * 64)
    out = Outbox()
    a = submit(gpu, GOOD, "alice", settings, out)
    b = submit(tiny, GOOD, "alice", settings, out)
    assert [(r, q) for r, q, _ in out] == [(a.run_id, "gpu"), (b.run_id, "cpu")]


@pytest.mark.docker
def test_the_reaper_removes_a_dead_attempts_docker_sandboxes(settings: Settings, tiny) -> None:
    """Only the lost attempt's containers go: a newer attempt's (same run) stays."""
    import tempfile

    from grader.sandbox.base import SandboxLimits, SandboxSpec, SandboxUnavailable
    from grader.sandbox.docker import LABEL_LABEL, DockerSandbox, docker_available
    from grader.sandbox.images import BUILD_COMMAND, docker_cli, image_for
    from tests.conftest import require
    from worker.runs import sandbox_label

    require(docker_available(), "Docker engine", BUILD_COMMAND)
    try:
        image_for("numpy")
    except SandboxUnavailable as err:
        require(False, f"the sandbox images ({err})", BUILD_COMMAND)
    settings = settings.with_(sandbox="docker")
    q = GradeQueue(settings)
    out = Outbox()
    acc = submit(tiny, GOOD, "alice", settings, out)
    claim = q.claim(acc.run_id, "a-worker-that-will-die")
    assert claim is not None
    root = Path(tempfile.mkdtemp(prefix="dlgrade-reaper-test-"))
    for sub in ("runner", "submission", "data"):
        (root / sub).mkdir()
    for path in (root, *root.iterdir()):
        path.chmod(0o755)
    limits = SandboxLimits(memory_mb=128, pids=16, tmpfs_mb=8, cpu_seconds=600)
    labels = {n: sandbox_label(tiny.slug, acc.run_id, n, "good.py") for n in (1, 2)}
    boxes = {
        n: DockerSandbox(SandboxSpec(root=root, limits=limits, label=label))
        for n, label in labels.items()
    }

    def running(attempt: int) -> list[str]:
        label = boxes[attempt].spec.label
        done = docker_cli(["ps", "-q", "--filter", f"label={LABEL_LABEL}={label}"], timeout=30)
        return done.stdout.decode().split()

    try:
        for box in boxes.values():
            box.start(["python3", "-c", "import time; time.sleep(600)"])
        wait_until(lambda: running(1) and running(2), 60, "both containers to run")
        _expire(settings, acc.run_id)
        counts = reap_once(settings, out)
        assert (counts["sandboxes"], counts["requeued"]) == (1, 1)
        assert running(1) == []
        assert len(running(2)) == 1, "another attempt's sandbox is not touched"
    finally:
        for box in boxes.values():
            box.close()
        import shutil

        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.docker
def test_the_reaper_removes_a_dead_attempts_pooled_sandbox(settings: Settings, tiny) -> None:
    """A container from a worker's warm pool, started before the grading, goes too."""
    import shutil
    import tempfile

    from grader.sandbox.base import SandboxLimits, SandboxSpec, SandboxUnavailable
    from grader.sandbox.docker import docker_available
    from grader.sandbox.images import BUILD_COMMAND, docker_cli, image_for
    from grader.sandbox.pool import ContainerPool, PooledDockerSandbox
    from tests.conftest import require
    from worker.runs import sandbox_label

    require(docker_available(), "Docker engine", BUILD_COMMAND)
    try:
        image_for("numpy")
    except SandboxUnavailable as err:
        require(False, f"the sandbox images ({err})", BUILD_COMMAND)
    settings = settings.with_(sandbox="docker")
    q = GradeQueue(settings)
    out = Outbox()
    acc = submit(tiny, GOOD, "alice", settings, out)
    assert q.claim(acc.run_id, "a-worker-that-will-die") is not None
    root = Path(tempfile.mkdtemp(prefix="dlgrade-reaper-test-"))
    for sub in ("runner", "submission", "data"):
        (root / sub).mkdir()
    for path in (root, *root.iterdir()):
        path.chmod(0o755)
    limits = SandboxLimits(memory_mb=128, pids=16, tmpfs_mb=8, cpu_seconds=600)
    spec = SandboxSpec(
        root=root, limits=limits, label=sandbox_label(tiny.slug, acc.run_id, 1, "good.py")
    )
    pool = ContainerPool(size=1, refill=False)
    box = PooledDockerSandbox(spec, pool)
    try:
        assert pool.fill(spec) == 1
        box.start(["python3", "-c", "import time; time.sleep(600)"])
        assert box.pooled_starts == 1
        [name] = box.settled_names()

        def alive() -> list[str]:
            done = docker_cli(["ps", "-q", "--filter", f"name=^{name}$"], timeout=30)
            return done.stdout.decode().split()

        assert alive()
        _expire(settings, acc.run_id)
        counts = reap_once(settings, out)
        assert (counts["sandboxes"], counts["requeued"]) == (1, 1)
        assert alive() == []
    finally:
        box.close()
        pool.close()
        shutil.rmtree(root, ignore_errors=True)


def test_a_claim_carries_what_to_grade(settings: Settings, tiny) -> None:
    """One statement on PostgreSQL, two on SQLite: the same answer."""
    acc = submit(tiny, GOOD, "alice", settings, publish=None)
    claim = GradeQueue(settings).claim(acc.run_id, "w1")
    assert claim is not None
    assert (claim.submission_id, claim.queue, claim.attempt) == (acc.submission_id, "cpu", 1)
    assert (claim.slug, claim.manifest_hash) == (tiny.slug, tiny.manifest_hash)
    assert claim.assignment_path == str(tiny.root)
    assert (claim.sha256, claim.filename) == (acc.sha256, GOOD.name)


class _Dispatches(list):
    """Records GradeQueue.dispatch calls (each is a transaction under the student's lock)."""

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        real = GradeQueue.dispatch

        def spy(q: GradeQueue, user_id: int, queue: str, publish) -> list[int]:  # type: ignore[no-untyped-def]
            self.append(user_id)
            return real(q, user_id, queue, publish)

        monkeypatch.setattr(GradeQueue, "dispatch", spy)


def test_a_submission_behind_a_full_window_waits_without_a_dispatch(
    settings: Settings, tiny, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings.with_(dispatch_per_student=1)
    q, out, calls = GradeQueue(settings), Outbox(), _Dispatches()
    calls.install(monkeypatch)
    first, second, third = (submit(tiny, GOOD, "alice", settings, out) for _ in range(3))
    assert (first.dispatched, second.dispatched, third.dispatched) == (True, False, False)
    assert second.note == third.note == "queued behind this student's earlier submissions"
    assert len(calls) == 1, "the window was seen full under the lock: no second transaction"
    # Whatever empties the window dispatches the next one, oldest first.
    claim = q.claim(first.run_id, "w")
    assert claim is not None and q.finish(claim, REPORT, tiny.manifest_hash, out)
    assert out.runs == [first.run_id, second.run_id]


def test_the_reapers_dispatch_visits_only_students_with_room(
    settings: Settings, tiny, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings.with_(dispatch_per_student=1)
    q, out, calls = GradeQueue(settings), Outbox(), _Dispatches()
    alice = [submit(tiny, GOOD, "alice", settings, publish=None).run_id for _ in range(2)]
    bob = submit(tiny, GOOD, "bob", settings, publish=None).run_id
    calls.install(monkeypatch)
    assert q.dispatch_ready(out) == [alice[0], bob], "longest-waiting first"
    assert q.dispatch_ready(out) == []
    assert len(calls) == 2, "alice's full window and bob's empty queue cost no transaction"
    claim = q.claim(alice[0], "w")
    assert claim is not None and q.finish(claim, REPORT, tiny.manifest_hash)
    assert q.dispatch_ready(out) == [alice[1]]
    assert out.runs == [alice[0], bob, alice[1]]


@pytest.mark.parametrize(
    "kind",
    [
        pytest.param("local", marks=pytest.mark.bwrap),
        pytest.param("docker", marks=pytest.mark.docker),
    ],
)
def test_a_runner_killed_from_outside_is_retried_and_graded_in_full(
    settings: Settings, tiny, kind: str, tmp_path: Path
) -> None:
    """An outside SIGKILL is no verdict: the attempt backs off, the next one grades full, and
    the student's report says nothing of the fault (staff see it on the run)."""
    import json

    from grader.messages import GradeReport as Report
    from grader.sandbox import docker_ready
    from grader.sandbox.local import bwrap_path
    from tests.conftest import require
    from tests.host_faults import act_on_container, kill_local_runner, self_pid
    from worker.runs import sandbox_label

    if kind == "local":
        require(bwrap_path() is not None, "bubblewrap", "apt-get install bubblewrap")
    else:
        require(docker_ready("numpy"), "Docker engine and sandbox images", "dlgrade images build")
    settings = settings.with_(sandbox=kind, retry_backoff=30.0)
    out = Outbox()
    # Right answers, each after 4 s asleep (no CPU: within the 2 s CPU limit, under its 8 s
    # wall backstop): a window wide enough to find the runner on a slow, busy host.
    slower = tmp_path / "slow.py"
    slower.write_text((SUBMISSIONS / "slow.py").read_text().replace("sleep(1.2)", "sleep(4)"))
    acc = submit(tiny, slower, "alice", settings, out)
    outcome: dict[str, str] = {}
    grading = threading.Thread(
        target=lambda: outcome.update(first=execute_run(acc.run_id, settings, out)), daemon=True
    )
    grading.start()
    if kind == "local":
        me = self_pid()  # the grading's sandboxes are this process's descendants
        try:
            struck = kill_local_runner(me, after_s=0.5)
        finally:
            me.close()
    else:
        label = sandbox_label(tiny.slug, acc.run_id, 1, "slow.py")
        struck = act_on_container(label, after_s=0.5, action=["kill", "-s", "KILL"])
    grading.join(120)
    assert struck, "the runner was never found running"
    assert outcome == {"first": "retry"}, "an outside kill is no verdict"
    run = _run(settings, acc.run_id)
    assert (run.status, run.attempt) == (RunStatus.QUEUED.value, 1)
    assert "killed from outside" in run.error
    assert run.not_before is not None and run.not_before > utcnow() + timedelta(seconds=25)
    assert _reports(settings, acc.submission_id) == 0

    with GradeQueue(settings).Session() as s, s.begin():  # the back-off has passed
        s.execute(update(GradeRun).where(GradeRun.id == acc.run_id).values(not_before=utcnow()))
    assert execute_run(acc.run_id, settings, out) == "graded"
    info = submission_status(settings, acc.submission_id)
    assert info is not None
    assert (info["status"], info["attempts"], info["reports"], info["score"]) == (
        "graded",
        2,
        1,
        3.0,  # tiny's two checks, all their points
    )
    seen = json.dumps(Report.from_dict(info["report"]).student_view().to_dict())
    assert "outside" not in seen and "no verdict" not in seen and "attempt" not in seen
    assert "killed from outside" in _run(settings, acc.run_id).error, "staff see the attempts"


def test_a_docker_worker_keeps_a_pool_and_a_local_one_only_when_asked(
    settings: Settings,
) -> None:
    from grader.sandbox import pool
    from grader.sandbox.local_pool import LocalPool
    from worker.grading import close_pool, ensure_pool

    assert pool.installed() is None and pool.installed("local") is None
    for quiet in (settings.with_(sandbox="local"), settings.with_(sandbox="docker", docker_pool=0)):
        ensure_pool(quiet)
        assert pool.installed() is None and pool.installed("local") is None
    try:
        ensure_pool(settings.with_(sandbox="docker", docker_pool=3))
        warm = pool.installed()
        assert warm is not None and warm.size == 3
        ensure_pool(settings.with_(sandbox="docker", docker_pool=3))
        assert pool.installed() is warm  # one per process
        ensure_pool(settings.with_(sandbox="local", local_pool=2))
        local = pool.installed("local")
        assert isinstance(local, LocalPool) and local.size == 2
        assert pool.installed() is warm  # one per kind
    finally:
        close_pool()
    assert pool.installed() is None and pool.installed("local") is None
