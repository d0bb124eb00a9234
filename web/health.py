"""How the service is doing: ``/healthz``, ``/readyz`` and ``/metrics`` (Prometheus text).

- ``/healthz``: this process answers (a load balancer's liveness probe); touches nothing.
- ``/readyz``: the database and the broker answer; 503 naming what does not.
- ``/metrics``: what an operator watches before a deadline. The queue's facts are read
  from the database and the broker when Prometheus scrapes, so any portal process
  gives the same answer for every worker on every host:

    dlgrade_queue_depth{queue}                      messages waiting in the broker
    dlgrade_runs{status}                            runs by status (queued waits in the database)
    dlgrade_grading_duration_seconds{assignment}    histogram of finished gradings' times
    dlgrade_verdicts{assignment,status}             reports by their status
    dlgrade_platform_errors                         reports that are platform errors, and runs
                                                    given up
    dlgrade_retries                                 attempts beyond each run's first
    dlgrade_sandbox_start_seconds{environment}      histogram of sandbox start times
                                                    (reports' ``environment.sandbox_start_s``)

  and, kept by each portal process (gunicorn's processes share a folder,
  ``PROMETHEUS_MULTIPROC_DIR``, so a scrape of any of them counts all of them):

    dlgrade_http_request_duration_seconds{route,method,status}

Every scrape reads all finished runs' times: fine for a course's tens of thousands;
a bigger service would keep the histogram in a table of its own.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

from flask import Blueprint, Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from sqlalchemy import func, select, text

from web.database import settings
from worker.db import get_engine
from worker.models import Assignment, GradeReport, GradeRun, RunStatus, Submission

bp = Blueprint("health", __name__)

# Seconds: a numpy homework grades in a few, an MNIST training in minutes.
DURATION_BUCKETS = (1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 3600)
START_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 30)
QUEUES = ("cpu", "gpu")
BROKER_TIMEOUT_S = 3.0

REQUEST_SECONDS = Histogram(
    "dlgrade_http_request_duration_seconds",
    "Time the portal took to answer, per route",
    ["route", "method", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


def _db_ok() -> str | None:
    try:
        with get_engine(settings().database_url).connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as err:
        return f"database: {type(err).__name__}: {str(err).splitlines()[0][:200]}"
    return None


def _queue_depths() -> dict[str, int]:
    """Messages waiting per queue (raises when the broker does not answer)."""
    from worker.app import broker_app

    depths = {}
    with broker_app(settings()).connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_S)
        channel = conn.default_channel
        for queue in QUEUES:
            try:
                depths[queue] = int(channel.queue_declare(queue, passive=True).message_count)
            except Exception:
                depths[queue] = 0  # never declared: nothing was ever sent there
    return depths


def _broker_ok() -> str | None:
    try:
        _queue_depths()
    except Exception as err:
        return f"broker: {type(err).__name__}: {str(err).splitlines()[0][:200]}"
    return None


@bp.route("/healthz")
def healthz() -> Response:
    return Response("ok\n", mimetype="text/plain")


@bp.route("/readyz")
def readyz() -> Response:
    problems = [p for p in (_db_ok(), _broker_ok()) if p]
    body = "\n".join(problems) if problems else "ready"
    return Response(body + "\n", status=503 if problems else 200, mimetype="text/plain")


def _cumulative(values: list[float], buckets: tuple[float, ...]) -> list[tuple[str, float]]:
    out = [(str(float(b)), float(sum(1 for v in values if v <= b))) for b in buckets]
    return [*out, ("+Inf", float(len(values)))]


class QueueCollector:
    """The queue's facts, read from the database and the broker at each scrape."""

    def collect(self) -> Iterator[object]:
        engine = get_engine(settings().database_url)
        depth = GaugeMetricFamily(
            "dlgrade_queue_depth", "Messages waiting in the broker", labels=["queue"]
        )
        try:
            for queue, n in _queue_depths().items():
                depth.add_metric([queue], n)
        except Exception:
            pass  # /readyz says the broker is away; the other figures still come
        yield depth
        with engine.connect() as conn:
            runs = GaugeMetricFamily("dlgrade_runs", "Runs by status", labels=["status"])
            by_status = dict(
                conn.execute(select(GradeRun.status, func.count()).group_by(GradeRun.status)).all()
            )
            for status in RunStatus:
                runs.add_metric([status.value], int(by_status.get(status.value, 0)))
            yield runs

            times: dict[str, list[float]] = {}
            for slug, start, end in conn.execute(
                select(Assignment.slug, GradeRun.started_at, GradeRun.finished_at)
                .join(Submission, Submission.id == GradeRun.submission_id)
                .join(Assignment, Assignment.id == Submission.assignment_id)
                .where(
                    GradeRun.status == RunStatus.DONE.value,
                    GradeRun.started_at.is_not(None),
                    GradeRun.finished_at.is_not(None),
                )
            ):
                times.setdefault(slug, []).append(max(0.0, (end - start).total_seconds()))
            hist = HistogramMetricFamily(
                "dlgrade_grading_duration_seconds",
                "Time from a worker's claim to the stored report, per assignment",
                labels=["assignment"],
            )
            for slug, values in sorted(times.items()):
                hist.add_metric([slug], _cumulative(values, DURATION_BUCKETS), sum(values))
            yield hist

            verdicts = CounterMetricFamily(
                "dlgrade_verdicts", "Reports by status", labels=["assignment", "status"]
            )
            platform_reports = 0
            for slug, status, n in conn.execute(
                select(Assignment.slug, GradeReport.status, func.count())
                .join(Submission, Submission.id == GradeReport.submission_id)
                .join(Assignment, Assignment.id == Submission.assignment_id)
                .group_by(Assignment.slug, GradeReport.status)
            ):
                verdicts.add_metric([slug, status], int(n))
                if status == "platform_error":
                    platform_reports += int(n)
            yield verdicts
            errors = CounterMetricFamily(
                "dlgrade_platform_errors",
                "Platform errors: reports that are one, and runs given up",
                labels=["kind"],
            )
            errors.add_metric(["report"], platform_reports)
            errors.add_metric(["given_up"], int(by_status.get(RunStatus.ERROR.value, 0)))
            yield errors
            retries = conn.scalar(
                select(func.coalesce(func.sum(GradeRun.attempt - 1), 0)).where(GradeRun.attempt > 1)
            )
            yield CounterMetricFamily(
                "dlgrade_retries", "Attempts beyond each run's first", value=int(retries or 0)
            )
            starts: dict[str, list[float]] = {}
            for (doc,) in conn.execute(
                select(GradeReport.report).order_by(GradeReport.id.desc()).limit(5000)
            ):
                env = (doc or {}).get("environment") or {}
                start = env.get("sandbox_start_s")
                if isinstance(start, int | float):
                    starts.setdefault(str(env.get("sandbox", "unknown")), []).append(float(start))
            shist = HistogramMetricFamily(
                "dlgrade_sandbox_start_seconds",
                "Time from asking for a sandbox to its runner's first answer (last 5000 reports)",
                labels=["sandbox"],
            )
            for name, values in sorted(starts.items()):
                shist.add_metric([name], _cumulative(values, START_BUCKETS), sum(values))
            yield shist


@bp.route("/metrics")
def metrics() -> Response:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(REQUEST_SECONDS)
    registry.register(QueueCollector())
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)

    @app.before_request
    def _started() -> None:
        g.dlgrade_started = time.perf_counter()

    @app.after_request
    def _observed(response: Response) -> Response:
        started = g.get("dlgrade_started")
        if started is not None:
            # The route's pattern, never the URL: ids would make a series per submission.
            route = request.url_rule.rule if request.url_rule is not None else "unmatched"
            REQUEST_SECONDS.labels(route, request.method, str(response.status_code)).observe(
                time.perf_counter() - started
            )
        return response
