"""Object access, escaping of student-controlled text, and error pages that leak nothing.

Every student route that takes an id is tried with another student's id: each
answers 404, exactly as for an id that does not exist.
"""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.web.conftest import add_graded, hand_in, login, report_doc
from web.demo import DemoData
from worker.config import Settings

SUBMISSION_ROUTES = ["", "/status.json", "/report.json", "/download"]
SCRIPT = "<script>alert('pwned')</script>"
ATTRIBUTE = '" onmouseover="alert(1)" x="'
IMAGE = "<img src=x onerror=alert(1)>"


def _others_submission(web_settings: Settings, demo: DemoData) -> int:
    doc = report_doc(
        [{"name": "add", "score": 1.0, "max_score": 1.0, "status": "passed",
          "message": "other's secret message"}],
        output="other's printed secret\n",
    )  # fmt: skip
    return add_graded(
        web_settings, demo.assignments["worker-tiny"], demo.user_ids["other"], doc,
        filename="others_code.py",
    )  # fmt: skip


@pytest.mark.parametrize("suffix", SUBMISSION_ROUTES)
def test_a_student_never_reads_another_students_submission(
    client: FlaskClient, demo: DemoData, web_settings: Settings, suffix: str
) -> None:
    theirs = _others_submission(web_settings, demo)
    mine = add_graded(
        web_settings,
        demo.assignments["worker-tiny"],
        demo.user_ids["student"],
        report_doc([{"name": "add", "score": 1.0, "max_score": 1.0, "status": "passed"}]),
    )
    login(client, "student")
    assert client.get(f"/submissions/{mine}{suffix}").status_code == 200
    response = client.get(f"/submissions/{theirs}{suffix}")
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert "secret" not in body and "others_code" not in body
    assert client.get(f"/submissions/{theirs + 1000}{suffix}").status_code == 404


@pytest.mark.parametrize("role", ["ta", "instructor", "ta2"])
def test_staff_do_not_read_submissions_through_the_student_routes(
    client: FlaskClient, demo: DemoData, web_settings: Settings, role: str
) -> None:
    """The student routes serve the student's own work only; staff have their own pages."""
    theirs = _others_submission(web_settings, demo)
    login(client, role)
    for suffix in SUBMISSION_ROUTES:
        assert client.get(f"/submissions/{theirs}{suffix}").status_code == 404


@pytest.mark.parametrize(
    "url",
    ["/courses/{other}", "/courses/{other}/a/worker-tiny", "/courses/{course}/a/no-such"],
)
@pytest.mark.parametrize("who", ["student", "admin"])  # a site administrator is enrolled nowhere
def test_course_pages_need_an_enrollment(
    client: FlaskClient, demo: DemoData, web_settings: Settings, url: str, who: str
) -> None:
    from web.demo import add_course

    other = add_course(web_settings, "elsewhere", "Another course")
    login(client, who)
    assert client.get(url.format(other=other, course=demo.course_id)).status_code == 404


def test_hand_in_to_a_course_one_is_not_in_is_refused(
    client: FlaskClient, demo: DemoData, web_settings: Settings
) -> None:
    import io

    from tests.web.conftest import csrf_token
    from worker.db import get_engine
    from worker.models import Submission

    login(client, "ta2")
    token = csrf_token(client, "/courses")  # a real token of ta2's own session
    response = client.post(
        f"/courses/{demo.course_id}/a/worker-tiny/submit",
        data={"csrf_token": token, "files": [(io.BytesIO(b"x"), "tiny.py")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 404
    with get_engine(web_settings.database_url).connect() as conn:
        assert conn.scalar(Submission.__table__.select()) is None


def test_signed_out_every_student_route_sends_to_the_login_page(
    client: FlaskClient, demo: DemoData, web_settings: Settings
) -> None:
    theirs = _others_submission(web_settings, demo)
    urls = [f"/submissions/{theirs}{s}" for s in SUBMISSION_ROUTES]
    urls += ["/courses", f"/courses/{demo.course_id}", f"/courses/{demo.course_id}/a/worker-tiny"]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


@pytest.mark.parametrize("payload", [SCRIPT, ATTRIBUTE, IMAGE])
def test_student_controlled_text_is_escaped(
    client: FlaskClient, demo: DemoData, web_settings: Settings, payload: str
) -> None:
    doc = report_doc(
        [{"name": "add", "score": 0.0, "max_score": 1.0, "status": "failed",
          "message": f"expected 1, got {payload}"}],
        output=f"printed {payload}\n",
    )  # fmt: skip
    doc["message"] = f"note {payload}"
    doc["environment"]["python"] = payload
    sub = add_graded(
        web_settings,
        demo.assignments["worker-tiny"],
        demo.user_ids["student"],
        doc,
        filename=f"tiny{payload}.py",
    )
    login(client, "student")
    for url in (
        f"/submissions/{sub}",
        f"/courses/{demo.course_id}/a/worker-tiny",
    ):
        html = client.get(url).get_data(as_text=True)
        assert payload not in html, url
        assert "<script>alert" not in html and "<img src=x" not in html
        assert 'onmouseover="alert' not in html
    html = client.get(f"/submissions/{sub}").get_data(as_text=True)
    assert "printed &lt;" in html or "printed &#34;" in html  # shown, as text
    json_response = client.get(f"/submissions/{sub}/report.json")
    assert json_response.mimetype == "application/json"
    assert json_response.headers["X-Content-Type-Options"] == "nosniff"


def test_an_uploaded_file_name_with_markup_is_shown_as_text(
    client: FlaskClient, demo: DemoData
) -> None:
    login(client, "student")
    name = "tiny<img src=x onerror=alert(1)>.py"
    response = hand_in(client, demo.course_id, "worker-tiny", [(b"def add(x, y): ...\n", name)])
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<img src=x" not in html and "tiny&lt;img src=x onerror=alert(1)&gt;.py" in html
    # A name the upload check refuses is quoted in the refusal, escaped too.
    refused = hand_in(client, demo.course_id, "worker-tiny", [(b"x", "<script>x</script>.py")])
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "<script>x" not in html
    assert "&lt;script&gt;x&lt;/script&gt;.py" in html


def test_download_is_an_attachment_never_rendered(
    client: FlaskClient, demo: DemoData, web_settings: Settings
) -> None:
    sub = add_graded(
        web_settings,
        demo.assignments["worker-tiny"],
        demo.user_ids["student"],
        report_doc([{"name": "add", "score": 1.0, "max_score": 1.0, "status": "passed"}]),
        filename="page.html",
    )
    login(client, "student")
    response = client.get(f"/submissions/{sub}/download")
    assert response.mimetype == "application/octet-stream"
    assert response.headers["Content-Disposition"].startswith("attachment")
