"""A compose project of docker-compose.yml brought up for real, driven as an operator would.

Used by tests/deploy/test_stack.py and bench/bench_stack.py. Each project has a
name and a port of its own, so it never touches anyone else's containers.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from grader.config import REPO_ROOT

DLGRADE = [sys.executable, "-m", "grader.cli"]
LOGIN = re.compile(r"^\s+(\w+)\s+user (\S+)\s+password (\S+)$", re.M)
READY_S = 300
COMPOSE_FILE = str(REPO_ROOT / "docker-compose.yml")


def engine_answers() -> bool:
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stack:
    def __init__(self, project: str, port: int, scratch: Path, workdir: Path) -> None:
        self.project = project
        self.url = f"http://127.0.0.1:{port}"
        self.workdir = workdir
        self.env = {
            **os.environ,
            "DLGRADE_DB_PASSWORD": secrets.token_urlsafe(16),
            "DLGRADE_SECRET_KEY": secrets.token_urlsafe(32),
            "DLGRADE_HTTP_BIND": "127.0.0.1",
            "DLGRADE_HTTP_PORT": str(port),
            "DLGRADE_SCRATCH": str(scratch),
            "DLGRADE_WORKER_CONCURRENCY": "1",
            "DLGRADE_WEB_WORKERS": "2",
            # A killed worker's run is back in the queue within seconds, not a minute.
            "DLGRADE_LEASE_SECONDS": "8",
            "DLGRADE_REAPER_INTERVAL": "3",
        }

    def compose(self, *args: str, check: bool = True, timeout: float = 600) -> str:
        cmd = ["docker-compose", "-p", self.project, "-f", str(REPO_ROOT / "docker-compose.yml"),
               *args]  # fmt: skip
        done = subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=timeout)
        if check and done.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed ({done.returncode}):\n"
                                 f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")  # fmt: skip
        return done.stdout

    def web(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = ["docker-compose", "-p", self.project, "-f", str(REPO_ROOT / "docker-compose.yml"),
               "exec", "-T", "web", "dlgrade", *args]  # fmt: skip
        done = subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=600)
        if check and done.returncode != 0:
            raise AssertionError(f"dlgrade {' '.join(args)} in web failed ({done.returncode}):\n"
                                 f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")  # fmt: skip
        return done

    def migrate(self) -> None:
        """Storage first, then the schema (``migrate`` retried until the database answers)."""
        self.compose("up", "-d", "postgres", "redis")
        for _ in range(60):
            done = subprocess.run(
                ["docker-compose", "-p", self.project, "-f",
                 str(REPO_ROOT / "docker-compose.yml"), "run", "--rm", "migrate"],
                env=self.env, capture_output=True, text=True, timeout=180,
            )  # fmt: skip
            if done.returncode == 0:
                return
            time.sleep(2)
        raise AssertionError(f"migrate never succeeded: {done.stderr[-2000:]}")

    def up(self) -> None:
        """As README's Deploy section does it: storage, the schema, then the rest."""
        self.migrate()
        self.compose("up", "-d")
        self.wait_ready()

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_S
        last = ""
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/readyz", timeout=5) as answer:
                    if answer.status == 200:
                        return
            except OSError as err:
                last = str(err)
            time.sleep(1)
        raise AssertionError(f"the portal was not ready in {READY_S}s: {last}\n"
                             + self.compose("logs", "--tail", "40", check=False))  # fmt: skip

    def containers(self, service: str) -> list[str]:
        return self.compose("ps", "-q", service).split()

    def cli(self, *args: str, token: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "DLGRADE_TOKEN": token}
        done = subprocess.run([*DLGRADE, *args], env=env, capture_output=True, text=True,
                              timeout=600, cwd=self.workdir)  # fmt: skip
        if check and done.returncode not in (0,):
            raise AssertionError(f"dlgrade {' '.join(args)}: {done.returncode}\n"
                                 f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}")  # fmt: skip
        return done

    def submit(self, path: Path, token: str, *, wait: bool = False) -> tuple[int, str]:
        args = ["submit", "--remote", self.url, "activations", str(path)]
        done = self.cli(*args, *(["--wait"] if wait else []), token=token, check=False)
        assert done.returncode in (0, 1), done.stderr[-2000:]
        return int(done.stdout.split()[0]), done.stdout

    def api_status(self, sub_id: int, token: str) -> dict:
        """The submission's status from the API, in this process (no CLI start to wait for)."""
        request = urllib.request.Request(
            f"{self.url}/api/v1/submissions/{sub_id}", headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read())

    def status(self, sub_id: int, token: str) -> dict:
        done = self.cli("status", "--remote", self.url, "--json", str(sub_id), token=token)
        return json.loads(done.stdout)

    def wait_graded(self, ids: list[int], token: str, timeout: float = 600) -> dict[int, dict]:
        deadline = time.monotonic() + timeout
        while True:
            found = {i: self.status(i, token) for i in ids}
            if all(s["status"] in ("graded", "error") for s in found.values()):
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"not graded in {timeout}s: {found}")
            time.sleep(2)

    def fsck(self) -> str:
        done = self.web("fsck", check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout


def web_python(stack: Stack, code: str, timeout: float = 3600) -> str:
    """Run ``code`` with the web container's interpreter (dlgrade importable); its stdout."""
    cmd = ["docker-compose", "-p", stack.project, "-f", COMPOSE_FILE,
           "exec", "-T", "web", "python3", "-"]  # fmt: skip
    done = subprocess.run(cmd, input=code, env=stack.env, capture_output=True, text=True,
                          timeout=timeout)  # fmt: skip
    if done.returncode != 0:
        raise AssertionError(f"python in web failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    return done.stdout


def as_json(text: str) -> dict:
    return json.loads(text.strip().splitlines()[-1])
