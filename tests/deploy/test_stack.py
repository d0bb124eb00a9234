"""The whole stack of docker-compose.yml, built offline and run for real.

One compose project of this test's own (``dlgrade-stack-<pid>``, removed with its
volumes at the end) on a port of its own: it never touches anyone else's
containers. In order, as an operator would meet them:

1. images built (``dlgrade images build --services``: up to date after the first
   time), the database migrated, the stack up, the portal ready behind nginx;
2. the demo course loaded and a token made in the web container; a correct and a
   wrong activations homework submitted with ``dlgrade submit --remote``: both reports;
3. a worker container SIGKILLed in the middle of a slow grading: graded exactly once
   after the container is back (one report, a second attempt);
4. postgres and redis restarted, then ``down`` and ``up``: nothing lost;
5. two worker containers that share no volume with web or each other
   (each keeps to a scratch folder of its own): the submissions reach them through
   the database;
6. 50 idle half-sent requests do not stall a sign-in through the proxy;
7. a backup taken while gradings run, restored into the emptied stack: every
   submission there, every report, the rest graded again; ``dlgrade fsck`` clean;
8. an instructor's uploaded assignment validated and graded by the workers, which
   share no disk with the portal.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import urlencode

import pytest

from grader.config import REPO_ROOT
from tests.conftest import require
from tests.deploy.stack import DLGRADE, LOGIN, Stack, engine_answers, free_port

pytestmark = [pytest.mark.docker, pytest.mark.slow]

SOLUTION = REPO_ROOT / "assignments" / "activations" / "solution" / "activations.py"
MUTANT = REPO_ROOT / "assignments" / "activations" / "mutants" / "tanh_grad_wrong.py"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    require(engine_answers(), "Docker engine", "scripts/start_docker.sh")
    require(shutil.which("docker-compose") is not None, "docker-compose",
            "scripts/bootstrap.sh --test (apt-get install docker-compose)")  # fmt: skip
    built = subprocess.run([*DLGRADE, "images", "build", "--env", "numpy", "--services"],
                           capture_output=True, text=True, timeout=3600,
                           env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})  # fmt: skip
    assert built.returncode == 0, built.stderr[-3000:]
    project = f"dlgrade-stack-{os.getpid()}"
    # Same path inside the workers and on the host (the engine bind-mounts from it).
    scratch = Path(f"/var/tmp/{project}-scratch")
    scratch.mkdir(parents=True, exist_ok=True)
    s = Stack(project, free_port(), scratch, tmp_path_factory.mktemp("stack"))
    try:
        s.up()
        yield s
    finally:
        logs = s.compose("logs", "--tail", "200", check=False, timeout=120)
        (s.workdir / "compose.log").write_text(logs)
        s.compose("down", "-v", "--remove-orphans", check=False, timeout=300)
        shutil.rmtree(scratch, ignore_errors=True)


@pytest.fixture(scope="module")
def logins(stack: Stack) -> dict[str, tuple[str, str]]:
    out = stack.web("portal", "demo-course").stdout
    found = {role: (user, pw) for role, user, pw in LOGIN.findall(out)}
    assert set(found) == {"student", "ta", "instructor"}, out
    again = stack.web("portal", "demo-course").stdout  # idempotent: same course, same people
    found = {role: (user, pw) for role, user, pw in LOGIN.findall(again)}
    return found


@pytest.fixture(scope="module")
def token(stack: Stack, logins: dict) -> str:
    made = stack.web("users", "token", logins["student"][0]).stdout.strip()
    assert made.startswith("dlg_")
    return made


def _files(stack: Stack) -> dict[str, Path]:
    right = stack.workdir / "right" / "activations.py"
    wrong = stack.workdir / "wrong" / "activations.py"
    slow = stack.workdir / "slow" / "activations.py"
    for path in (right, wrong, slow):
        path.parent.mkdir(exist_ok=True)
    solution = SOLUTION.read_text()
    right.write_text(solution)
    wrong.write_text(solution + "\n" + MUTANT.read_text())
    # Slow to load (within the assignment's 20 s load limit): a worker is killed meanwhile.
    slow.write_text("import time\ntime.sleep(12)\n" + solution)
    return {"right": right, "wrong": wrong, "slow": slow}


def test_the_stack_grades_survives_and_keeps_everything(stack: Stack, token: str) -> None:
    files = _files(stack)
    right, out_right = stack.submit(files["right"], token, wait=True)
    wrong, out_wrong = stack.submit(files["wrong"], token, wait=True)
    graded = stack.wait_graded([right, wrong], token)
    assert graded[right]["score"] == graded[right]["max_score"] > 0, out_right
    assert 0 < graded[wrong]["score"] < graded[wrong]["max_score"], out_wrong
    done = stack.cli("status", "--remote", stack.url, "--json", "--report", str(wrong), token=token)
    checks = json.loads(done.stdout)["report"]["checks"]
    failed = {c["name"] for c in checks if c["score"] < c["max_score"] and not c.get("hidden")}
    assert failed and all("tanh" in name for name in failed), failed  # only the mutated one

    # -- a worker SIGKILLed in the middle of a grading ---------------------------------
    (worker,) = stack.containers("worker-cpu")
    slow, _ = stack.submit(files["slow"], token)
    deadline = time.monotonic() + 120
    # Polled in this process: the 12 s the submission sleeps must not go by unnoticed.
    while stack.api_status(slow, token)["status"] != "running":
        assert time.monotonic() < deadline, stack.api_status(slow, token)
        time.sleep(0.2)
    subprocess.run(["docker", "kill", "--signal", "KILL", worker], check=True, capture_output=True)
    stack.compose("start", "worker-cpu")
    after = stack.wait_graded([slow], token)[slow]
    assert after["status"] == "graded" and after["score"] == after["max_score"], after
    reports = stack.web("status", str(slow), "--json").stdout
    info = json.loads(reports)
    assert info["reports"] == 1 and info["attempts"] >= 2, info

    # -- postgres and redis restarted: nothing lost, grading goes on --------------------
    stack.compose("restart", "postgres", "redis")
    stack.wait_ready()
    again, _ = stack.submit(files["right"], token)
    assert stack.wait_graded([again], token)[again]["status"] == "graded"

    # -- down, then up: every submission and report kept -------------------------------
    before = {i: stack.status(i, token) for i in (right, wrong, slow, again)}
    stack.compose("down")
    stack.compose("up", "-d")
    stack.wait_ready()
    for sub_id, was in before.items():
        now = stack.status(sub_id, token)
        assert (now["status"], now["score"]) == (was["status"], was["score"]), (sub_id, now)
    assert "clean" in stack.fsck()


def test_workers_share_nothing_but_the_network(stack: Stack, token: str) -> None:
    stack.compose("up", "-d", "--scale", "worker-cpu=2", "worker-cpu")
    workers = stack.containers("worker-cpu")
    assert len(workers) == 2
    (web,) = stack.containers("web")
    mounts = {}
    for c in [web, *workers]:
        out = subprocess.run(["docker", "inspect", "--format", "{{json .Mounts}}", c],
                             capture_output=True, text=True, check=True).stdout  # fmt: skip
        mounts[c] = json.loads(out) or []
    # The portal's own volume (instructors' assignment uploads); submissions are in the database.
    assert [(m["Type"], m["Destination"]) for m in mounts[web]] == [("volume", "/var/lib/dlgrade")]
    for c in workers:
        kinds = {(m["Type"], m["Destination"]) for m in mounts[c]}
        # The engine's socket, and the sandbox scratch: no volume, nothing of web's.
        assert not {m.get("Name") for m in mounts[web]} & {m.get("Name") for m in mounts[c]}
        assert kinds == {("bind", "/var/run/docker.sock"), ("bind", stack.env["DLGRADE_SCRATCH"])}
    files = _files(stack)
    ids = [stack.submit(files["right" if i % 2 else "wrong"], token)[0] for i in range(6)]
    graded = stack.wait_graded(ids, token)
    assert all(g["status"] == "graded" for g in graded.values()), graded
    by = {json.loads(stack.web("status", str(i), "--json").stdout).get("worker") for i in ids}
    # Both containers graded some (each reads the upload from the database).
    hostnames = {
        subprocess.run(["docker", "inspect", "--format", "{{.Config.Hostname}}", c],
                       capture_output=True, text=True, check=True).stdout.strip()
        for c in workers
    }  # fmt: skip
    graders = {h for h in hostnames if any(w and h in w for w in by)}
    assert graders == hostnames, (by, hostnames)
    stack.compose("up", "-d", "--scale", "worker-cpu=1", "worker-cpu")


def test_half_sent_requests_do_not_stall_a_sign_in(stack: Stack, logins: dict) -> None:
    host, port = "127.0.0.1", int(stack.url.rsplit(":", 1)[1])
    idle = []
    for _ in range(50):
        s = socket.create_connection((host, port), timeout=5)
        s.sendall(b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-"
                  b"urlencoded\r\nContent-Length: 1000\r\n\r\nname=stud")  # fmt: skip
        idle.append(s)
    try:
        jar = CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = opener.open(stack.url + "/login", timeout=8).read().decode()
        field = re.search(r'<input[^>]*name="csrf_token"[^>]*>', page)
        assert field is not None, page[:500]
        csrf = re.search(r'value="([^"]+)"', field.group(0)).group(1)
        name, password = logins["student"]
        form = urlencode({"csrf_token": csrf, "name": name, "password": password}).encode()
        answer = opener.open(stack.url + "/login", data=form, timeout=8)
        assert answer.status == 200 and "/login" not in answer.geturl(), answer.geturl()
        # The half-sent requests were still open all along (nginx holds them, not gunicorn).
        for s in idle:
            s.setblocking(False)
            with pytest.raises(BlockingIOError):
                s.recv(1)
    finally:
        for s in idle:
            s.close()


def test_backup_while_grading_restores_into_an_empty_stack(stack: Stack, token: str) -> None:
    files = _files(stack)
    ids = [stack.submit(files["right" if i % 2 else "wrong"], token)[0] for i in range(3)]
    ids.append(stack.submit(files["slow"], token)[0])  # 12 s at least: graded after the backup
    backups = stack.workdir / "backups"
    backups.mkdir(exist_ok=True)
    mount = f"{backups}:/backup"
    out = stack.compose("run", "--rm", "-v", mount, "web", "backup", "/backup/b1")
    assert "backed up into /backup/b1" in out
    counted = json.loads((backups / "b1" / "manifest.json").read_text())["at_least"]
    assert counted["reports"] < counted["submissions"], counted  # taken while grading
    stack.wait_graded(ids, token)  # the stack went on grading after the snapshot

    stack.compose("down", "-v")  # an empty stack: new volumes
    stack.migrate()
    out = stack.compose("run", "--rm", "-v", mount, "web", "restore", "/backup/b1")
    assert "restored from /backup/b1" in out
    stack.compose("up", "-d")
    stack.wait_ready()
    # Every submission of the backup is there; what was not graded then is graded now.
    restored = stack.wait_graded(ids, token)
    assert all(r["status"] == "graded" for r in restored.values()), restored
    report = stack.fsck()
    assert "clean" in report
    assert int(report.split()[0]) == counted["submissions"]

    # What an operator reads: the metrics through the proxy, and the capacity arithmetic.
    with urllib.request.urlopen(stack.url + "/metrics", timeout=30) as answer:
        metrics = answer.read().decode()
    done_runs = re.search(r'^dlgrade_runs\{status="done"\} (\S+)$', metrics, re.M)
    assert done_runs and float(done_runs.group(1)) == counted["submissions"], metrics[:2000]
    assert re.search(
        r'^dlgrade_sandbox_start_seconds_count\{sandbox="docker"\} [1-9]', metrics, re.M
    )
    assert 'dlgrade_grading_duration_seconds_bucket{assignment="activations",le="+Inf"}' in metrics
    capacity = stack.web("capacity", "--assignment", "activations", "--students", "300").stdout
    assert "activations on the cpu queue" in capacity and "ceil(300 x " in capacity, capacity


def _multipart(field: str, name: str, data: bytes) -> tuple[bytes, str]:
    """A multipart/form-data body of one file field; (body, content type)."""
    boundary = "dlgrade-stack-test-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{name}"\r\n'
            f"Content-Type: application/zip\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def _api(stack: Stack, token: str, path: str, data: bytes | None = None,
         content_type: str = "application/json") -> dict:  # fmt: skip
    request = urllib.request.Request(
        f"{stack.url}/api/v1{path}",
        data=data,
        headers={"Authorization": f"Bearer {token}", "Content-Type": content_type},
        method="GET" if data is None else "POST",
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.loads(answer.read())


def test_an_uploaded_assignment_is_validated_and_graded_by_the_stacks_workers(
    stack: Stack, logins: dict, token: str, tmp_path: Path
) -> None:
    """The workers share no disk with the portal: an instructor's upload reaches them through
    the database (its .zip), and they validate it and grade a student's homework with it."""
    import io
    import zipfile

    from grader.scaffold import new_assignment

    teacher = stack.web("users", "token", logins["instructor"][0], "--scope", "staff")
    teacher_token = teacher.stdout.strip()
    folder = new_assignment("mse-stack", tmp_path)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for f in sorted(folder.rglob("*")):
            if f.is_file():
                zf.write(f, f"mse-stack/{f.relative_to(folder).as_posix()}")
    (course,) = _api(stack, teacher_token, "/courses")["courses"]
    body, kind = _multipart("file", "mse-stack.zip", buf.getvalue())
    upload = _api(stack, teacher_token, f"/courses/{course['id']}/uploads", body, kind)
    deadline = time.monotonic() + 600
    while upload["status"] == "validating":
        assert time.monotonic() < deadline, upload
        time.sleep(2)
        upload = _api(stack, teacher_token, f"/courses/{course['id']}/uploads/{upload['id']}")
    assert upload["status"] == "valid", upload["report"]
    published = _api(stack, teacher_token,
                     f"/courses/{course['id']}/uploads/{upload['id']}/publish", b"{}")  # fmt: skip
    assert published["status"] == "published"

    solution = next((folder / "solution").glob("*.py"))
    done = stack.cli("submit", "--remote", stack.url, "mse-stack", str(solution), "--wait",
                     token=token, check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    sub_id = int(done.stdout.split()[0])
    graded = stack.wait_graded([sub_id], token)[sub_id]
    assert graded["status"] == "graded" and graded["score"] == graded["max_score"] > 0, graded
