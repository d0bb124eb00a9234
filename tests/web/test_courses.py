"""Many courses on one portal: each course's assignments, submissions and reports are its own.

Two courses, each with its own instructor, TA and students, offer the same
assignment folders at once, through the pages and the API a browser or the CLI
uses; neither sees, moves or is limited by the other's rows.
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, insert, select

from grader.config import REPO_ROOT
from tests.web.conftest import PASSWORD, cheap_hash, csrf_token, grade_queued, hand_in, login
from tests.web.test_api import GOOD, bearer, token_for
from web import create_app
from web.demo import DemoData, add_course, add_user
from worker.config import Settings
from worker.db import get_engine
from worker.models import Assignment, Role, SubmissionBlob, utcnow

SOLUTION = (REPO_ROOT / "assignments/activations/solution/activations.py").read_bytes()


@pytest.fixture
def second(demo: DemoData, web_settings: Settings) -> int:
    """Next term's course: instructor2, ta_b and student_b, none of them in the demo course."""
    course_id = add_course(web_settings, "dl-next", "Deep learning, next term")
    for name, role in (("instructor2", Role.INSTRUCTOR), ("ta_b", Role.TA),
                       ("student_b", Role.STUDENT)):  # fmt: skip
        demo.user_ids[name] = add_user(
            web_settings, name, PASSWORD, course_id=course_id, role=role, hasher=cheap_hash
        )
    return course_id


def _signed_in(app: Flask, name: str) -> FlaskClient:
    client = app.test_client()
    login(client, name)
    return client


def _stored_blobs(settings: Settings) -> list[str]:
    """The digests of every upload's bytes the portal keeps (``submission_blobs``)."""
    with get_engine(settings.database_url).connect() as conn:
        return sorted(conn.scalars(select(SubmissionBlob.sha256)))


def _add_built_in(client: FlaskClient, course_id: int, slug: str) -> None:
    token = csrf_token(client, f"/instructor/courses/{course_id}/")
    added = client.post(
        f"/instructor/courses/{course_id}/assignments", data={"csrf_token": token, "slug": slug}
    )
    assert added.headers["Location"].endswith(f"/courses/{course_id}/assignments/{slug}/settings")


def _set(client: FlaskClient, course_id: int, slug: str, **fields: str) -> None:
    url = f"/instructor/courses/{course_id}/assignments/{slug}/settings"
    form = {"csrf_token": csrf_token(client, url), "accept_late": "1", "counts": "latest"}
    answer = client.post(url, data=form | fields)
    assert answer.status_code == 302, answer.get_data(as_text=True)[-500:]


def _when(delta: timedelta) -> str:
    return f"{utcnow() + delta:%Y-%m-%d %H:%M}"


def _submission_id(answer) -> int:  # type: ignore[no-untyped-def]
    assert answer.status_code == 302, answer.get_data(as_text=True)[-800:]
    return int(answer.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def test_two_courses_grade_the_same_built_in_at_once_and_neither_sees_the_other(
    app: Flask, demo: DemoData, second: int, web_settings: Settings, sandbox_envs: Path
) -> None:
    first = demo.course_id
    teacher, teacher2 = _signed_in(app, "instructor"), _signed_in(app, "instructor2")
    _add_built_in(teacher2, second, "activations")
    # Course 1: due next week, hidden checks already released. Course 2: due 23 hours
    # ago (late by part of a day: 10%), hidden checks released only next week.
    _set(teacher, first, "activations", due=_when(timedelta(days=7)),
         hidden_release=_when(-timedelta(hours=1)))  # fmt: skip
    _set(teacher2, second, "activations", due=_when(-timedelta(hours=23)),
         hidden_release=_when(timedelta(days=7)), late_penalty_per_day="10%")  # fmt: skip
    ann, bob = _signed_in(app, "student"), _signed_in(app, "student_b")
    mine = _submission_id(hand_in(ann, first, "activations", [(SOLUTION, "activations.py")]))
    theirs = _submission_id(hand_in(bob, second, "activations", [(SOLUTION, "activations.py")]))
    assert grade_queued(web_settings, sandbox_envs) == ["graded", "graded"]

    # Each student: their own report, under their own course's dates.
    page = ann.get(f"/submissions/{mine}").get_data(as_text=True)
    assert "kinks" in page and "Hidden checks show only their points" not in page
    page = bob.get(f"/submissions/{theirs}").get_data(as_text=True)
    assert "kinks" not in page and "Hidden checks show only their points" in page
    assert ann.get(f"/submissions/{mine}/status.json").get_json()["late"] is False
    late = bob.get(f"/submissions/{theirs}/status.json").get_json()
    assert late["late"] is True and late["late_penalty"] == pytest.approx(0.1)
    assert ann.get(f"/submissions/{theirs}").status_code == 404
    assert bob.get(f"/submissions/{mine}").status_code == 404

    # Each course's staff: their own submissions, reports, analytics and exports only.
    ta, ta_b = _signed_in(app, "ta"), _signed_in(app, "ta_b")
    for staff, course, own, other, name, not_name in (
        (ta, first, mine, theirs, "student", "student_b"),
        (ta_b, second, theirs, mine, "student_b", "student"),
    ):
        base = f"/staff/courses/{course}"
        assert staff.get(f"{base}/submissions/{own}").status_code == 200
        assert staff.get(f"{base}/submissions/{other}").status_code == 404
        listing = staff.get(f"{base}/assignments/activations/").get_data(as_text=True)
        assert f"/submissions/{own}" in listing and f"/submissions/{other}" not in listing
        analytics = staff.get(f"{base}/assignments/activations/analytics")
        assert analytics.status_code == 200
        book = list(csv.reader(io.StringIO(staff.get(f"{base}/gradebook.csv").text)))
        logins = {cell for row in book for cell in row}
        assert name in logins and not_name not in logins
        archive = zipfile.ZipFile(
            io.BytesIO(staff.get(f"{base}/assignments/activations/submissions.zip").data)
        )
        uploads = [n for n in archive.namelist() if n.endswith(".py")]
        assert uploads == [f"activations/{name}/{own}-activations.py"]
    for who, course, own, other in (("ta", first, mine, theirs), ("ta_b", second, theirs, mine)):
        token = bearer(token_for(web_settings, demo, who, scope="staff"))
        api = f"/api/v1/courses/{course}"
        listed = app.test_client().get(
            f"{api}/assignments/activations/all-submissions", headers=token
        )
        assert [s["id"] for s in listed.get_json()["submissions"]] == [own]
        report = app.test_client().get(f"{api}/submissions/{other}", headers=token)
        assert report.status_code == 404

    with get_engine(web_settings.database_url).connect() as conn:
        rows = dict(
            conn.execute(
                select(Assignment.course_id, Assignment.due).where(Assignment.slug == "activations")
            ).all()
        )
    assert set(rows) == {first, second} and rows[first] != rows[second]


def test_a_refused_upload_stores_nothing(
    client: FlaskClient, demo: DemoData, web_settings: Settings
) -> None:
    """The course's rate limit refuses the second hand-in: no bytes of it reach the disk."""
    teacher = client
    login(teacher, "instructor")
    _set(teacher, demo.course_id, "worker-tiny", rate_limit="1/3600", max_in_flight="")
    student = client.application.test_client()
    login(student, "student")
    _submission_id(hand_in(student, demo.course_id, "worker-tiny", [(GOOD, "tiny.py")]))
    stored = _stored_blobs(web_settings)
    assert len(stored) == 1
    for n in range(3):
        other_bytes = GOOD + f"\n# attempt {n}\n".encode()
        refused = hand_in(student, demo.course_id, "worker-tiny", [(other_bytes, "tiny.py")])
        assert refused.status_code == 429 and "at most 1" in refused.get_data(as_text=True)
    assert _stored_blobs(web_settings) == stored


def test_the_in_flight_cap_refuses_before_storing(
    client: FlaskClient, demo: DemoData, web_settings: Settings
) -> None:
    login(client, "instructor")
    _set(client, demo.course_id, "worker-tiny", max_in_flight="1")
    student = client.application.test_client()
    login(student, "student")
    _submission_id(hand_in(student, demo.course_id, "worker-tiny", [(GOOD, "tiny.py")]))
    stored = _stored_blobs(web_settings)
    refused = hand_in(student, demo.course_id, "worker-tiny", [(GOOD + b"\n#2\n", "tiny.py")])
    assert refused.status_code == 429 and "waiting to be graded" in refused.get_data(as_text=True)
    assert _stored_blobs(web_settings) == stored


def test_a_student_past_the_storage_quota_is_refused_with_the_figures(
    demo: DemoData, web_settings: Settings
) -> None:
    quota = len(GOOD) * 2 + 10  # room for two uploads of this size, not three
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test secret",
            "DLGRADE_SETTINGS": web_settings.with_(student_quota_bytes=quota),
            "DLGRADE_PUBLISH": None,
        }
    )
    student = _signed_in(app, "student")
    for n in range(2):
        upload = GOOD + f"#{n}\n".encode()
        _submission_id(hand_in(student, demo.course_id, "worker-tiny", [(upload, "tiny.py")]))
    stored = _stored_blobs(web_settings)
    refused = hand_in(student, demo.course_id, "worker-tiny", [(GOOD + b"#3\n", "tiny.py")])
    text = refused.get_data(as_text=True)
    assert refused.status_code == 429
    assert "each student may store" in text and "ask the course staff" in text
    assert _stored_blobs(web_settings) == stored
    token = token_for(web_settings, demo, "other")  # another student still has room
    other = app.test_client().post(
        f"/api/v1/courses/{demo.course_id}/assignments/worker-tiny/submissions",
        headers=bearer(token),
        data={"files": [(io.BytesIO(GOOD), "tiny.py")]},
        content_type="multipart/form-data",
    )
    assert other.status_code == 201


# -- uploaded folders: each course's own, and never imported by the portal -----------------


def _upload_zip(client: FlaskClient, course_id: int, data: bytes) -> int:
    token = csrf_token(client, f"/instructor/courses/{course_id}/")
    answer = client.post(
        f"/instructor/courses/{course_id}/uploads",
        data={"csrf_token": token, "file": (io.BytesIO(data), "assignment.zip")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)[-500:]
    return int(answer.headers["Location"].rsplit("/", 1)[1])


def _publish_upload(client: FlaskClient, course_id: int, upload_id: int) -> None:
    url = f"/instructor/courses/{course_id}/uploads/{upload_id}"
    answer = client.post(url + "/publish", data={"csrf_token": csrf_token(client, url)})
    assert answer.headers["Location"].endswith(f"/instructor/courses/{course_id}/")


def test_another_course_publishing_an_identical_zip_takes_nothing_of_the_first(
    app: Flask, demo: DemoData, second: int, web_settings: Settings, sandbox_envs: Path,
    tmp_path: Path,
) -> None:  # fmt: skip
    from grader.scaffold import new_assignment
    from tests.web.conftest import run_sent_validations
    from tests.web.test_instructor_uploads import _zip

    (web_settings.data_dir / "envs").symlink_to(sandbox_envs)
    folder = new_assignment("mse-shared", tmp_path)
    archive = _zip(folder)
    first = demo.course_id
    teacher, teacher2 = _signed_in(app, "instructor"), _signed_in(app, "instructor2")
    upload = _upload_zip(teacher, first, archive)
    assert run_sent_validations(app, web_settings) == ["valid"]
    _publish_upload(teacher, first, upload)
    ann = _signed_in(app, "student")
    solution = (folder / "solution" / "mse_shared.py").read_bytes()
    mine = _submission_id(hand_in(ann, first, "mse-shared", [(solution, "mse_shared.py")]))
    assert grade_queued(web_settings, sandbox_envs) == ["graded"]

    upload2 = _upload_zip(teacher2, second, archive)  # the same bytes, the same manifest hash
    assert run_sent_validations(app, web_settings) == ["valid"]
    _publish_upload(teacher2, second, upload2)

    assert ann.get(f"/submissions/{mine}").status_code == 200
    assert ann.get(f"/submissions/{mine}/report.json").status_code == 200
    base2 = f"/staff/courses/{second}"
    assert teacher2.get(f"{base2}/submissions/{mine}").status_code == 404
    listing = teacher2.get(f"{base2}/assignments/mse-shared/").get_data(as_text=True)
    assert f"/submissions/{mine}" not in listing
    archive2 = zipfile.ZipFile(
        io.BytesIO(teacher2.get(f"{base2}/assignments/mse-shared/submissions.zip").data)
    )
    assert [n for n in archive2.namelist() if n.endswith(".py")] == []
    token2 = bearer(token_for(web_settings, demo, "instructor2", scope="staff"))
    api2 = app.test_client()
    assert (
        api2.get(f"/api/v1/courses/{second}/submissions/{mine}", headers=token2).status_code == 404
    )
    listed = api2.get(
        f"/api/v1/courses/{second}/assignments/mse-shared/all-submissions", headers=token2
    )
    assert listed.get_json()["submissions"] == []
    # Course 1 keeps its assignment and its staff their view of it.
    assert (
        _signed_in(app, "ta").get(f"/staff/courses/{first}/submissions/{mine}").status_code == 200
    )
    with get_engine(web_settings.database_url).connect() as conn:
        owners = sorted(
            conn.scalars(select(Assignment.course_id).where(Assignment.slug == "mse-shared"))
        )
    assert owners == [first, second]


def test_an_uploaded_checks_py_is_imported_by_a_worker_never_by_the_portal(
    app: Flask, demo: DemoData, web_settings: Settings, sandbox_envs: Path, tmp_path: Path
) -> None:
    """The folder's checks.py leaves a mark named after the process that imports it: after
    the upload, its page, its publication and students' hand-ins, none is the portal's;
    the validation job, run by a worker process, imports it there."""
    import os
    import subprocess
    import sys

    from grader.scaffold import new_assignment
    from tests.web.test_instructor_uploads import _zip

    (web_settings.data_dir / "envs").symlink_to(sandbox_envs)
    marks = tmp_path / "imported-by"
    marks.mkdir()
    folder = new_assignment("mse-marked", tmp_path / "src")
    checks = folder / "checks.py"
    checks.write_text(
        f"import os as _os\nopen({str(marks)!r} + '/' + str(_os.getpid()), 'w').close()\n"
        + checks.read_text()
    )
    teacher = _signed_in(app, "instructor")
    upload = _upload_zip(teacher, demo.course_id, _zip(folder))
    page = teacher.get(f"/instructor/courses/{demo.course_id}/uploads/{upload}")
    assert "validating" in page.get_data(as_text=True)
    ((sent_id, queue, limit),) = app.config["SENT_VALIDATIONS"]
    assert (sent_id, queue) == (upload, "cpu") and limit > 120  # the gradings' limits and more
    assert list(marks.iterdir()) == []  # the portal has not imported it

    env = os.environ | {
        "DLGRADE_DATABASE_URL": web_settings.database_url,
        "DLGRADE_DATA_DIR": str(web_settings.data_dir),
        "DLGRADE_SANDBOX": "local",
    }
    worker = subprocess.run(
        [sys.executable, "-c", "import sys; from worker.config import load_settings; "
         "from worker.validation import validate_upload; "
         f"print(validate_upload(load_settings(), {upload}))"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert worker.stdout.strip().splitlines()[-1:] == ["valid"], worker.stderr[-2000:]
    marked = {p.name for p in marks.iterdir()}
    assert marked and str(os.getpid()) not in marked
    _publish_upload(teacher, demo.course_id, upload)
    # Students see it and hand in, through the page and the API: still not imported here.
    student = _signed_in(app, "student")
    assert student.get(f"/courses/{demo.course_id}/a/mse-marked").status_code == 200
    solution = (folder / "solution" / "mse_marked.py").read_bytes()
    _submission_id(hand_in(student, demo.course_id, "mse-marked", [(solution, "mse_marked.py")]))
    by_api = app.test_client().post(
        f"/api/v1/courses/{demo.course_id}/assignments/mse-marked/submissions",
        headers=bearer(token_for(web_settings, demo, "other")),
        data={"files": [(io.BytesIO(solution), "mse_marked.py")]},
        content_type="multipart/form-data",
    )
    assert by_api.status_code == 201
    assert str(os.getpid()) not in {p.name for p in marks.iterdir()}
    with get_engine(web_settings.database_url).connect() as conn:
        versions = conn.scalars(select(Assignment.id).where(Assignment.slug == "mse-marked")).all()
    assert len(versions) == 1  # both hand-ins went to the published row


# -- a new term in one step ------------------------------------------------------------------


def test_a_course_is_copied_into_a_new_term_with_its_assignments_and_settings(
    app: Flask, demo: DemoData, web_settings: Settings
) -> None:
    from tests.web.conftest import add_graded, report_doc
    from worker.models import CourseAudit, Enrollment, Extension, Submission

    teacher = _signed_in(app, "instructor")
    first = demo.course_id
    _set(
        teacher,
        first,
        "worker-tiny",
        due="2031-03-01 23:59",
        hidden_release="2031-03-08 00:00",
        counts="best",
        rate_limit="3/60",
        max_in_flight="2",
        late_penalty_per_day="15%",
    )
    url = f"/instructor/courses/{first}/assignments/worker-tiny/extensions"
    teacher.post(
        url,
        data={
            "csrf_token": csrf_token(teacher, f"/instructor/courses/{first}/"),
            "student": "student",
            "due": "2031-03-05 23:59",
            "comment": "ill",
        },
    )
    add_graded(
        web_settings,
        demo.assignments["worker-tiny"],
        demo.user_ids["student"],
        report_doc([{"name": "add", "score": 1.0, "max_score": 1.0, "status": "passed"}]),
    )
    page = teacher.get(f"/instructor/courses/{first}/").get_data(as_text=True)
    assert 'id="copy-course"' in page
    form = {
        "csrf_token": csrf_token(teacher, f"/instructor/courses/{first}/"),
        "slug": "dl-2031b",
        "title": "Deep learning, autumn 2031",
        "shift_days": "182",
    }
    made = teacher.post(f"/instructor/courses/{first}/copy", data=form)
    assert made.status_code == 302
    new = int(made.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    assert new != first
    assert "made with 2 assignments" in teacher.get(made.headers["Location"]).get_data(as_text=True)

    columns = (
        Assignment.slug,
        Assignment.manifest_hash,
        Assignment.path,
        Assignment.due,
        Assignment.hidden_release,
        Assignment.counts,
        Assignment.rate_limit,
        Assignment.max_in_flight,
        Assignment.late_penalty_per_day,
    )
    with get_engine(web_settings.database_url).connect() as conn:
        old = {
            r.slug: r for r in conn.execute(select(*columns).where(Assignment.course_id == first))
        }
        copied = {
            r.slug: r for r in conn.execute(select(*columns).where(Assignment.course_id == new))
        }
        members = conn.execute(
            select(Enrollment.user_id, Enrollment.role).where(Enrollment.course_id == new)
        ).all()
        extensions = conn.scalar(
            select(func.count()).select_from(Extension).where(Extension.course_id == new)
        )
        submissions = conn.scalar(
            select(func.count())
            .select_from(Submission)
            .join(Assignment, Assignment.id == Submission.assignment_id)
            .where(Assignment.course_id == new)
        )
        logged = conn.execute(
            select(CourseAudit.course_id, CourseAudit.action, CourseAudit.subject)
            .where(CourseAudit.action == "course copied")
            .order_by(CourseAudit.course_id)
        ).all()
    assert set(copied) == set(old) == {"worker-tiny", "activations"}
    tiny, was = copied["worker-tiny"], old["worker-tiny"]
    assert tiny.due == was.due + timedelta(days=182)
    assert tiny.hidden_release == was.hidden_release + timedelta(days=182)
    assert (tiny.counts, tiny.rate_limit, tiny.max_in_flight, tiny.late_penalty_per_day) == (
        "best",
        "3/60",
        2,
        0.15,
    )
    assert (tiny.manifest_hash, tiny.path) == (was.manifest_hash, was.path)
    assert members == [(demo.user_ids["instructor"], "instructor")]
    assert (extensions, submissions) == (0, 0)
    assert logged == [
        (first, "course copied", "to dl-2031b"),
        (new, "course copied", "from dl-foundations"),
    ]
    # The copy is a course of its own: its settings change, the old term's stay.
    _set(teacher, new, "worker-tiny", due="2031-09-20 23:59", counts="latest")
    with get_engine(web_settings.database_url).connect() as conn:
        still = conn.scalar(
            select(Assignment.due).where(
                Assignment.course_id == first, Assignment.slug == "worker-tiny"
            )
        )
    assert still == was.due
    assert _signed_in(app, "student").get(f"/courses/{new}").status_code == 404  # not enrolled
    again = teacher.post(f"/instructor/courses/{first}/copy", data=form | {"shift_days": "0"})
    assert "already a course dl-2031b" in teacher.get(again.headers["Location"]).get_data(
        as_text=True
    )


def test_the_api_copies_a_course_for_its_instructors_only(
    app: Flask, demo: DemoData, second: int, web_settings: Settings
) -> None:
    api = app.test_client()
    teacher = bearer(token_for(web_settings, demo, "instructor", scope="staff"))
    url = f"/api/v1/courses/{demo.course_id}/copy"
    body = {"slug": "dl-api-copy", "title": "DL by API", "shift_days": -7}
    for bad, why in (
        ({"slug": "X Y"}, "short name"),
        ({"shift_days": "a week"}, "whole number"),
        ({"shift_days": 5000}, "at most"),
    ):
        refused = api.post(url, json=body | bad, headers=teacher)
        assert refused.status_code == 400 and why in refused.get_json()["error"]
    for who, scope, expected in (
        ("ta", "staff", 404),
        ("instructor2", "staff", 404),
        ("student", "student", 404),
        ("instructor", "student", 403),
    ):
        token = bearer(token_for(web_settings, demo, who, scope=scope))
        assert api.post(url, json=body, headers=token).status_code == expected, who
    made = api.post(url, json=body, headers=teacher)
    assert made.status_code == 201
    doc = made.get_json()
    assert (doc["slug"], sorted(doc["assignments"]), doc["shift_days"]) == (
        "dl-api-copy",
        ["activations", "worker-tiny"],
        -7,
    )
    listed = api.get("/api/v1/courses", headers=teacher).get_json()
    assert "dl-api-copy" in str(listed)
    assert api.post(url, json=body, headers=teacher).status_code == 400  # the name is taken


# -- the instructors' pages: every route x every role x own course / other course ------------

INSTRUCTOR_PAGES = [
    ("GET", "/instructor/courses/{c}/"),
    ("POST", "/instructor/courses/{c}/assignments"),
    ("POST", "/instructor/courses/{c}/copy"),
    ("POST", "/instructor/courses/{c}/retry"),
    ("GET", "/instructor/courses/{c}/roster"),
    ("POST", "/instructor/courses/{c}/roster"),
    ("GET", "/instructor/courses/{c}/assignments/worker-tiny/settings"),
    ("POST", "/instructor/courses/{c}/assignments/worker-tiny/settings"),
    ("POST", "/instructor/courses/{c}/assignments/worker-tiny/extensions"),
    ("GET", "/instructor/courses/{c}/assignments/worker-tiny/starter.zip"),
    ("POST", "/instructor/courses/{c}/uploads"),
    ("GET", "/instructor/courses/{c}/uploads/{u}"),
    ("POST", "/instructor/courses/{c}/uploads/{u}/validate"),
    ("POST", "/instructor/courses/{c}/uploads/{u}/publish"),
    ("GET", "/instructor/courses/{c}/people"),
    ("POST", "/instructor/courses/{c}/people/{p}/password"),
]


def _an_upload(settings: Settings, course_id: int, by: int, tmp_path: Path) -> int:
    from worker.models import AssignmentUpload

    with get_engine(settings.database_url).begin() as conn:
        return int(
            conn.scalar(
                insert(AssignmentUpload)
                .values(
                    course_id=course_id,
                    slug="x",
                    path=str(tmp_path),
                    status="invalid",
                    uploaded_by=by,
                )
                .returning(AssignmentUpload.id)
            )
        )


@pytest.mark.parametrize("who", ["ta", "student", "instructor2", "ta_b", "student_b", "admin"])
def test_only_the_courses_own_instructors_reach_its_instructor_pages(
    app: Flask, demo: DemoData, second: int, web_settings: Settings, tmp_path: Path, who: str
) -> None:
    """The course's TA and student, the other course's instructor, TA and student, and a site
    administrator (who opens no course by being one): 404 on every instructor route of the
    course, GET or POST (with a valid CSRF token), and nothing is changed or logged; the
    course's instructor reaches each one."""
    from worker.models import CourseAudit

    upload = _an_upload(web_settings, demo.course_id, demo.user_ids["instructor"], tmp_path)
    client = _signed_in(app, who)
    token = csrf_token(client, "/account/tokens")
    owner = _signed_in(app, "instructor")
    owner_token = csrf_token(owner, "/account/tokens")
    for method, shape in INSTRUCTOR_PAGES:
        url = shape.format(c=demo.course_id, u=upload, p=demo.user_ids["student"])
        if method == "GET":
            assert client.get(url).status_code == 404, (who, url)
            assert owner.get(url).status_code == 200, url
        else:
            form = {
                "csrf_token": token,
                "slug": "dl-stolen",
                "title": "T",
                "student": "student",
                "due": "2031-01-01 00:00",
                "counts": "best",
                "csv": "login\nx",
            }
            assert client.post(url, data=form).status_code == 404, (who, url)
    with get_engine(web_settings.database_url).connect() as conn:
        assert conn.scalars(select(CourseAudit.action)).all() == []
    assert (
        owner.post(
            f"/instructor/courses/{demo.course_id}/copy",
            data={"csrf_token": owner_token, "slug": "dl-own", "title": "T"},
        ).status_code
        == 302
    )


def test_the_instructor_table_names_every_instructor_route_of_a_course(app: Flask) -> None:
    import re

    routed = {
        (m, re.sub(r"<(?:\w+:)?(\w+)>", "{}", rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/instructor/courses/<")
        for m in rule.methods - {"HEAD", "OPTIONS"}
    }
    table = {(m, re.sub(r"\{\w\}|worker-tiny", "{}", p)) for m, p in INSTRUCTOR_PAGES}
    assert routed == table
