"""``dlgrade submit --remote --wait`` against the portal as it is deployed: gunicorn serving
``web.wsgi:app`` and a ``dlgrade worker`` grading through the embedded broker, each its own
process, configured only from the environment (DLGRADE_*), as in production."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from grader.config import REPO_ROOT
from tests.web.test_api import token_for
from tests.worker.conftest import (  # noqa: F401  (start_worker is a fixture)
    SUBMISSIONS,
    start_worker,
    wait_until,
    worker_env,
)
from web.demo import DemoData
from worker.config import Settings

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent


@pytest.fixture
def gunicorn(web_settings: Settings, demo: DemoData, tmp_path: Path) -> Iterator[str]:
    log = tmp_path / "gunicorn.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(BIN / "gunicorn"), "--workers", "2", "--bind", "127.0.0.1:0", "web.wsgi:app"],
            cwd=REPO_ROOT,
            env=worker_env(web_settings),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        text = wait_until(
            lambda: "Booting worker" in log.read_text() and log.read_text(), 60, "gunicorn"
        )
        yield re.search(r"Listening at: (http://\S+)", text).group(1)
    finally:
        proc.terminate()  # gunicorn's graceful stop; it reaps its own workers
        proc.wait(timeout=60)


def test_remote_submit_is_graded_by_a_real_worker_behind_gunicorn(
    gunicorn: str,
    web_settings: Settings,
    demo: DemoData,
    sandbox_envs: Path,
    start_worker: Callable[..., object],  # noqa: F811
) -> None:
    (web_settings.data_dir / "envs").symlink_to(sandbox_envs)  # the local sandbox's numpy
    start_worker(web_settings)
    token = token_for(web_settings, demo, "student")
    env = dict(os.environ, DLGRADE_TOKEN=token)
    done = subprocess.run(
        [str(BIN / "dlgrade"), "submit", "--remote", gunicorn, "worker-tiny",
         str(SUBMISSIONS / "good.py"), "--wait"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, (done.stdout, done.stderr)
    sub_id = int(done.stdout.splitlines()[0])
    assert "worker-tiny: 3 / 3 points (graded)" in done.stdout
    status = subprocess.run(
        [str(BIN / "dlgrade"), "status", "--remote", gunicorn, str(sub_id)],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert status.stdout.startswith(f"submission {sub_id}: graded 3/3"), status.stderr
