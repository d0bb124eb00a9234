"""The reaper: a thread in every worker that repairs what dead workers and lost messages leave.

Each pass (every ``reaper_interval`` seconds, jittered so workers do not beat
in step):

1. runs whose lease expired (their worker died or hung): remove that attempt's
   Docker containers (found by their label), then requeue the run, or give it
   up after ``max_attempts``,
2. dispatched runs nobody claimed for ``redispatch_after`` seconds go back to
   the queue (their message may be gone),
3. dispatch every student's ready runs (those backing off after an
   infrastructure failure, those requeued above, those whose submitter could
   not reach the broker),
4. now and then: Docker sandboxes older than any job could be
   (``reap_orphans``) and warm pooled ones whose worker process is gone
   (``reap_pools``), or, for local sandboxes, cgroups of dead workers
   (``reap_cgroups``), and, with the embedded broker, delivered messages.

Every step is a conditional update, so any number of workers may run it at
once.
"""

from __future__ import annotations

import logging
import random
import threading
import time

from worker.config import Settings
from worker.db import is_unavailable
from worker.runs import GradeQueue, Publish

log = logging.getLogger(__name__)

SLOW_EVERY_S = 300.0


def _docker_in_use(settings: Settings) -> bool:
    if settings.sandbox == "local":
        return False
    from grader.sandbox.docker import docker_available

    return docker_available()


def remove_sandboxes(label: str) -> list[str]:
    """Remove the Docker containers of the grading labelled ``label``; return their ids.

    Cold ones carry ``dlgrade.label=label``; one taken from a worker's warm pool
    was started before the grading and carries its name instead.
    """
    from grader.sandbox.docker import LABEL_LABEL
    from grader.sandbox.images import docker_cli
    from grader.sandbox.pool import pooled_name_prefix

    ids: list[str] = []
    for found in (f"label={LABEL_LABEL}={label}", f"name=^{pooled_name_prefix(label)}"):
        done = docker_cli(["ps", "-a", "-q", "--filter", found], timeout=30)
        ids += done.stdout.decode().split() if done.returncode == 0 else []
    if ids:
        docker_cli(["rm", "-f", *ids], timeout=60)
    return ids


def orphan_age_s(settings: Settings) -> float:
    """Older than this, a sandbox outlived every job's hard limit: nobody is grading it."""
    return settings.visibility_timeout


def reap_once(
    settings: Settings, publish: Publish | None, *, slow: bool = False, requeue: bool = True
) -> dict[str, int]:
    """One pass; returns counts of what it did (for logs and tests).

    ``requeue`` False leaves expired leases alone this time (see ``Reaper``).
    """
    grade_queue = GradeQueue(settings)
    counts = dict.fromkeys(
        ("requeued", "given_up", "sandboxes", "redispatched", "dispatched", "orphans"), 0
    )
    docker = _docker_in_use(settings)
    for run in grade_queue.expired() if requeue else []:
        if docker:
            try:
                counts["sandboxes"] += len(remove_sandboxes(run.sandbox_label))
            except Exception as err:
                log.warning("could not remove the sandboxes of run %s: %s", run.run_id, err)
        outcome = grade_queue.requeue_expired(run)
        if outcome is not None:
            counts["requeued" if outcome == "queued" else "given_up"] += 1
            log.warning(
                "run %s: lease of attempt %s expired (%s): %s",
                run.run_id,
                run.attempt,
                run.worker,
                "requeued" if outcome == "queued" else "given up",
            )
    counts["redispatched"] = grade_queue.redispatch_stale()
    if publish is not None:
        counts["dispatched"] = len(grade_queue.dispatch_ready(publish))
    if slow:
        if docker:
            from grader.sandbox.docker import reap_orphans
            from grader.sandbox.pool import reap_pools

            try:
                counts["orphans"] = len(reap_orphans(orphan_age_s(settings)))
                # Warm containers of a worker process on this host that died.
                counts["orphans"] += len(reap_pools())
            except Exception as err:
                log.warning("could not reap orphaned sandboxes: %s", err)
        else:
            # Local sandboxes of a worker that died leave empty cgroups behind.
            from grader.sandbox.cgroups import reap_cgroups

            try:
                counts["orphans"] = len(reap_cgroups(orphan_age_s(settings)))
            except Exception as err:
                log.warning("could not reap orphaned cgroups: %s", err)
        if settings.embedded_broker:
            from worker.broker import purge_delivered

            try:
                purge_delivered(settings.broker_url)
            except Exception as err:
                log.warning("could not purge delivered messages: %s", err)
    return counts


class Reaper(threading.Thread):
    def __init__(self, settings: Settings, publish: Publish | None) -> None:
        super().__init__(name="dlgrade-reaper", daemon=True)
        self.settings = settings
        self.publish = publish
        self._stop_event = threading.Event()

    def run(self) -> None:
        last_slow = 0.0
        interval = self.settings.reaper_interval
        # Leases expire during a database outage although their workers are alive: after
        # reaching the database again, give them one lease to renew before judging them.
        connected_since = time.monotonic()
        while not self._stop_event.wait(interval * (0.75 + random.random() / 2)):
            slow = time.monotonic() - last_slow > SLOW_EVERY_S
            settled = time.monotonic() - connected_since >= self.settings.lease_seconds
            try:
                counts = reap_once(self.settings, self.publish, slow=slow, requeue=settled)
                if slow:
                    last_slow = time.monotonic()
                if any(counts.values()):
                    log.info("reaper: %s", counts)
            except Exception as err:
                if is_unavailable(err):
                    log.warning("reaper: database unavailable: %s", err)
                    connected_since = time.monotonic()
                else:
                    log.exception("reaper pass failed")

    def stop(self) -> None:
        self._stop_event.set()
