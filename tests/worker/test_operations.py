"""What an operator runs: ``dlgrade fsck``, ``backup`` / ``restore`` and ``capacity``.

Against both databases (SQLite and PostgreSQL, ``db_url``); the stack test
(tests/deploy) runs the same commands in the web container of a running stack.
"""

from __future__ import annotations

import hashlib
import statistics
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, insert, select, update

from grader.assignment import load_assignment
from tests.worker.conftest import SUBMISSIONS, TINY, fresh_sqlite
from worker.backup import BackupError, backup, counts, restore
from worker.capacity import explain, measured, parse_window, percentile, workers_needed
from worker.config import Settings, default_broker_url
from worker.db import get_engine
from worker.fsck import fsck, render
from worker.models import GradeRun, RunStatus, Submission, SubmissionBlob, utcnow
from worker.runs import GradeQueue
from worker.storage import load_blob
from worker.submit import submit

GOOD = SUBMISSIONS / "good.py"
REPORT = {"status": "graded", "score": 3.0, "max_score": 3.0, "assignment": "worker-tiny"}


@pytest.fixture
def ops_settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=db_url,
        broker_url=default_broker_url(tmp_path),
        data_dir=tmp_path,
        sandbox="local",
        lease_seconds=30.0,
    )


@pytest.fixture(scope="module")
def tiny():
    return load_assignment(TINY)


def _graded(settings: Settings, tiny, student: str, data: bytes, seconds: float) -> int:
    """A submission of ``data`` graded in ``seconds`` (its run's start set back by that)."""
    upload = settings.data_dir / f"{student}-{hashlib.sha1(data).hexdigest()[:6]}.py"
    upload.write_bytes(data)
    acc = submit(tiny, upload, student, settings, publish=None)
    q = GradeQueue(settings)
    claim = q.claim(acc.run_id, "w1")
    assert claim is not None
    assert q.finish(claim, REPORT, tiny.manifest_hash)
    with q.engine.begin() as conn:
        end = conn.scalar(select(GradeRun.finished_at).where(GradeRun.id == acc.run_id))
        conn.execute(
            update(GradeRun)
            .where(GradeRun.id == acc.run_id)
            .values(started_at=end - timedelta(seconds=seconds))
        )
    return acc.submission_id


def test_fsck_is_clean_then_lists_each_kind_of_fault(ops_settings: Settings, tiny) -> None:
    s = ops_settings
    _graded(s, tiny, "alice", GOOD.read_bytes(), 2.0)
    waiting = submit(tiny, GOOD, "bob", s, publish=None)  # the same bytes: stored once
    result = fsck(get_engine(s.database_url))
    assert result.clean, render(result)
    assert (result.submissions, result.blobs) == (2, 1)
    assert result.runs == {"done": 1, "queued": 1}

    engine = get_engine(s.database_url)
    q = GradeQueue(s)
    running = q.claim(waiting.run_id, "w-dead")
    assert running is not None
    with engine.begin() as conn:
        # a worker that died with no reaper to notice ...
        conn.execute(
            update(GradeRun)
            .where(GradeRun.id == waiting.run_id)
            .values(lease_expires_at=utcnow() - timedelta(minutes=5))
        )
        # ... a stored upload whose bytes changed, and one that belongs to nobody
        sha = conn.scalar(select(Submission.sha256).limit(1))
        conn.execute(update(SubmissionBlob).where(SubmissionBlob.sha256 == sha).values(data=b"x"))
        conn.execute(insert(SubmissionBlob).values(sha256="f" * 64, size=1, data=b"y"))
    problems = fsck(engine).problems
    assert any(f"run {waiting.run_id} is running on w-dead" in p for p in problems), problems
    assert any(f"stored bytes {sha} no longer hash" in p for p in problems), problems
    assert any("stored bytes " + "f" * 64 + " belong to no submission" in p for p in problems)

    with engine.begin() as conn:
        conn.execute(delete(SubmissionBlob))
    problems = fsck(engine).problems
    assert f"submission {waiting.submission_id}: its bytes ({sha}) are not stored" in problems


def test_fsck_command_exits_1_with_the_list(
    ops_settings: Settings, tiny, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    from grader.cli import main

    _graded(ops_settings, tiny, "alice", GOOD.read_bytes(), 1.0)
    monkeypatch.setenv("DLGRADE_DATABASE_URL", ops_settings.database_url)
    monkeypatch.setenv("DLGRADE_DATA_DIR", str(ops_settings.data_dir))
    assert main(["fsck"]) == 0
    assert "clean" in capsys.readouterr().out
    with get_engine(ops_settings.database_url).begin() as conn:
        conn.execute(delete(SubmissionBlob))
    assert main(["fsck"]) == 1
    assert "its bytes" in capsys.readouterr().out


def test_backup_while_a_grading_runs_restores_into_an_empty_database(
    ops_settings: Settings, tiny, tmp_path: Path, db_url: str
) -> None:
    s = ops_settings
    graded = _graded(s, tiny, "alice", GOOD.read_bytes(), 2.0)
    busy = submit(tiny, GOOD, "bob", s, publish=None)
    claim = GradeQueue(s).claim(busy.run_id, "w1")  # running when the backup is taken
    assert claim is not None
    before = counts(get_engine(s.database_url))
    manifest = backup(get_engine(s.database_url), tmp_path / "backup")
    assert manifest["at_least"] == before
    with pytest.raises(BackupError, match="not empty"):
        backup(get_engine(s.database_url), tmp_path / "backup")
    # The grading finishes after the snapshot: not in the backup, which must grade it again.
    assert GradeQueue(s).finish(claim, REPORT, tiny.manifest_hash)

    with pytest.raises(BackupError, match="already holds"):
        restore(get_engine(s.database_url), tmp_path / "backup")

    if db_url.startswith("sqlite"):
        (tmp_path / "new").mkdir()
        target = fresh_sqlite(tmp_path / "new")
    else:
        from tests.worker.conftest import empty_postgres

        empty_postgres(db_url)  # an empty stack's freshly migrated database
        target = db_url
    after = restore(get_engine(target), tmp_path / "backup")
    assert after == before
    engine = get_engine(target)
    with engine.connect() as conn:
        statuses = dict(conn.execute(select(GradeRun.submission_id, GradeRun.status)).all())
        assert statuses == {graded: "done", busy.submission_id: RunStatus.QUEUED.value}
        assert load_blob(conn, busy.sha256) == GOOD.read_bytes()
    assert fsck(engine).clean


def test_capacity_arithmetic_from_measured_times(ops_settings: Settings, tiny) -> None:
    times = [1.0, 2.0, 3.0, 4.0, 10.0]
    for i, t in enumerate(times):
        _graded(ops_settings, tiny, f"s{i}", f"# {i}\n".encode() + GOOD.read_bytes(), t)
    (m,) = measured(get_engine(ops_settings.database_url), "worker-tiny")
    assert m.count == 5 and m.queue == tiny.queue
    assert m.median_s == pytest.approx(statistics.median(times), abs=0.01)
    # numpy's default percentile (linear between closest ranks): 4 + 0.8 * (10 - 4)
    assert m.p95_s == pytest.approx(8.8, abs=0.01)
    lines = explain(m, 300, 1, parse_window("30m"), 2)
    # 300 x 3 s / 1800 s = 0.5 -> 1 process; 300 x 8.8 s / 1800 s = 1.47 -> 2 processes
    assert "ceil(300 x 3.00s / 1800s) = 1 worker process(es) = 1 container(s)" in lines[2]
    assert "ceil(300 x 8.80s / 1800s) = 2 worker process(es) = 1 container(s)" in lines[3]


def test_capacity_helpers() -> None:
    assert parse_window("30m") == 1800 and parse_window("2h") == 7200 and parse_window("90") == 90
    for bad in ("", "0m", "-5m", "3 weeks"):
        with pytest.raises(ValueError):
            parse_window(bad)
    assert percentile([5.0], 95) == 5.0
    assert percentile([0.0, 10.0], 50) == 5.0
    assert workers_needed(1000, 2, 6.0, 1800) == 7  # 12000 s of work in 1800 s: 6.67 -> 7
