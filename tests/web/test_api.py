"""The JSON API (/api/v1), route by route with each role.

Tokens are made with ``web.api.tokens.create_token`` (the page that makes them
is tested in test_api_tokens.py). Every route appears in ``ROUTES``: a student
token, another student, a TA of another course and a TA holding a student-scoped
token are each refused what is not theirs, and the table is checked against the
app's url_map so a new route cannot go untested.
"""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from tests.web.conftest import add_graded, hand_in, login, report_doc
from tests.worker.conftest import SUBMISSIONS
from web.api.tokens import create_token
from web.demo import DemoData
from worker.config import Settings
from worker.db import get_engine, session_factory
from worker.models import (
    Assignment,
    CourseAudit,
    GradeRun,
    ScoreOverride,
    Submission,
    utcnow,
)

GOOD = (SUBMISSIONS / "good.py").read_bytes()
HIDDEN = [
    {"name": "add", "score": 1.0, "max_score": 1.0, "status": "passed"},
    {"name": "secret_edge_case", "score": 0.0, "max_score": 2.0, "status": "failed",
     "message": "scale(x, 2.5) at the secret input 123.456", "hidden": True},
]  # fmt: skip


def token_for(settings: Settings, demo: DemoData, name: str, scope: str = "student") -> str:
    s = session_factory(settings.database_url)()
    try:
        return create_token(s, demo.user_ids[name], f"{name} test", scope)[1]
    finally:
        s.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _count(settings: Settings, table) -> int:  # type: ignore[no-untyped-def]
    with get_engine(settings.database_url).connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(table)))


def _set(settings: Settings, assignment_id: int, **values: object) -> None:
    with get_engine(settings.database_url).begin() as conn:
        conn.execute(update(Assignment).where(Assignment.id == assignment_id).values(**values))


def _elsewhere(settings: Settings) -> int:
    from worker.models import Course

    with get_engine(settings.database_url).connect() as conn:
        return int(conn.scalar(select(Course.id).where(Course.slug == "elsewhere")))


def _submit(client: FlaskClient, token: str, course_id: int, files: list[tuple[bytes, str]]):  # type: ignore[no-untyped-def]
    data = {"files": [(io.BytesIO(b), n) for b, n in files]}
    return client.post(
        f"/api/v1/courses/{course_id}/assignments/worker-tiny/submissions",
        data=data,
        content_type="multipart/form-data",
        headers=bearer(token),
    )


# -- authentication --------------------------------------------------------------------


def test_no_token_a_wrong_token_or_a_signed_in_session_get_401(
    client: FlaskClient, demo: DemoData, web_settings: Settings
) -> None:
    assert client.get("/api/v1/courses").status_code == 401
    wrong = client.get("/api/v1/courses", headers=bearer("dlg_" + "x" * 43))
    assert wrong.status_code == 401 and wrong.headers["WWW-Authenticate"].startswith("Bearer")
    assert "error" in wrong.get_json()
    # A browser's session is never an API credential (which is why the API needs no CSRF).
    login(client, "student")
    assert client.get("/courses").status_code == 200
    assert client.get("/api/v1/courses").status_code == 401
    posted = _submit(client, "", demo.course_id, [(GOOD, "tiny.py")])
    assert posted.status_code == 401
    assert _count(web_settings, Submission) == 0


def test_me_and_courses_answer_for_the_tokens_user_only(
    client: FlaskClient, demo: DemoData, web_settings: Settings
) -> None:
    token = token_for(web_settings, demo, "student")
    assert client.get("/api/v1/me", headers=bearer(token)).get_json() == {
        "id": demo.user_ids["student"],
        "name": "student",
        "scope": "student",
    }
    courses = client.get("/api/v1/courses", headers=bearer(token)).get_json()["courses"]
    assert [(c["id"], c["role"]) for c in courses] == [(demo.course_id, "student")]
    ta2 = token_for(web_settings, demo, "ta2", "staff")
    theirs = client.get("/api/v1/courses", headers=bearer(ta2)).get_json()["courses"]
    assert [(c["slug"], c["role"]) for c in theirs] == [("elsewhere", "ta")]


# -- a student's routes ----------------------------------------------------------------


def test_assignments_of_my_course_and_not_of_another(
    client: FlaskClient, demo: DemoData, web_settings: Settings
) -> None:
    token = token_for(web_settings, demo, "student")
    tiny = demo.assignments["worker-tiny"]
    _set(web_settings, tiny, due=utcnow() + timedelta(days=2), late_penalty_per_day=0.25)
    listed = client.get(f"/api/v1/courses/{demo.course_id}/assignments", headers=bearer(token))
    by_slug = {a["slug"]: a for a in listed.get_json()["assignments"]}
    assert set(by_slug) == set(demo.assignments)
    assert by_slug["worker-tiny"]["files"] == ["tiny.py"]
    assert "25%" in by_slug["worker-tiny"]["late_policy"]
    assert by_slug["worker-tiny"]["accepts_now"] is True
    one = client.get(
        f"/api/v1/courses/{demo.course_id}/assignments/worker-tiny", headers=bearer(token)
    ).get_json()
    assert one["slug"] == "worker-tiny" and one["counted_submission"] is None
    elsewhere = _elsewhere(web_settings)
    for path in (
        f"/api/v1/courses/{elsewhere}/assignments",
        f"/api/v1/courses/{demo.course_id}/assignments/no-such-thing",
        f"/api/v1/courses/{elsewhere}/assignments/worker-tiny/submissions",
    ):
        assert client.get(path, headers=bearer(token)).status_code == 404, path


def test_submit_then_status_with_position_and_progress(
    client: FlaskClient, demo: DemoData, web_settings: Settings
) -> None:
    token = token_for(web_settings, demo, "student")
    first = _submit(client, token, demo.course_id, [(GOOD, "tiny.py")])
    assert first.status_code == 201, first.get_data(as_text=True)
    second = _submit(client, token, demo.course_id, [(GOOD, "tiny.py")])
    sub1, sub2 = first.get_json()["id"], second.get_json()["id"]
    assert first.get_json()["status_url"] == f"/api/v1/submissions/{sub1}"
    status = client.get(f"/api/v1/submissions/{sub2}", headers=bearer(token)).get_json()
    assert (status["status"], status["position"]) == ("queued", 2)
    with get_engine(web_settings.database_url).begin() as conn:
        conn.execute(
            update(GradeRun)
            .where(GradeRun.submission_id == sub1)
            .values(status="running", progress="check 2/3: scale")
        )
    running = client.get(f"/api/v1/submissions/{sub1}", headers=bearer(token)).get_json()
    assert (running["status"], running["progress"]) == ("running", "check 2/3: scale")
    mine = client.get(
        f"/api/v1/courses/{demo.course_id}/assignments/worker-tiny/submissions",
        headers=bearer(token),
    ).get_json()["submissions"]
    assert [m["id"] for m in mine] == [sub2, sub1]


def test_refused_uploads_say_why_with_the_pages_status_codes(
    client: FlaskClient, demo: DemoData, web_settings: Settings
) -> None:
    token = token_for(web_settings, demo, "student")
    bad = _submit(client, token, demo.course_id, [(b"x", ".hidden.py")])
    assert bad.status_code == 400 and "hidden files" in bad.get_json()["error"]
    assert _submit(client, token, demo.course_id, []).status_code == 400
    tiny = demo.assignments["worker-tiny"]
    _set(web_settings, tiny, due=utcnow() - timedelta(days=1), accept_late=False)
    late = _submit(client, token, demo.course_id, [(GOOD, "tiny.py")])
    assert late.status_code == 403 and "not accepted" in late.get_json()["error"]
    assert _count(web_settings, Submission) == 0


def test_the_rate_limit_answers_429_with_retry_after(
    client: FlaskClient, demo: DemoData, web_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataclasses import replace

    app: Flask = client.application
    app.config["DLGRADE_SETTINGS"] = replace(web_settings, rate_limit="2/3600")
    token = token_for(web_settings, demo, "student")
    for _ in range(2):
        assert _submit(client, token, demo.course_id, [(GOOD, "tiny.py")]).status_code == 201
    third = _submit(client, token, demo.course_id, [(GOOD, "tiny.py")])
    assert third.status_code == 429 and int(third.headers["Retry-After"]) > 3000
    assert _count(web_settings, Submission) == 2


def test_another_students_submission_is_404_on_every_student_route(
    client: FlaskClient, demo: DemoData, web_settings: Settings
) -> None:
    theirs = add_graded(
        web_settings, demo.assignments["worker-tiny"], demo.user_ids["other"], report_doc(HIDDEN)
    )
    token = token_for(web_settings, demo, "student")
    for path in (f"/api/v1/submissions/{theirs}", f"/api/v1/submissions/{theirs}/report"):
        assert client.get(path, headers=bearer(token)).status_code == 404, path
    # Even the student's staff-scoped token would not help: they teach no course.
    from web.api.tokens import TokenRefused

    with pytest.raises(TokenRefused, match="TA or instructor"):
        token_for(web_settings, demo, "student", "staff")


def test_report_by_role_student_view_until_release_staff_view_for_staff(
    client: FlaskClient, demo: DemoData, web_settings: Settings
) -> None:
    tiny = demo.assignments["worker-tiny"]
    doc = report_doc(HIDDEN, output="visible print\n", hidden_output="printed 123.456 in hidden\n")
    sub = add_graded(web_settings, tiny, demo.user_ids["student"], doc)
    _set(web_settings, tiny, hidden_release=utcnow() + timedelta(days=1))
    token = token_for(web_settings, demo, "student")
    mine = client.get(f"/api/v1/submissions/{sub}/report", headers=bearer(token))
    body = mine.get_data(as_text=True)
    assert mine.get_json()["view"] == "student" and "visible print" in body
    for secret in ("secret_edge_case", "123.456", "s3cr3t"):
        assert secret not in body
    ta = token_for(web_settings, demo, "ta", "staff")
    staff = client.get(f"/api/v1/submissions/{sub}/report", headers=bearer(ta))
    assert staff.get_json()["view"] == "staff" and staff.get_json()["student"] == "student"
    assert "secret_edge_case" in staff.get_data(as_text=True)
    assert "123.456" in staff.get_data(as_text=True)
    _set(web_settings, tiny, hidden_release=utcnow() - timedelta(minutes=1))
    released = client.get(f"/api/v1/submissions/{sub}/report", headers=bearer(token))
    assert "secret_edge_case" in released.get_data(as_text=True)
    assert "s3cr3t" not in released.get_data(as_text=True)


# -- staff routes, each with each role -----------------------------------------------------

C, S, A = "{course}", "{submission}", "/api/v1/courses/{course}/assignments/worker-tiny"
STAFF_ROUTES = [
    ("GET", f"/api/v1/courses/{C}/gradebook"),
    ("GET", f"/api/v1/courses/{C}/gradebook.csv"),
    ("GET", f"{A}/all-submissions"),
    ("GET", f"{A}/submissions.zip"),
    ("POST", f"{A}/regrade"),
    ("GET", f"{A}/batches/{{batch}}"),
    ("GET", f"/api/v1/courses/{C}/submissions/{S}"),
    ("GET", f"/api/v1/courses/{C}/submissions/{S}/overrides"),
    ("POST", f"/api/v1/courses/{C}/submissions/{S}/overrides"),
    ("POST", f"/api/v1/courses/{C}/submissions/{S}/regrade"),
    ("POST", f"/api/v1/courses/{C}/roster"),
    ("GET", f"{A}/settings"),
    ("PUT", f"{A}/settings"),
    ("POST", f"{A}/extensions"),
    ("GET", f"/api/v1/courses/{C}/audit"),
    ("POST", f"/api/v1/courses/{C}/uploads"),
    ("GET", f"/api/v1/courses/{C}/uploads/{{upload}}"),
    ("POST", f"/api/v1/courses/{C}/uploads/{{upload}}/validate"),
    ("POST", f"/api/v1/courses/{C}/uploads/{{upload}}/publish"),
    ("POST", f"/api/v1/courses/{C}/copy"),
    ("POST", f"/api/v1/courses/{C}/people/{{login}}/one-time-password"),
]
STUDENT_ROUTES = [
    ("GET", "/api/v1/me"),
    ("GET", "/api/v1/courses"),
    ("GET", f"/api/v1/courses/{C}/assignments"),
    ("GET", A),
    ("GET", f"{A}/submissions"),
    ("POST", f"{A}/submissions"),
    ("GET", f"/api/v1/submissions/{S}"),
    ("GET", f"/api/v1/submissions/{S}/report"),
    ("GET", "/api/v1/openapi.json"),
]


def _call(client: FlaskClient, method: str, path: str, token: str):  # type: ignore[no-untyped-def]
    body = {"score": 1, "comment": "checked by hand"} if path.endswith("overrides") else None
    return client.open(path, method=method, json=body, headers=bearer(token))


@pytest.mark.parametrize(("method", "path"), STAFF_ROUTES)
@pytest.mark.parametrize(
    ("who", "scope", "expected"),
    [
        ("student", "student", 404),
        ("ta2", "staff", 404),
        ("ta", "student", 403),
        ("admin", "student", 404),  # a site administrator reads no course's data
    ],
)
def test_staff_routes_refuse_students_other_courses_ta_and_student_scoped_tokens(
    client: FlaskClient,
    demo: DemoData,
    web_settings: Settings,
    method: str,
    path: str,
    who: str,
    scope: str,
    expected: int,
) -> None:
    sub = add_graded(
        web_settings, demo.assignments["worker-tiny"], demo.user_ids["student"], report_doc(HIDDEN)
    )
    token = token_for(web_settings, demo, who, scope)
    url = path.format(course=demo.course_id, submission=sub, batch="0" * 16, upload=1,
                      login="student")  # fmt: skip
    answer = _call(client, method, url, token)
    assert answer.status_code == expected, (url, answer.get_data(as_text=True)[:200])
    assert answer.is_json and "error" in answer.get_json()
    assert _count(web_settings, ScoreOverride) == 0
    assert _count(web_settings, GradeRun) == 1  # no regrade was queued
    assert _count(web_settings, CourseAudit) == 0  # no setting, extension or roster changed


def test_a_ta_of_another_course_cannot_reach_this_courses_submissions_by_id(
    client: FlaskClient, demo: DemoData, web_settings: Settings
) -> None:
    sub = add_graded(
        web_settings, demo.assignments["worker-tiny"], demo.user_ids["student"], report_doc(HIDDEN)
    )
    ta2 = token_for(web_settings, demo, "ta2", "staff")
    elsewhere = _elsewhere(web_settings)
    for path in (
        f"/api/v1/submissions/{sub}",
        f"/api/v1/submissions/{sub}/report",
        f"/api/v1/courses/{elsewhere}/submissions/{sub}",  # their own course in the URL
        f"/api/v1/courses/{elsewhere}/submissions/{sub}/overrides",
    ):
        assert client.get(path, headers=bearer(ta2)).status_code == 404, path
    moved = client.post(
        f"/api/v1/courses/{elsewhere}/submissions/{sub}/overrides",
        json={"score": 3, "comment": "nope"},
        headers=bearer(ta2),
    )
    assert moved.status_code == 404 and _count(web_settings, ScoreOverride) == 0


def test_staff_gradebook_override_audit_and_regrades(
    client: FlaskClient, demo: DemoData, web_settings: Settings
) -> None:
    tiny = demo.assignments["worker-tiny"]
    doc = report_doc(
        [
            {"name": "add", "score": 1.0, "max_score": 1.0, "status": "passed"},
            {"name": "scale", "score": 0.0, "max_score": 2.0, "status": "failed"},
        ]
    )
    sub = add_graded(web_settings, tiny, demo.user_ids["student"], doc)
    ta = bearer(token_for(web_settings, demo, "ta", "staff"))
    base = f"/api/v1/courses/{demo.course_id}"
    book = client.get(f"{base}/gradebook", headers=ta).get_json()
    row = next(r for r in book["rows"] if r["name"] == "student")
    assert row["cells"]["worker-tiny"] == {
        "score": 1.0,
        "submission_id": sub,
        "submissions": 1,
        "late": False,
        "overridden": False,
        "pending": False,
    }
    refused = client.post(f"{base}/submissions/{sub}/overrides", json={"score": 2}, headers=ta)
    assert refused.status_code == 400 and "comment" in refused.get_json()["error"]
    over = client.post(f"{base}/submissions/{sub}/overrides", json={"score": 9}, headers=ta)
    assert over.status_code == 400  # no comment and over the maximum: nothing recorded
    done = client.post(
        f"{base}/submissions/{sub}/overrides",
        json={"score": 2.5, "comment": "partial credit for scale"},
        headers=ta,
    )
    assert done.status_code == 201
    (entry,) = done.get_json()["overrides"]
    assert (entry["original_score"], entry["score"], entry["by"]) == (1.0, 2.5, "ta")
    assert entry["comment"] == "partial credit for scale"
    book = client.get(f"{base}/gradebook", headers=ta).get_json()
    cell = next(r for r in book["rows"] if r["name"] == "student")["cells"]["worker-tiny"]
    assert (cell["score"], cell["overridden"]) == (2.5, True)
    # The student sees the override as their final score.
    student = bearer(token_for(web_settings, demo, "student"))
    assert (
        client.get(f"/api/v1/submissions/{sub}", headers=student).get_json()["final_score"] == 2.5
    )

    one = client.post(f"{base}/submissions/{sub}/regrade", headers=ta)
    assert one.status_code == 202 and len(one.get_json()["run_ids"]) == 1
    again = client.post(f"{base}/submissions/{sub}/regrade", headers=ta).get_json()
    assert (again["run_ids"], again["skipped"]) == ([], 1)  # already in flight
    theirs = add_graded(web_settings, tiny, demo.user_ids["other"], doc)
    whole = client.post(f"{base}/assignments/worker-tiny/regrade", headers=ta).get_json()
    assert (len(whole["run_ids"]), whole["skipped"]) == (1, 1) and whole["batch"]
    progress = client.get(
        f"{base}/assignments/worker-tiny/batches/{whole['batch']}", headers=ta
    ).get_json()
    assert (progress["total"], progress["queued"], progress["complete"]) == (1, 1, False)
    with get_engine(web_settings.database_url).connect() as conn:
        by = conn.scalar(
            select(GradeRun.requested_by).where(GradeRun.id == one.get_json()["run_ids"][0])
        )
    assert by == demo.user_ids["ta"]
    listed = client.get(
        f"{base}/assignments/worker-tiny/all-submissions?student=stud", headers=ta
    ).get_json()["submissions"]
    assert [(x["id"], x["student"]) for x in listed] == [(sub, "student")]
    assert listed[0]["flags"] == []  # what its report lists for a TA: nothing here
    assert theirs not in {x["id"] for x in listed}
    view = client.get(f"{base}/submissions/{sub}", headers=ta).get_json()
    assert view["view"] == "staff" and view["report"]["environment"]["hidden_seed"] == "s3cr3t"
    assert [o["score"] for o in view["overrides"]] == [2.5]


def test_exports_are_the_staff_pages_files_byte_for_byte(
    app: Flask, demo: DemoData, web_settings: Settings
) -> None:
    sub = add_graded(
        web_settings, demo.assignments["worker-tiny"], demo.user_ids["student"], report_doc(HIDDEN)
    )
    ta = bearer(token_for(web_settings, demo, "ta", "staff"))
    api, browser = app.test_client(), app.test_client()
    login(browser, "ta")
    csv_api = api.get(f"/api/v1/courses/{demo.course_id}/gradebook.csv", headers=ta)
    csv_page = browser.get(f"/staff/courses/{demo.course_id}/gradebook.csv")
    assert csv_api.status_code == 200 and csv_api.mimetype == "text/csv"
    assert csv_api.data == csv_page.data and b"student" in csv_api.data
    zipped = api.get(
        f"/api/v1/courses/{demo.course_id}/assignments/worker-tiny/submissions.zip", headers=ta
    )
    names = zipfile.ZipFile(io.BytesIO(zipped.data)).namelist()
    assert f"worker-tiny/student/{sub}-tiny.py" in names and "worker-tiny/index.csv" in names


def test_every_api_route_is_in_the_role_tables(app: Flask) -> None:
    """A new /api/v1 route must be added to ROUTES above (and so tested with each role)."""
    import re

    def shape(path: str) -> str:
        return re.sub(r"<(?:\w+:)?(\w+)>", "{}", path)

    table = {
        (m, re.sub(r"\{\w+\}|worker-tiny", "{}", re.sub(r"\{\{(\w+)\}\}", "{}", p)))
        for m, p in STAFF_ROUTES + STUDENT_ROUTES
    }
    routed = {
        (m, shape(rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for m in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routed == table


def test_hand_in_through_the_page_and_the_api_are_the_same_submission_kind(
    client: FlaskClient, demo: DemoData, web_settings: Settings
) -> None:
    """The API's upload goes through the page's own checks and worker.submit: same rows."""
    login(client, "student")
    page = hand_in(client, demo.course_id, "worker-tiny", [(GOOD, "tiny.py")])
    assert page.status_code == 302
    token = token_for(web_settings, demo, "student")
    api = _submit(client, token, demo.course_id, [(GOOD, "tiny.py")])
    with get_engine(web_settings.database_url).connect() as conn:
        rows = conn.execute(
            select(Submission.sha256, Submission.filename, Submission.user_id)
        ).all()
    assert len(rows) == 2 and rows[0] == rows[1]
    assert api.get_json()["sha256"] == rows[0].sha256
