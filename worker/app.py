"""The Celery application: how messages are sent, acknowledged and redelivered.

Celery's settings here are the at-least-once half of the design; the database
(``worker.runs``) is the exactly-once half.

- JSON only, in and out: a message is ``grade(run_id)`` and nothing else.
- ``acks_late`` with prefetch 1: a message is acknowledged after its grading,
  and a worker holds at most one it has not started. If the pool process dies
  mid-grading (killed, out of memory, hard time limit) the message is rejected
  and requeued (``task_reject_on_worker_lost``); redeliveries are bounded by the
  run's ``attempt`` count in the database, not by the broker.
- Redis' visibility timeout (after which an unacknowledged message is
  delivered again) is longer than any job; a dead worker's run does not wait
  for it: its lease expires and the reaper requeues it.
- Per-message soft and hard time limits above the assignment's own limits;
  the hard one kills the pool process, and with it the sandbox.
"""

from __future__ import annotations

import logging

from celery import Celery, signals
from kombu import Queue

import worker.broker  # noqa: F401  (registers the embedded transport's URL scheme)
from worker.config import Settings, load_settings
from worker.logs import json_wanted

log = logging.getLogger(__name__)


def _json_logs(loglevel: int | str = logging.INFO, **_: object) -> None:
    from worker.logs import configure

    configure(loglevel or logging.INFO)


# With DLGRADE_LOG_FORMAT=json a worker logs JSON lines. Connected only then: any receiver
# of this signal stops Celery from configuring its own logging.
if json_wanted():
    signals.setup_logging.connect(_json_logs, weak=False)

TASK_NAME = "dlgrade.grade"
QUEUES = ("cpu", "gpu")
# Above the soft limit: time for the engine to tear the sandbox down after it fires.
HARD_LIMIT_EXTRA_S = 30.0


def transport_options(settings: Settings) -> dict[str, object]:
    if settings.broker_url.startswith(("redis://", "rediss://", "redis+socket://")):
        return {"visibility_timeout": settings.visibility_timeout}
    return {}


def make_app(settings: Settings) -> Celery:
    app = Celery("dlgrade", broker=settings.broker_url)
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        event_serializer="json",
        task_ignore_result=True,
        result_backend=None,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        worker_prefetch_multiplier=1,
        task_default_queue="cpu",
        task_queues=[Queue(name) for name in QUEUES],
        task_create_missing_queues=True,
        # A global ceiling; each message carries its assignment's own limits.
        task_time_limit=max(60.0, settings.visibility_timeout - 60),
        broker_transport_options=transport_options(settings),
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        broker_pool_limit=4,
        worker_send_task_events=False,
        worker_hijack_root_logger=True,
        worker_redirect_stdouts=False,
        # Our tasks survive a broker restart on their own (the database has the truth).
        worker_cancel_long_running_tasks_on_connection_loss=False,
        enable_utc=True,
    )
    return app


_publishers: dict[str, Celery] = {}


def broker_app(settings: Settings) -> Celery:
    """The process's Celery app for ``settings``' broker (made once per broker URL)."""
    app = _publishers.get(settings.broker_url)
    if app is None:
        app = _publishers[settings.broker_url] = make_app(settings)
    return app


def publisher(settings: Settings):  # type: ignore[no-untyped-def]
    """A ``Publish`` for ``worker.runs``: one grade message for a run, with its time limits."""
    app = broker_app(settings)

    # Redis hands an unacknowledged message to another worker after the visibility
    # timeout: a job allowed to run longer would be graded twice at once.
    ceiling = settings.visibility_timeout - 60

    def publish(run_id: int, queue: str, soft_time_limit: float) -> None:
        hard = soft_time_limit + HARD_LIMIT_EXTRA_S
        if hard > ceiling:
            log.warning(
                "run %s may take %.0fs, beyond DLGRADE_VISIBILITY_TIMEOUT; capped at %.0fs",
                run_id,
                hard,
                ceiling,
            )
            hard = ceiling
            soft_time_limit = min(soft_time_limit, hard - HARD_LIMIT_EXTRA_S)
        app.send_task(
            TASK_NAME,
            args=[run_id],
            queue=queue,
            soft_time_limit=soft_time_limit,
            time_limit=hard,
            retry=True,
            retry_policy={"max_retries": 3, "interval_start": 0.2, "interval_step": 0.5},
        )

    return publish


def validation_sender(settings: Settings):  # type: ignore[no-untyped-def]
    """How the portal sends a validation job (``worker.validation``): the upload's id, on the
    queue, with the job's own time limits."""
    from worker.validation import VALIDATE_TASK

    app = _publishers.get(settings.broker_url)
    if app is None:
        app = _publishers[settings.broker_url] = make_app(settings)
    ceiling = settings.visibility_timeout - 60

    def send(upload_id: int, queue: str, soft_time_limit: float) -> None:
        hard = min(soft_time_limit + HARD_LIMIT_EXTRA_S, ceiling)
        app.send_task(
            VALIDATE_TASK,
            args=[upload_id],
            queue=queue,
            soft_time_limit=min(soft_time_limit, hard - HARD_LIMIT_EXTRA_S),
            time_limit=hard,
            retry=True,
            retry_policy={"max_retries": 3, "interval_start": 0.2, "interval_step": 0.5},
        )

    return send


# The app a worker process runs, configured from its environment.
app = make_app(load_settings())
