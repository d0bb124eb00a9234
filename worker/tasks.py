"""The Celery tasks (a run id in, an outcome out; an upload id in, its validation out) and
the reaper's place in a worker.

The task takes the run's id only: everything else is read from the database,
so a message carries no data a student could have shaped and nothing that can
go stale. A database outage longer than ``execute_run`` waits for is retried
through the broker with a growing countdown; nothing about the run changed, so
a later delivery simply claims it.
"""

from __future__ import annotations

import logging

from celery.signals import worker_process_shutdown, worker_ready, worker_shutdown

from worker.app import TASK_NAME, app, publisher
from worker.config import load_settings
from worker.db import DatabaseUnavailable
from worker.grading import close_pool, execute_run
from worker.reaper import Reaper
from worker.validation import VALIDATE_TASK
from worker.validation import validate_upload as run_validation

log = logging.getLogger(__name__)

DB_RETRIES = 20
DB_RETRY_MAX_S = 60


@app.task(name=TASK_NAME, bind=True)
def grade(self, run_id: int) -> str:  # type: ignore[no-untyped-def]
    settings = load_settings()
    try:
        return execute_run(int(run_id), settings, publisher(settings))
    except DatabaseUnavailable as err:
        countdown = min(DB_RETRY_MAX_S, 2 ** (self.request.retries + 1))
        log.warning("run %s: database unavailable, retrying in %ss: %s", run_id, countdown, err)
        raise self.retry(exc=err, countdown=countdown, max_retries=DB_RETRIES) from err


@app.task(name=VALIDATE_TASK, bind=True)
def validate_upload(self, upload_id: int) -> str:  # type: ignore[no-untyped-def]
    """An uploaded assignment folder validated here, never in the portal (worker.validation)."""
    settings = load_settings()
    try:
        return run_validation(settings, int(upload_id))
    except DatabaseUnavailable as err:
        countdown = min(DB_RETRY_MAX_S, 2 ** (self.request.retries + 1))
        raise self.retry(exc=err, countdown=countdown, max_retries=DB_RETRIES) from err


_reaper: Reaper | None = None


@worker_ready.connect
def _start_reaper(**_: object) -> None:
    global _reaper
    settings = load_settings()
    _reaper = Reaper(settings, publisher(settings))
    _reaper.start()


@worker_shutdown.connect
def _stop_reaper(**_: object) -> None:
    if _reaper is not None:
        _reaper.stop()


@worker_process_shutdown.connect
def _close_pool(**_: object) -> None:
    # The pool's waiting containers would also go by themselves when this process's end
    # of their input closes; removing them here does not wait on that.
    close_pool()
