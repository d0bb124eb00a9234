"""GPU or CPU: where a submission is queued, and how the worker that takes it grades it.

The manifest prefers a queue (``queue = "gpu"``) and may allow a CPU fallback
(``cpu_fallback = true``); ``DLGRADE_GPU_QUEUE`` (on | off, default off) says
whether this deployment has GPU workers. The first tests check the decision
against SQLite and PostgreSQL with a stand-in broker; then runs are graded by
``execute_run`` (what a Celery task does) in the local sandbox, whose torch has
no CUDA: a run from the cpu queue trains a homework that hard-codes ``cuda``
and its report says CUDA was mapped; a run from the gpu queue is graded as on a
GPU worker (nothing mapped, so here it fails). Last, a real ``dlgrade worker
--queues cpu`` with the embedded defaults grades a GPU assignment: a deployment
without GPU workers still grades.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import insert, select, update

from grader.assignment import load_assignment
from grader.sandbox.local import bwrap_path
from tests.conftest import require
from tests.worker.conftest import SUBMISSIONS, TINY, wait_until
from worker.app import publisher
from worker.config import Settings, default_broker_url
from worker.db import get_engine
from worker.grading import execute_run
from worker.models import Assignment, Course, GradeRun, Submission
from worker.status import submission_status
from worker.submit import register_assignment, submit

GOOD = SUBMISSIONS / "good.py"
CUDA_ASSIGNMENT = Path(__file__).resolve().parents[1] / "grader" / "cuda" / "assignment"
NOTE = "CUDA calls were mapped to the CPU: this worker has no GPU"
# Trains a line on "cuda" (see tests/grader/test_cuda_on_cpu.py for every idiom).
HARD_CODES_CUDA = """\
import torch

device = "cuda"
torch.cuda.manual_seed(0)
X = torch.linspace(-1, 1, 128).reshape(-1, 1).to(device)
Y = 3 * X + 0.5
model = torch.nn.Linear(1, 1).to(device)
opt = torch.optim.SGD(model.parameters(), lr=0.5)
history = []
for _ in range(100):
    opt.zero_grad()
    loss = ((model(X) - Y) ** 2).mean()
    loss.backward()
    opt.step()
    history.append(loss.item())
torch.cuda.synchronize()


def losses():
    return [history[0], history[-1]]
"""


class Outbox(list):
    def __call__(self, run_id: int, queue: str, time_limit: float) -> None:
        self.append((run_id, queue, time_limit))


@pytest.fixture(scope="module")
def tiny():
    return load_assignment(TINY)


def _gpu(tiny, fallback: bool):
    # A different manifest hash: a different assignment version, its own row.
    return replace(tiny, queue="gpu", cpu_fallback=fallback, manifest_hash=f"{fallback:d}" * 64)


@pytest.mark.parametrize(
    ("queue", "fallback", "gpu_queue", "expected"),
    [
        ("cpu", False, "off", "cpu"),
        ("cpu", False, "on", "cpu"),
        ("gpu", True, "on", "gpu"),
        ("gpu", True, "off", "cpu"),
        ("gpu", False, "on", "gpu"),
        ("gpu", False, "off", "gpu"),
    ],
)
def test_the_queue_follows_the_manifest_and_whether_gpu_workers_exist(
    settings: Settings, tiny, queue: str, fallback: bool, gpu_queue: str, expected: str
) -> None:
    spec = tiny if queue == "cpu" else _gpu(tiny, fallback)
    out = Outbox()
    acc = submit(spec, GOOD, "alice", settings.with_(gpu_queue=gpu_queue), out)
    assert out == [(acc.run_id, expected, out[0][2])]
    assert acc.queue == expected
    if (queue, fallback, gpu_queue) == ("gpu", False, "off"):
        assert "waits for a GPU worker" in acc.note
    if (queue, fallback, gpu_queue) == ("gpu", True, "off"):
        assert "graded on a CPU worker" in acc.note


def test_no_gpu_workers_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    from worker.config import load_settings

    monkeypatch.delenv("DLGRADE_GPU_QUEUE", raising=False)
    assert load_settings().gpu_queue == "off"
    monkeypatch.setenv("DLGRADE_GPU_QUEUE", "on")
    assert load_settings().gpu_queue == "on"


def test_a_misspelt_setting_refuses_before_anything_is_stored(settings: Settings, tiny) -> None:
    with pytest.raises(ValueError, match="DLGRADE_GPU_QUEUE"):
        submit(_gpu(tiny, True), GOOD, "alice", settings.with_(gpu_queue="yes"), Outbox())
    assert submission_status(settings, 1) is None


def test_the_time_limit_sent_covers_the_slower_device(settings: Settings) -> None:
    spec = load_assignment(CUDA_ASSIGNMENT)
    out = Outbox()
    submit(spec, GOOD, "alice", settings, out)
    # CPU: total 150 + load 120; GPU: total 60 + load 120; in CPU time, which a busy host
    # may stretch up to the wall-clock backstop (4 times); plus the 60 s margin.
    assert out[0][2] == (150 + 120) * 4 + settings.time_limit_margin


@pytest.fixture(scope="module")
def torch_env() -> None:
    """The local sandbox's torch environment, built once in the repository's data dir."""
    require(bwrap_path() is not None, "bubblewrap", "apt-get install bubblewrap")
    from grader.sandbox.local import ensure_env

    saved = os.environ.pop("DLGRADE_DATA_DIR", None)
    try:
        ensure_env("torch")
    finally:
        if saved is not None:
            os.environ["DLGRADE_DATA_DIR"] = saved


def _upload(tmp_path: Path) -> Path:
    path = tmp_path / "fit.py"
    path.write_text(HARD_CODES_CUDA)
    return path


@pytest.mark.parametrize("gpu_queue", ["off", "on"])
def test_the_worker_grades_a_run_as_its_queue_says(
    settings: Settings, torch_env: None, tmp_path: Path, gpu_queue: str, driver_without_a_gpu
) -> None:
    spec = load_assignment(CUDA_ASSIGNMENT)
    settings = settings.with_(gpu_queue=gpu_queue)
    acc = submit(spec, _upload(tmp_path), "alice", settings, publish=None)
    assert execute_run(acc.run_id, settings, None) == "graded"
    info = submission_status(settings, acc.submission_id)
    assert info is not None
    env = info["report"]["environment"]
    if gpu_queue == "off":
        assert acc.queue == "cpu"
        assert env["gpu"] is False and env["cuda"] == NOTE
        assert info["score"] == info["max_score"] == 1.0
    else:
        # Graded as on a GPU worker: nothing mapped, and this machine has no GPU (its
        # driver is a stand-in: without one the grading is refused, tests/grader/
        # test_sandbox_gpu.py).
        assert acc.queue == "gpu"
        assert env["gpu"] is True and "cuda" not in env
        assert info["score"] == 0.0
        assert "CUDA" in info["report"]["checks"][0]["message"]


@pytest.mark.services
@pytest.mark.slow
def test_a_deployment_without_gpu_workers_grades_a_gpu_assignment(
    data_dir: Path, torch_env: None, tmp_path: Path, start_worker
) -> None:
    """Embedded defaults (SQLite, SQLite broker), one `dlgrade worker --queues cpu`, no
    DLGRADE_GPU_QUEUE: the GPU assignment's run goes to cpu, and the worker grades it."""
    from worker.migrate import upgrade

    settings = Settings(
        database_url=f"sqlite:///{data_dir / 'dlgrade.sqlite'}",
        broker_url=default_broker_url(data_dir),
        data_dir=data_dir,
        sandbox="local",
    )
    upgrade(settings.database_url)
    spec = load_assignment(CUDA_ASSIGNMENT)
    acc = submit(spec, _upload(tmp_path), "alice", settings, publisher(settings))
    assert acc.queue == "cpu" and acc.dispatched
    start_worker(settings)

    def graded() -> dict | None:
        info = submission_status(settings, acc.submission_id)
        return info if info and info["status"] in ("graded", "error") else None

    info = wait_until(graded, 120, "the CPU worker to grade the GPU assignment")
    assert (info["status"], info["score"], info["max_score"]) == ("graded", 1.0, 1.0)
    assert info["report"]["environment"]["cuda"] == NOTE


@pytest.mark.parametrize(("gpu_queue", "warned"), [("off", True), ("on", False)])
def test_a_gpu_worker_says_when_nothing_will_be_routed_to_it(
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    gpu_queue: str,
    warned: bool,
) -> None:
    import argparse

    import worker.cli
    import worker.tasks

    monkeypatch.setenv("DLGRADE_GPU_QUEUE", gpu_queue)
    monkeypatch.setenv("DLGRADE_DATABASE_URL", f"sqlite:///{data_dir / 'dlgrade.sqlite'}")
    started: list[list[str]] = []
    monkeypatch.setattr(worker.tasks.app, "worker_main", started.append)
    args = argparse.Namespace(
        queues="gpu", concurrency=1, loglevel="info", name=None, sandbox="local"
    )
    assert worker.cli._worker(args) == 0
    assert started and "gpu" in started[0]
    assert ("DLGRADE_GPU_QUEUE is not 'on'" in capsys.readouterr().err) is warned


# -- the course's queue setting (Assignment.queue) over the manifest's -------------------


def _tiny_prefers(folder: Path, queue: str, fallback: bool) -> Path:
    """A copy of the tiny assignment whose manifest says ``queue`` (and ``cpu_fallback``):
    a regrade reads the manifest from the folder, so it must say so on disk."""
    shutil.copytree(TINY, folder)
    manifest = folder / "assignment.toml"
    lines = f'queue = "{queue}"\n' + ("cpu_fallback = true\n" if fallback else "")
    manifest.write_text(manifest.read_text().replace('queue = "cpu"\n', lines))
    return folder


def _set_queue(settings: Settings, assignment_id: int, queue: str) -> None:
    """What the settings page and the API write (tests/web/test_instructor.py drives them)."""
    with get_engine(settings.database_url).begin() as conn:
        conn.execute(update(Assignment).where(Assignment.id == assignment_id).values(queue=queue))


def _finish(settings: Settings, run_id: int) -> None:
    with get_engine(settings.database_url).begin() as conn:
        conn.execute(update(GradeRun).where(GradeRun.id == run_id).values(status="done"))


def _submitter(settings: Settings, submission_id: int) -> int:
    with get_engine(settings.database_url).connect() as conn:
        return int(conn.scalar(select(Submission.user_id).where(Submission.id == submission_id)))


def _stored_queue(settings: Settings, run_id: int) -> str:
    with get_engine(settings.database_url).connect() as conn:
        return str(conn.scalar(select(GradeRun.queue).where(GradeRun.id == run_id)))


CPU_NOTE = "graded on a CPU worker"
WAITS = "waits for a GPU worker"


# (manifest queue, cpu_fallback, DLGRADE_GPU_QUEUE): {course setting: (queue, note)}, written
# out from worker.routing's table.
SETTING_CASES = [
    (("cpu", False, "on"), {"gpu": ("gpu", ""), "cpu": ("cpu", "")}),
    # A CPU manifest's limits are a CPU's: set to gpu with no GPU workers, it still grades.
    (("cpu", False, "off"), {"gpu": ("cpu", CPU_NOTE), "cpu": ("cpu", "")}),
    (("gpu", True, "on"), {"cpu": ("cpu", ""), "gpu": ("gpu", "")}),
    (("gpu", True, "off"), {"cpu": ("cpu", ""), "gpu": ("cpu", CPU_NOTE)}),
    (("gpu", False, "on"), {"cpu": ("cpu", ""), "gpu": ("gpu", "")}),
    (("gpu", False, "off"), {"cpu": ("cpu", ""), "gpu": ("gpu", WAITS)}),
]


@pytest.mark.parametrize(("prefers", "expected"), SETTING_CASES)
def test_the_course_setting_decides_where_submissions_and_regrades_go(
    settings: Settings,
    tmp_path: Path,
    prefers: tuple[str, bool, str],
    expected: dict[str, tuple[str, str]],
) -> None:
    from web.staff.regrade import request_regrades

    queue, fallback, gpu_queue = prefers
    spec = load_assignment(_tiny_prefers(tmp_path / "tiny", queue, fallback))
    settings = settings.with_(gpu_queue=gpu_queue)
    assignment_id = register_assignment(spec, settings, course_id=None)
    earlier = None
    for setting, (where, note) in expected.items():  # the other queue than the manifest's first
        _set_queue(settings, assignment_id, setting)
        out = Outbox()
        acc = submit(spec, GOOD, "alice", settings, out)
        assert (acc.queue, _stored_queue(settings, acc.run_id)) == (where, where), setting
        assert out == [(acc.run_id, where, out[0][2])]
        assert (note in acc.note) if note else (CPU_NOTE not in acc.note and WAITS not in acc.note)
        _finish(settings, acc.run_id)
        if earlier is not None:
            # A submission made under the other setting is regraded where this one says.
            by = _submitter(settings, earlier)  # as staff would: any user will do here
            again = request_regrades(settings, None, [earlier], requested_by=by)
            (run_id,) = again.run_ids
            assert _stored_queue(settings, run_id) == where, setting
            assert (note in again.note) if note else (CPU_NOTE not in again.note)
        earlier = acc.submission_id


def test_a_row_starts_with_the_manifests_queue_and_a_new_version_keeps_the_courses(
    settings: Settings, tmp_path: Path
) -> None:
    spec = load_assignment(_tiny_prefers(tmp_path / "tiny", "gpu", True))
    with get_engine(settings.database_url).begin() as conn:
        course_id = conn.scalar(insert(Course).values(slug="dl", title="DL").returning(Course.id))
    first = register_assignment(spec, settings, course_id)
    with get_engine(settings.database_url).connect() as conn:
        assert conn.scalar(select(Assignment.queue).where(Assignment.id == first)) == "gpu"
    _set_queue(settings, first, "cpu")  # the course's choice
    edited = replace(spec, manifest_hash="e" * 64)  # the checks edited: a new version
    second = register_assignment(edited, settings, course_id)
    assert second != first
    with get_engine(settings.database_url).connect() as conn:
        assert conn.scalar(select(Assignment.queue).where(Assignment.id == second)) == "cpu"
    # Outside a course (the command line), a version takes its manifest's.
    cli = replace(spec, slug="tiny-cli", manifest_hash="c" * 64)
    elsewhere = register_assignment(cli, settings, None)
    with get_engine(settings.database_url).connect() as conn:
        assert conn.scalar(select(Assignment.queue).where(Assignment.id == elsewhere)) == "gpu"
