"""/healthz, /readyz and /metrics: what probes and Prometheus read."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import insert, select, update

from tests.web.conftest import add_graded
from web.demo import DemoData
from worker.config import Settings
from worker.db import get_engine
from worker.logs import JsonFormatter, about_submission
from worker.models import GradeRun, RunStatus

REPORT = {"status": "graded", "score": 3.0, "max_score": 3.0, "assignment": "worker-tiny"}


def _samples(client: FlaskClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.content_type.startswith("text/plain")
    out = {}
    for family in text_string_to_metric_families(answer.get_data(as_text=True)):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_healthz_and_readyz_answer_without_signing_in(client: FlaskClient) -> None:
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.get_data(as_text=True)


def test_readyz_names_what_is_away(app: Flask, web_settings: Settings) -> None:
    # Both went away after the portal started (it refuses to start without its database).
    app.config["DLGRADE_SETTINGS"] = web_settings.with_(
        database_url="postgresql+psycopg://nobody:x@127.0.0.1:1/none",
        broker_url="redis://127.0.0.1:1/0",
    )
    client = app.test_client()
    assert client.get("/healthz").status_code == 200  # the process is up all the same
    ready = client.get("/readyz")
    body = ready.get_data(as_text=True)
    assert ready.status_code == 503
    assert "database:" in body and "broker:" in body


def test_metrics_count_runs_verdicts_durations_and_requests(
    app: Flask, client: FlaskClient, demo: DemoData, web_settings: Settings
) -> None:
    tiny, uid = demo.assignments["worker-tiny"], demo.user_ids["student"]
    ids = [
        add_graded(web_settings, tiny, uid, {**REPORT, "environment": env}, data=env_data)
        for env, env_data in (
            ({"sandbox": "local", "sandbox_start_s": 0.3}, b"# one\n"),
            ({"sandbox": "local"}, b"# two\n"),
        )
    ]
    engine = get_engine(web_settings.database_url)
    with engine.begin() as conn:
        runs = conn.execute(select(GradeRun.id, GradeRun.finished_at)).all()
        for (run_id, end), took in zip(runs, (1.5, 7.0), strict=True):
            conn.execute(
                update(GradeRun)
                .where(GradeRun.id == run_id)
                .values(started_at=end - timedelta(seconds=took), attempt=2)
            )
        conn.execute(
            insert(GradeRun).values(
                submission_id=ids[0], user_id=uid, queue="cpu", status=RunStatus.QUEUED.value
            )
        )
    client.get("/healthz")
    m = _samples(client)
    assert m[("dlgrade_runs", (("status", "done"),))] == 2
    assert m[("dlgrade_runs", (("status", "queued"),))] == 1
    assert m[("dlgrade_runs", (("status", "running"),))] == 0
    hist = (("assignment", "worker-tiny"),)
    assert m[("dlgrade_grading_duration_seconds_count", hist)] == 2
    assert m[("dlgrade_grading_duration_seconds_sum", hist)] == 8.5
    assert m[("dlgrade_grading_duration_seconds_bucket", (*hist, ("le", "2.0")))] == 1
    assert m[("dlgrade_grading_duration_seconds_bucket", (*hist, ("le", "10.0")))] == 2
    verdict = (("assignment", "worker-tiny"), ("status", "graded"))
    assert m[("dlgrade_verdicts_total", verdict)] == 2
    assert m[("dlgrade_retries_total", ())] == 2  # two runs on their second attempt
    assert m[("dlgrade_platform_errors_total", (("kind", "report"),))] == 0
    assert m[("dlgrade_sandbox_start_seconds_count", (("sandbox", "local"),))] == 1
    assert ("dlgrade_queue_depth", (("queue", "cpu"),)) in m
    route = (("method", "GET"), ("route", "/healthz"), ("status", "200"))
    assert m[("dlgrade_http_request_duration_seconds_count", route)] >= 1


def test_json_log_lines_name_the_submission() -> None:
    record = logging.LogRecord("worker.grading", logging.INFO, __file__, 1, "got %s", ("x",), None)
    plain = json.loads(JsonFormatter().format(record))
    assert plain["msg"] == "got x" and plain["level"] == "info" and "submission_id" not in plain
    with about_submission(42, run_id=7):
        line = json.loads(JsonFormatter().format(record))
    assert line["submission_id"] == 42 and line["run_id"] == 7
    record.submission_id = 9  # given with extra= where the code knows it
    assert json.loads(JsonFormatter().format(record))["submission_id"] == 9
