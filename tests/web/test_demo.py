"""``dlgrade portal demo`` (make demo): a working portal with a worker, stopped cleanly by Ctrl-C.

The whole path on embedded defaults: sign in with the printed login, hand in
the activations solution over HTTP, the demo's own worker grades it through the
embedded broker, then SIGINT (what Ctrl-C sends) stops everything: the command
exits 0 and none of its processes (web server, worker, pool, sandboxes) is left.
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import json
import os
import re
import signal
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.config import REPO_ROOT
from tests.web.conftest import ACTIVATIONS, CSRF
from tests.worker.conftest import alive, dlgrade_command, wait_until

pytestmark = pytest.mark.slow


def _tree(pid: int) -> dict[int, str]:
    """``pid`` and its descendants, each with its command line (to tell it from a reuse)."""
    seen: dict[int, str] = {}
    todo = [pid]
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        try:
            seen[p] = Path(f"/proc/{p}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        for task in Path(f"/proc/{p}/task").glob("*"):
            with contextlib.suppress(OSError):
                todo += [int(c) for c in (task / "children").read_text().split()]
    return seen


def _still_there(pid: int, cmdline: str) -> bool:
    if not alive(pid):
        return False
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace") == cmdline
    except OSError:
        return False


class Browser:
    """Just enough of a browser: cookies, CSRF tokens, a multipart upload."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=30) as r:
            return r.read().decode()

    def post(self, path: str, body: bytes, content_type: str) -> str:
        request = urllib.request.Request(
            self.base + path, data=body, headers={"Content-Type": content_type}
        )
        with self.opener.open(request, timeout=60) as r:
            return r.geturl()

    def token(self, path: str) -> str:
        found = CSRF.search(self.get(path))
        assert found, path
        return found.group(1)

    def login(self, name: str, password: str) -> None:
        fields = {"name": name, "password": password, "csrf_token": self.token("/login")}
        landed = self.post(
            "/login",
            urllib.parse.urlencode(fields).encode(),
            "application/x-www-form-urlencoded",
        )
        assert landed.endswith("/courses"), landed

    def upload(self, path: str, name: str, data: bytes) -> str:
        boundary = uuid.uuid4().hex
        token = self.token(path)
        head = f"--{boundary}\r\nContent-Disposition: form-data; name="
        body = (
            (
                f'{head}"csrf_token"\r\n\r\n{token}\r\n'
                f'{head}"files"; filename="{name}"\r\nContent-Type: text/x-python\r\n\r\n'
            ).encode()
            + data
            + f"\r\n--{boundary}--\r\n".encode()
        )
        return self.post(path + "/submit", body, f"multipart/form-data; boundary={boundary}")


@pytest.fixture
def demo_dir(sandbox_envs: Path) -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="dlgrade-demo-test-"))
    folder.chmod(0o755)
    (folder / "envs").symlink_to(sandbox_envs)
    yield folder
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


def test_demo_serves_grades_and_stops_cleanly_on_ctrl_c(demo_dir: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DLGRADE_")}
    env.update(DLGRADE_DATA_DIR=str(demo_dir), PYTHONUNBUFFERED="1")
    log = demo_dir / "demo.out"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [*dlgrade_command(), "portal", "demo", "--port", "0", "--sandbox", "local"],
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # our own group, so a failed test can still clean up
        )
    try:
        text = wait_until(
            lambda: "Open http" in log.read_text() and log.read_text(), 120, "the demo's URL"
        )
        url = re.search(r"Open (http://\S+)", text).group(1)
        logins = dict(re.findall(r"user (\w+)\s+password (\S+)", text))
        assert set(logins) == {"student", "ta", "instructor"}
        assert "activations" in text and "database  sqlite:" in text

        browser = Browser(url)
        browser.login("student", logins["student"])
        courses = browser.get("/courses")
        course = re.search(r'href="/courses/(\d+)"', courses).group(1)
        landed = browser.upload(
            f"/courses/{course}/a/activations",
            "activations.py",
            (ACTIVATIONS / "solution" / "activations.py").read_bytes(),
        )
        sub = landed.rsplit("/", 1)[1]

        def graded() -> dict | None:
            status = json.loads(browser.get(f"/submissions/{sub}/status.json"))
            return status if status["status"] in ("graded", "error") else None

        status = wait_until(graded, 240, "the demo's worker to grade", every=0.5)
        assert status["status"] == "graded" and status["score"] == status["max_score"] == 40.5

        processes = _tree(proc.pid)
        assert len(processes) >= 3, processes  # the demo, its worker, the worker's pool
        os.kill(proc.pid, signal.SIGINT)  # what Ctrl-C in its terminal sends
        try:
            status_code = proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGUSR1)  # the demo prints every thread's stack
            time.sleep(2)
            worker_log = demo_dir / "demo-worker.log"
            tail = worker_log.read_text()[-2000:] if worker_log.exists() else ""
            pytest.fail(
                f"the demo did not stop within 60 s of Ctrl-C; its processes: "
                f"{_tree(proc.pid)}\n--- demo output ---\n{log.read_text()[-6000:]}"
                f"\n--- worker log ---\n{tail}"
            )
        assert status_code == 0, log.read_text()[-3000:]
        assert "dlgrade demo: stopped" in log.read_text()
        left = [pid for pid, cmd in processes.items() if _still_there(pid, cmd)]
        assert left == [], [processes[p] for p in left]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
