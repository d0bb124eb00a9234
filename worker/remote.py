"""``dlgrade submit|status --remote URL --token T``: the portal's JSON API from a terminal.

Standard library only (urllib): the student's machine needs nothing but dlgrade.
The token may come from ``DLGRADE_TOKEN`` instead of ``--token`` (kept out of
``ps`` and shell history). The report printed is the one the API gives this
user (the student view until the course releases the hidden checks), rendered
as ``dlgrade grade`` renders a report.

The token goes to the portal named and nowhere else: a redirect to another
origin (scheme, host and port) is refused, and the command says where it
pointed; a redirect within the portal is followed for a GET only (urllib would
re-send a POST as a GET). Plain ``http://`` is refused except to this machine
(loopback), where nothing crosses a network, unless ``--insecure`` says so.
"""

from __future__ import annotations

import io
import ipaddress
import json
import os
import sys
import time
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlsplit
from urllib.request import HTTPRedirectHandler, Request, build_opener

EXIT_GRADED = 0
EXIT_ERROR = 1  # the grading ended in error (ours or the upload's)
EXIT_FAILED = 2  # the portal could not be reached, or said no for another reason
EXIT_REFUSED = 3  # the same code the local submit uses: a limit or the deadline said no
FINISHED = ("graded", "error")
TIMEOUT_S = 60.0


class RemoteError(Exception):
    """The portal answered with an error (``status``), or did not answer (status 0)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the scheme's default port filled in."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or {"http": 80, "https": 443}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_portal_url(url: str, *, insecure: bool = False) -> None:
    """Refuse (RemoteError) a portal URL the token must not be sent to."""
    scheme, host, _ = origin(url)
    if scheme not in ("http", "https") or not host:
        raise RemoteError(0, f"{url!r} is not a portal address (https://host/...)")
    if scheme == "http" and not is_loopback(host) and not insecure:
        raise RemoteError(
            0,
            f"refusing to send your token over plain http to {host}: use https://, "
            "or --insecure if you know the network is private",
        )


class _SameOrigin(HTTPRedirectHandler):
    """Follows a redirect only within the portal's origin, and only for a GET."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        if origin(newurl) != origin(req.full_url):
            raise RemoteError(
                code,
                f"the portal redirected to another site ({newurl}); not followed, "
                "your token was not sent there",
            )
        if req.get_method() != "GET":
            raise RemoteError(
                code, f"the portal redirected a {req.get_method()} to {newurl}; not followed"
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_OPENER = build_opener(_SameOrigin)


@dataclass(frozen=True)
class Portal:
    url: str  # the portal's root, e.g. https://grader.example.edu
    token: str

    def api(self, path: str) -> str:
        return self.url.rstrip("/") + "/api/v1" + path

    def call(
        self, method: str, path: str, body: bytes | None = None, content_type: str = ""
    ) -> Any:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        request = Request(self.api(path), data=body, method=method, headers=headers)
        try:
            with _OPENER.open(request, timeout=TIMEOUT_S) as response:
                return json.loads(response.read() or b"null")
        except HTTPError as err:
            raw = err.read()
            try:
                message = json.loads(raw).get("error", "") or err.reason
            except (ValueError, AttributeError):
                message = str(err.reason)
            raise RemoteError(err.code, f"{err.code}: {message}") from None
        except (URLError, OSError) as err:
            raise RemoteError(0, f"cannot reach {self.url}: {err}") from None


def multipart(files: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    """A multipart/form-data body with each file under the field ``files``."""
    boundary = "dlgrade-" + uuid.uuid4().hex
    out = io.BytesIO()
    for name, data in files:
        safe = name.replace('"', "_").replace("\r", "_").replace("\n", "_")
        out.write(f"--{boundary}\r\n".encode())
        out.write(f'Content-Disposition: form-data; name="files"; filename="{safe}"\r\n'.encode())
        out.write(b"Content-Type: application/octet-stream\r\n\r\n")
        out.write(data)
        out.write(b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def upload_files(path: Path) -> list[tuple[str, bytes]]:
    """A file as it is; a folder as one .zip of its files (hidden ones left out)."""
    if path.is_file():
        return [(path.name, path.read_bytes())]
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: no such file or folder")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(path.rglob("*")):
            rel = f.relative_to(path)
            if f.is_file() and not f.is_symlink() and not any(p.startswith(".") for p in rel.parts):
                zf.write(f, rel.as_posix())
    return [(f"{path.name or 'submission'}.zip", buf.getvalue())]


def find_course(portal: Portal, slug: str, course: int | None) -> int:
    """The course offering ``slug`` among the user's courses (``--course`` when several do)."""
    if course is not None:
        return course
    offering = [
        c["id"]
        for c in portal.call("GET", "/courses")["courses"]
        if any(
            a["slug"] == slug
            for a in portal.call("GET", f"/courses/{c['id']}/assignments")["assignments"]
        )
    ]
    if not offering:
        raise RemoteError(404, f"none of your courses has an assignment {slug!r}")
    if len(offering) > 1:
        raise RemoteError(400, f"{slug!r} is in courses {offering}; say which with --course")
    return offering[0]


def render_report(body: dict[str, Any]) -> str:
    """The report as the API gives it to this user, in ``dlgrade grade``'s words."""
    from grader.messages import GradeReport
    from grader.report import render_text

    if body.get("report") is None:
        return f"submission {body['id']}: {body['status']} (no report)"
    text = render_text(GradeReport.from_dict(body["report"]))
    if body.get("final_score") is not None and body["final_score"] != body.get("score"):
        text += f"\n  final score: {body['final_score']:g} (late penalty or a staff override)"
    return text


def wait_for(portal: Portal, submission_id: int, poll_s: float = 1.0) -> dict[str, Any]:
    """Poll until graded or error, telling progress on stderr as it changes."""
    told = ""
    delay = poll_s
    while True:
        status = portal.call("GET", f"/submissions/{submission_id}")
        if status["status"] in FINISHED:
            return status
        words = status["status"]
        if status.get("position"):
            words += f" (position {status['position']})"
        if status.get("progress"):
            words += f": {status['progress']}"
        if words != told:
            print(words, file=sys.stderr, flush=True)
            told = words
        time.sleep(delay)
        delay = min(5.0, delay * 1.25)  # a long grading is not polled every second


def _portal(args: Any) -> Portal:
    token = args.token or os.environ.get("DLGRADE_TOKEN", "")
    if not token:
        raise RemoteError(401, "give --token or set DLGRADE_TOKEN (make one at /account/tokens)")
    check_portal_url(args.remote, insecure=getattr(args, "insecure", False))
    return Portal(args.remote, token)


def _exit_for(err: RemoteError) -> int:
    return EXIT_REFUSED if err.status in (403, 429) else EXIT_FAILED


def submit_command(args: Any) -> int:
    """``dlgrade submit --remote URL --token T SLUG FILE [--wait] [--course ID]``."""
    try:
        portal = _portal(args)
        course = find_course(portal, args.assignment, args.course)
        body, content_type = multipart(upload_files(Path(args.file)))
        path = f"/courses/{course}/assignments/{quote(args.assignment, safe='')}/submissions"
        made = portal.call("POST", path, body, content_type)
        print(made["id"], flush=True)
        if not args.wait:
            return EXIT_GRADED
        status = wait_for(portal, made["id"])
        report = portal.call("GET", f"/submissions/{made['id']}/report")
    except RemoteError as err:
        print(f"dlgrade: {err}", file=sys.stderr)
        return _exit_for(err)
    except FileNotFoundError as err:
        print(f"dlgrade: {err}", file=sys.stderr)
        return EXIT_FAILED
    print(render_report(report))
    return EXIT_GRADED if status["status"] == "graded" else EXIT_ERROR


def status_command(args: Any) -> int:
    """``dlgrade status --remote URL --token T ID [--json] [--report]``."""
    try:
        portal = _portal(args)
        info = portal.call("GET", f"/submissions/{args.id}")
        report = portal.call("GET", f"/submissions/{args.id}/report") if args.report else None
    except RemoteError as err:
        print(f"dlgrade: {err}", file=sys.stderr)
        return _exit_for(err)
    if args.json:
        if report is not None:
            info["report"] = report.get("report")
        sys.stdout.write(json.dumps(info) + "\n")
        return 0
    score = "" if info["score"] is None else f" {info['score']:g}/{info['max_score']:g}"
    print(f"submission {info['id']}: {info['status']}{score}")
    for key in ("assignment", "filename", "submitted_at", "late", "final_score"):
        print(f"  {key}: {info.get(key)}")
    if info.get("position"):
        print(f"  position: {info['position']}")
    if info.get("progress"):
        print(f"  progress: {info['progress']}")
    if report is not None:
        print(render_report(report))
    return 0
