"""The worker's settings: read from the environment, with embedded defaults for one machine.

Every process that touches the queue (``dlgrade submit``, ``dlgrade worker``,
the portal) reads the same variables, so one ``export`` configures them all:

    DLGRADE_DATABASE_URL   SQLAlchemy URL; default SQLite at <data dir>/dlgrade.sqlite
    DLGRADE_BROKER_URL     Celery broker; default the embedded SQLite broker at
                           <data dir>/broker.sqlite (see ``worker.broker``)
    DLGRADE_DATA_DIR       where submissions are stored (``grader.config.data_dir``)
    DLGRADE_SANDBOX        docker | local; unset: docker when it answers, else local

and the knobs below, whose defaults suit a course of a few hundred students.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

from grader.config import data_dir


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    return float(raw) if raw else default


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


def parse_rate(text: str) -> tuple[int, float]:
    """``"COUNT/SECONDS"`` (e.g. ``"30/3600"``) as (count, seconds); ValueError otherwise."""
    count, sep, seconds = text.partition("/")
    if not sep:
        raise ValueError(f"a rate limit reads COUNT/SECONDS, e.g. 30/3600, not {text!r}")
    n, s = int(count), float(seconds)
    if n < 1 or s <= 0:
        raise ValueError(f"a rate limit needs COUNT >= 1 and SECONDS > 0, not {text!r}")
    return n, s


@dataclass(frozen=True)
class Settings:
    """Everything a worker, a submitter or the reaper needs to agree on."""

    database_url: str
    broker_url: str
    data_dir: Path
    sandbox: str | None = None
    # Admission: a student may have this many submissions not yet graded ...
    max_in_flight: int = 20
    # ... and may submit COUNT times per SECONDS to one assignment (a manifest may override).
    rate_limit: str = "30/3600"
    # Fairness: at most this many runs per student and queue sit in the broker or run;
    # the rest wait in the database and are dispatched as those finish.
    dispatch_per_student: int = 2
    # A claimed run holds a lease that its heartbeat extends; an expired lease means
    # the worker died and the reaper puts the run back in the queue.
    lease_seconds: float = 60.0
    reaper_interval: float = 15.0
    # A dispatched run nobody claimed for this long is dispatched again (its message
    # may have been lost: an embedded broker's worker killed, a Redis host lost).
    redispatch_after: float = 1800.0
    # Claims of one run (worker losses and infrastructure retries together).
    max_attempts: int = 4
    retry_backoff: float = 10.0
    retry_backoff_max: float = 600.0
    # Longer than any job's hard time limit (Redis redelivers unacked messages after it).
    visibility_timeout: float = 7200.0
    # How long a finished grading waits for a database that went away before giving up.
    db_wait: float = 120.0
    # Seconds above an assignment's own limits before Celery's soft / hard limits fire.
    time_limit_margin: float = 60.0
    max_upload_bytes: int = 50 * 1024 * 1024
    # What one student's stored submissions may add up to (every course together): ten
    # full-size uploads. Refused, with the figures, before anything is written.
    student_quota_bytes: int = 500 * 1024 * 1024
    # "on" where GPU workers run (`dlgrade worker --queues gpu` on GPU hosts); "off":
    # GPU assignments that allow it are graded on CPU workers (see ``worker.routing``).
    gpu_queue: str = "off"
    # Docker sandboxes each worker process keeps started and waiting, per kind of
    # sandbox it grades in (environment and limits): a grading takes one instead of
    # starting a container cold (grader/sandbox/pool.py). 0: no pool.
    docker_pool: int = 2
    # The same for a worker grading in the local sandbox (grader/sandbox/local_pool.py):
    # bubblewrap sandboxes with numpy imported, waiting. Off unless asked for: a local
    # worker is most often a laptop or a small course's one host, where each waiting
    # sandbox holds its interpreter's memory (about 30 MB, 300 MB with torch) all day.
    local_pool: int = 0

    @property
    def heartbeat_seconds(self) -> float:
        return max(0.2, self.lease_seconds / 4)

    @property
    def embedded_broker(self) -> bool:
        return self.broker_url.startswith(("dlgrade-sqla+", "sqla+"))

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)


ENV_NAMES = {
    "max_in_flight": "DLGRADE_MAX_IN_FLIGHT",
    "rate_limit": "DLGRADE_RATE_LIMIT",
    "dispatch_per_student": "DLGRADE_DISPATCH_PER_STUDENT",
    "lease_seconds": "DLGRADE_LEASE_SECONDS",
    "reaper_interval": "DLGRADE_REAPER_INTERVAL",
    "redispatch_after": "DLGRADE_REDISPATCH_AFTER",
    "max_attempts": "DLGRADE_MAX_ATTEMPTS",
    "retry_backoff": "DLGRADE_RETRY_BACKOFF",
    "retry_backoff_max": "DLGRADE_RETRY_BACKOFF_MAX",
    "visibility_timeout": "DLGRADE_VISIBILITY_TIMEOUT",
    "db_wait": "DLGRADE_DB_WAIT",
    "time_limit_margin": "DLGRADE_TIME_LIMIT_MARGIN",
    "max_upload_bytes": "DLGRADE_MAX_UPLOAD_BYTES",
    "student_quota_bytes": "DLGRADE_STUDENT_QUOTA_BYTES",
    "gpu_queue": "DLGRADE_GPU_QUEUE",
    "docker_pool": "DLGRADE_DOCKER_POOL",
    "local_pool": "DLGRADE_LOCAL_POOL",
}


def default_database_url(folder: Path) -> str:
    return f"sqlite:///{folder / 'dlgrade.sqlite'}"


def default_broker_url(folder: Path) -> str:
    return f"dlgrade-sqla+sqlite:///{folder / 'broker.sqlite'}"


def load_settings() -> Settings:
    """Settings from the environment (read afresh on every call)."""
    folder = data_dir()
    values: dict[str, object] = {}
    defaults = {f.name: f.default for f in fields(Settings)}
    for name, env in ENV_NAMES.items():
        default = defaults[name]
        if isinstance(default, bool) or not isinstance(default, int | float):
            raw = os.environ.get(env, "").strip()
            values[name] = raw or default
        elif isinstance(default, int):
            values[name] = _int(env, default)
        else:
            values[name] = _float(env, default)
    parse_rate(str(values["rate_limit"]))
    sandbox = os.environ.get("DLGRADE_SANDBOX", "").strip() or None
    return Settings(
        database_url=os.environ.get("DLGRADE_DATABASE_URL", "").strip()
        or default_database_url(folder),
        broker_url=os.environ.get("DLGRADE_BROKER_URL", "").strip() or default_broker_url(folder),
        data_dir=folder,
        sandbox=sandbox,
        **values,  # type: ignore[arg-type]
    )
