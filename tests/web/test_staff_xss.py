"""Student-controlled text never becomes markup on a staff page.

Every text a student controls is planted with script-tag and
attribute-injection payloads: their user name, the uploaded file's name, the
names and contents of files inside a zip, what their code printed (also
during hidden checks), the messages of checks, values in the environment. Each
staff page is then parsed as a browser would: no ``<script>`` element (but the
site's own static files), no
``on*`` attribute and no ``javascript:`` URL may appear anywhere, and each
payload must still be there as visible text (escaped, not dropped).
"""

from __future__ import annotations

import io
import re
import zipfile
from html.parser import HTMLParser

import pytest
from flask.testing import FlaskClient

from grader.messages import CheckResult, CheckStatus, GradeReport, ReportStatus
from tests.web.conftest import PASSWORD, add_graded, cheap_hash, csrf_token, login
from web.demo import DemoData, add_user
from worker.config import Settings

SLUG = "activations"
NAME = "<script>alert('name')</script>"
FILE = "\"><img src=x onerror=alert('file')>.py"
MEMBER = "<svg onload=alert('member')>.py"
QUOTED_MEMBER = "x' onmouseover='alert(1)'.py"
CODE = "def relu(x):\n    return '</pre><script>alert(\"code\")</script>'\n"
OUTPUT = "<script>alert('output')</script>"
MESSAGE = "\"><img src=x onerror=alert('message')>"
HIDDEN_OUT = "<iframe src=javascript:alert('hidden')>"
ENV = "<body onload=alert('env')>"
COMMENT = "<script>alert('comment')</script>"


class Inspector(HTMLParser):
    """What a browser would build from the page: elements and their attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        src = dict(attrs).get("src") or ""
        own_file = src.startswith("/") and not src.startswith("//")
        if tag == "script" and not own_file:
            self.problems.append("<script> element not from this site's files")
        if tag in ("iframe", "object", "embed"):
            self.problems.append(f"<{tag}> element")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"{name}= on <{tag}>")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.problems.append(f"javascript: URL on <{tag}>")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def inspect(html: str) -> tuple[list[str], str]:
    parser = Inspector()
    parser.feed(html)
    parser.close()
    return parser.problems, "".join(parser.text)


def _zip(members: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, text in members.items():
            zf.writestr(name, text)
    return buf.getvalue()


def _graded(
    settings: Settings, assignment_id: int, user_id: int, data: bytes, filename: str
) -> int:
    checks = (
        CheckResult("relu", 0.0, 2.0, CheckStatus.FAILED, MESSAGE),
        CheckResult("softmax", 1.0, 1.0, CheckStatus.PASSED, ""),
        CheckResult("hidden_one", 0.0, 1.0, CheckStatus.ERROR, MESSAGE, hidden=True),
    )
    doc = GradeReport(
        SLUG,
        1.0,
        4.0,
        ReportStatus.GRADED,
        checks,
        message=MESSAGE,
        output=OUTPUT,
        environment={"seed": 3, "sandbox": ENV, "hidden_seed": 99},
        hidden_output=HIDDEN_OUT,
    ).to_dict()
    return add_graded(settings, assignment_id, user_id, doc, filename=filename, data=data)


@pytest.fixture
def hostile(demo: DemoData, web_settings: Settings) -> dict[str, object]:
    aid = demo.assignments[SLUG]
    mallory = add_user(web_settings, NAME, PASSWORD, course_id=demo.course_id, hasher=cheap_hash)
    single = _graded(web_settings, aid, mallory, CODE.encode(), FILE)
    # The same code twice (renamed file), so the similarity report pairs them.
    zipped = _graded(
        web_settings,
        aid,
        demo.user_ids["other"],
        _zip({MEMBER: CODE * 3, QUOTED_MEMBER: CODE}),
        "work.zip",
    )
    copied = _graded(web_settings, aid, demo.user_ids["student"], (CODE * 3).encode(), FILE)
    return {"single": single, "zipped": zipped, "copied": copied}


def staff_pages(course_id: int, ids: dict[str, object]) -> list[str]:
    base = f"/staff/courses/{course_id}"
    pages = [
        "/staff/",
        f"{base}/",
        f"{base}/assignments/{SLUG}/",
        f"{base}/assignments/{SLUG}/?errors=1",
        f"{base}/assignments/{SLUG}/analytics",
        f"{base}/assignments/{SLUG}/similarity",
    ]
    pages += [f"{base}/submissions/{i}" for i in ids.values()]
    return pages


def test_no_staff_page_runs_student_text(
    client: FlaskClient, demo: DemoData, hostile: dict[str, object]
) -> None:
    login(client, "ta")
    # a TA's comment is shown to other staff: it goes through the same escaping
    url = f"/staff/courses/{demo.course_id}/submissions/{hostile['single']}"
    client.post(
        url + "/override",
        data={"score": "2", "comment": COMMENT, "csrf_token": csrf_token(client, url)},
    )
    pages = staff_pages(demo.course_id, hostile)
    similarity = client.get(pages[5]).get_data(as_text=True)
    pair = re.search(r"similarity/\d+-\d+", similarity)
    assert pair, "the two copies should be paired"
    pages.append(f"/staff/courses/{demo.course_id}/assignments/{SLUG}/{pair.group(0)}")
    seen = ""
    for page in pages:
        answer = client.get(page)
        assert answer.status_code == 200, page
        problems, text = inspect(answer.get_data(as_text=True))
        assert problems == [], (page, problems)
        seen += text
    # every payload was shown, as text
    for payload in (NAME, FILE, MEMBER, QUOTED_MEMBER, OUTPUT, MESSAGE, HIDDEN_OUT, ENV, COMMENT):
        assert payload in seen, payload
    assert 'alert("code")' in seen


def test_downloads_and_pictures_carry_no_markup_a_browser_would_run(
    client: FlaskClient, demo: DemoData, hostile: dict[str, object]
) -> None:
    login(client, "ta")
    base = f"/staff/courses/{demo.course_id}"
    csv_answer = client.get(f"{base}/gradebook.csv")
    assert csv_answer.mimetype == "text/csv"
    assert csv_answer.headers["Content-Disposition"].startswith("attachment")
    assert csv_answer.headers["X-Content-Type-Options"] == "nosniff"
    zip_answer = client.get(f"{base}/assignments/{SLUG}/submissions.zip")
    assert zip_answer.headers["Content-Disposition"].startswith("attachment")
    with zipfile.ZipFile(io.BytesIO(zip_answer.data)) as zf:
        assert not any(c in n for n in zf.namelist() for c in "<>\"'")
    for picture in ("histogram", "failures", "timeline"):
        svg = client.get(f"{base}/assignments/{SLUG}/analytics/{picture}.svg")
        assert svg.mimetype == "image/svg+xml"
        problems, _ = inspect(svg.get_data(as_text=True))
        assert problems == []
