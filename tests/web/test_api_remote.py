"""``dlgrade submit|status --remote``: the real command against a running portal.

The portal is served by werkzeug in a thread on a free port (what ``dlgrade
portal demo`` serves); the command runs as its own process, as a student would
run it; the test grades queued runs in this process with the worker's own
``execute_run`` (``grade_queued``) while the command waits.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select, update
from werkzeug.serving import make_server

from tests.web.conftest import add_graded, grade_queued, report_doc
from tests.web.test_api import HIDDEN, token_for
from tests.worker.conftest import SUBMISSIONS
from web.demo import DemoData
from worker.config import Settings
from worker.db import get_engine
from worker.models import Assignment, GradeRun, RunStatus, Submission, utcnow

DLGRADE = str(Path(sys.executable).parent / "dlgrade")
LIMIT_S = 240  # a guard against a hung command, not a measurement


@pytest.fixture
def portal(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


def _start(token: str, *argv: str) -> subprocess.Popen[str]:
    env = dict(os.environ, DLGRADE_TOKEN=token)
    return subprocess.Popen(
        [DLGRADE, *argv], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _run(token: str, *argv: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DLGRADE_TOKEN=token)
    return subprocess.run(
        [DLGRADE, *argv], env=env, capture_output=True, text=True, timeout=LIMIT_S
    )


def _finish(proc: subprocess.Popen[str], step) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    """Call ``step()`` (what a worker would do) until the command exits."""
    import time

    deadline = time.monotonic() + LIMIT_S
    while proc.poll() is None and time.monotonic() < deadline:
        step()
        time.sleep(0.2)
    out, err = proc.communicate(timeout=30)
    return proc.returncode, out, err


def test_submit_wait_prints_the_id_then_the_report_and_exits_0(
    portal: str, demo: DemoData, web_settings: Settings, sandbox_envs: Path
) -> None:
    token = token_for(web_settings, demo, "student")
    proc = _start(
        token, "submit", "--remote", portal, "worker-tiny", str(SUBMISSIONS / "good.py"), "--wait"
    )
    code, out, err = _finish(proc, lambda: grade_queued(web_settings, sandbox_envs))
    assert code == 0, err
    lines = out.splitlines()
    sub_id = int(lines[0])
    with get_engine(web_settings.database_url).connect() as conn:
        owner = conn.scalar(select(Submission.user_id).where(Submission.id == sub_id))
    assert owner == demo.user_ids["student"]
    assert "worker-tiny: 3 / 3 points (graded)" in out
    # Every check passed, so each function's group is folded to one line that counts them.
    folded = [int(n) for n in re.findall(r"all (\d+) check\(s\) passed", out)]
    assert sum(folded) == 2 and "failing" not in out
    status = _run(token, "status", "--remote", portal, str(sub_id))
    assert status.returncode == 0, status.stderr
    assert status.stdout.startswith(f"submission {sub_id}: graded 3/3")


def test_a_grading_that_ends_in_error_exits_non_zero(
    portal: str, demo: DemoData, web_settings: Settings
) -> None:
    token = token_for(web_settings, demo, "student")
    proc = _start(
        token, "submit", "--remote", portal, "worker-tiny", str(SUBMISSIONS / "good.py"), "--wait"
    )

    def fail_runs() -> None:  # a worker that gave up on it
        with get_engine(web_settings.database_url).begin() as conn:
            conn.execute(
                update(GradeRun)
                .where(GradeRun.status == RunStatus.QUEUED.value)
                .values(status=RunStatus.ERROR.value, error="assignment broken")
            )

    code, out, err = _finish(proc, fail_runs)
    assert code == 1, (out, err)
    assert "error (no report)" in out


def test_submit_without_wait_prints_only_the_id(
    portal: str, demo: DemoData, web_settings: Settings
) -> None:
    token = token_for(web_settings, demo, "student")
    done = _run(token, "submit", "--remote", portal, "worker-tiny", str(SUBMISSIONS / "good.py"))
    assert done.returncode == 0, done.stderr
    sub_id = int(done.stdout.strip())
    status = _run(token, "status", "--remote", portal, "--json", str(sub_id))
    assert '"status": "queued"' in status.stdout and '"position": 1' in status.stdout


def test_status_report_is_the_student_view_until_release(
    portal: str, demo: DemoData, web_settings: Settings
) -> None:
    tiny = demo.assignments["worker-tiny"]
    sub = add_graded(web_settings, tiny, demo.user_ids["student"], report_doc(HIDDEN))
    with get_engine(web_settings.database_url).begin() as conn:
        conn.execute(
            update(Assignment)
            .where(Assignment.id == tiny)
            .values(hidden_release=utcnow() + timedelta(days=1))
        )
    token = token_for(web_settings, demo, "student")
    shown = _run(token, "status", "--remote", portal, "--report", str(sub))
    assert shown.returncode == 0, shown.stderr
    # The visible check that passed is folded and counted; the hidden one shows only its points.
    assert "all 1 check(s) passed" in shown.stdout and "(hidden)" in shown.stdout
    assert "secret_edge_case" not in shown.stdout and "123.456" not in shown.stdout
    # Another student's id is not found, exactly as on the page.
    other = token_for(web_settings, demo, "other")
    refused = _run(other, "status", "--remote", portal, str(sub))
    assert refused.returncode == 2 and "404" in refused.stderr


def test_a_wrong_token_or_a_refusal_says_why(
    portal: str, demo: DemoData, web_settings: Settings
) -> None:
    good = str(SUBMISSIONS / "good.py")
    wrong = _run("dlg_nope", "submit", "--remote", portal, "worker-tiny", good)
    assert wrong.returncode == 2 and "401" in wrong.stderr
    token = token_for(web_settings, demo, "student")
    missing = _run(token, "submit", "--remote", portal, "no-such-assignment", good)
    assert missing.returncode == 2 and "no-such-assignment" in missing.stderr
    with get_engine(web_settings.database_url).begin() as conn:
        conn.execute(
            update(Assignment)
            .where(Assignment.id == demo.assignments["worker-tiny"])
            .values(due=utcnow() - timedelta(days=1), accept_late=False)
        )
    late = _run(token, "submit", "--remote", portal, "worker-tiny", good)
    assert late.returncode == 3 and "late submissions are not accepted" in late.stderr


class _Recorder(threading.Thread):
    """An HTTP server on loopback that answers every request with ``answer(path)`` and
    keeps each request's (method, path, Authorization header)."""

    def __init__(self, answer) -> None:  # type: ignore[no-untyped-def]
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        super().__init__(daemon=True)
        self.seen: list[tuple[str, str, str]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                recorder.seen.append(
                    (self.command, self.path, self.headers.get("Authorization", ""))
                )
                code, headers, body = answer(self.path)
                self.send_response(code)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _any  # noqa: N815  (http.server's names)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def run(self) -> None:
        self.server.serve_forever()


@pytest.fixture
def elsewhere() -> Iterator[_Recorder]:
    """Another origin, which records whatever reaches it."""
    server = _Recorder(lambda path: (200, {"Content-Type": "application/json"}, b"{}"))
    server.start()
    yield server
    server.server.shutdown()


@pytest.mark.parametrize("code", [301, 302, 307, 308])
def test_a_redirect_to_another_origin_is_refused_and_the_token_stays_home(
    elsewhere: _Recorder, tmp_path: Path, code: int
) -> None:
    portal = _Recorder(lambda path: (code, {"Location": elsewhere.url + path}, b""))
    portal.start()
    try:
        status = _run("tok-secret", "status", "--remote", portal.url, "5")
        hand_in = _run(
            "tok-secret", "submit", "--remote", portal.url, "worker-tiny",
            str(SUBMISSIONS / "good.py"), "--course", "1",
        )  # fmt: skip
    finally:
        portal.server.shutdown()
    for done in (status, hand_in):
        assert done.returncode == 2, done.stderr
        assert "redirected to another site" in done.stderr
        assert "token was not sent" in done.stderr
    assert [(m, a) for m, _, a in portal.seen] == [
        ("GET", "Bearer tok-secret"),
        ("POST", "Bearer tok-secret"),
    ]
    assert elsewhere.seen == []  # nothing reached the other origin, with or without the token


def test_a_redirect_within_the_portal_is_followed_for_a_get_with_the_token() -> None:
    import json

    graded = {"id": 5, "status": "graded", "score": 1, "max_score": 1}

    def answer(path: str):  # type: ignore[no-untyped-def]
        if "?" not in path:
            return 302, {"Location": path + "?moved=1"}, b""
        return 200, {"Content-Type": "application/json"}, json.dumps(graded).encode()

    portal = _Recorder(answer)
    portal.start()
    try:
        done = _run("tok-secret", "status", "--remote", portal.url, "5")
    finally:
        portal.server.shutdown()
    assert done.returncode == 0, done.stderr
    assert "submission 5: graded 1/1" in done.stdout
    assert portal.seen == [
        ("GET", "/api/v1/submissions/5", "Bearer tok-secret"),
        ("GET", "/api/v1/submissions/5?moved=1", "Bearer tok-secret"),
    ]


@pytest.mark.parametrize(
    "url", ["http://grader.example.edu", "http://10.0.0.5:8000", "ftp://grader.example.edu"]
)
def test_plain_http_is_refused_except_to_this_machine(url: str) -> None:
    done = _run("tok-secret", "status", "--remote", url, "5")
    assert done.returncode == 2
    assert "refusing to send your token" in done.stderr or "not a portal address" in done.stderr


def test_insecure_lets_plain_http_through_and_loopback_needs_no_word() -> None:
    from worker.remote import RemoteError, check_portal_url

    with pytest.raises(RemoteError, match="plain http"):
        check_portal_url("http://grader.example.edu")
    check_portal_url("http://grader.example.edu", insecure=True)
    check_portal_url("https://grader.example.edu")
    for loopback in ("http://127.0.0.1:8000", "http://127.0.0.2", "http://[::1]:8000",
                     "http://localhost:8000"):  # fmt: skip
        check_portal_url(loopback)
