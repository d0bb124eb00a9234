"""Instructors: roster import with a preview (its edge cases), assignment settings,
extensions and new courses, every change in the audit log; TAs and students get 404."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import datetime

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.web.conftest import add_graded, csrf_token, login, report_doc
from tests.web.test_api import bearer, token_for
from web.demo import DemoData
from worker.config import Settings
from worker.db import get_engine
from worker.models import (
    Assignment,
    Course,
    CourseAudit,
    Enrollment,
    Extension,
    Submission,
    User,
)

HEADER = "Student,ID,SIS User ID,SIS Login ID,Section,Email,Role\n"
DOC = report_doc([{"name": "add", "score": 1.0, "max_score": 1.0, "status": "passed"}])


def _roster(client: FlaskClient, course_id: int, text: str, action: str, drop: bool = True):  # type: ignore[no-untyped-def]
    url = f"/instructor/courses/{course_id}/roster"
    data = {"csrf_token": csrf_token(client, url), "action": action, "csv": text}
    if drop:
        data["drop_missing"] = "1"
    if action == "preview":
        data["file"] = (io.BytesIO(text.encode()), "roster.csv")
    return client.post(url, data=data, content_type="multipart/form-data")


def _enrolled(settings: Settings, course_id: int) -> dict[str, tuple[str, str]]:
    with get_engine(settings.database_url).connect() as conn:
        rows = conn.execute(
            select(User.name, Enrollment.role, Enrollment.section)
            .join(Enrollment, Enrollment.user_id == User.id)
            .where(Enrollment.course_id == course_id)
        ).all()
    return {name: (role, section) for name, role, section in rows}


def _audit(settings: Settings) -> list[CourseAudit]:
    with get_engine(settings.database_url).connect() as conn:
        return list(conn.execute(select(CourseAudit).order_by(CourseAudit.id)).all())


def _full_roster(extra: str = "") -> str:
    """Everyone the demo course has, plus ``extra`` rows (Canvas's columns)."""
    return (
        HEADER
        + "    Points Possible,,,,,,\n"
        + "Stu Dent,1,s-001,student,A,student@uni.edu,student\n"
        + "Oth Er,2,s-002,other,A,other@uni.edu,student\n"
        + extra
    )


def test_preview_changes_nothing_apply_adds_updates_and_a_second_import_is_a_no_op(
    app: Flask, demo: DemoData, web_settings: Settings
) -> None:
    client = app.test_client()
    login(client, "instructor")
    text = _full_roster("New Person,3,s-003,newbie,B,newbie@uni.edu,student\n")
    before = _enrolled(web_settings, demo.course_id)
    preview = _roster(client, demo.course_id, text, "preview")
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "1 to add, 2 to update, 0 to drop, 0 unchanged, 0 errors" in html
    assert _enrolled(web_settings, demo.course_id) == before and _audit(web_settings) == []
    done = _roster(client, demo.course_id, text, "apply")
    page = done.get_data(as_text=True)
    password = re.search(r"<td>newbie</td><td><code>([^<]+)</code>", page).group(1)
    assert done.headers["Cache-Control"] == "no-store"
    after = _enrolled(web_settings, demo.course_id)
    assert after["newbie"] == ("student", "B") and after["student"] == ("student", "A")
    assert after["ta"] == before["ta"] and after["instructor"] == before["instructor"]
    with get_engine(web_settings.database_url).connect() as conn:
        email, sid, full = conn.execute(
            select(User.email, User.student_id, User.full_name).where(User.name == "newbie")
        ).one()
    assert (email, sid, full) == ("newbie@uni.edu", "s-003", "New Person")
    (entry,) = _audit(web_settings)
    assert entry.action == "roster import" and entry.after["added"] == ["newbie"]
    assert sorted(entry.after["updated"]) == ["other", "student"]
    newcomer = app.test_client()
    assert login(newcomer, "newbie", password).status_code == 302  # the shown password works
    again = _roster(client, demo.course_id, text, "preview").get_data(as_text=True)
    assert "0 to add, 0 to update, 0 to drop, 3 unchanged, 0 errors" in again
    _roster(client, demo.course_id, text, "apply")
    assert _enrolled(web_settings, demo.course_id) == after
    assert len(_audit(web_settings)) == 2  # logged, and nothing changed


def test_duplicate_rows_exact_ones_count_once_disagreeing_ones_refuse_the_import(
    client: FlaskClient, demo: DemoData, web_settings: Settings
) -> None:
    login(client, "instructor")
    row = "New Person,3,s-003,newbie,B,newbie@uni.edu,student\n"
    twice = _roster(client, demo.course_id, _full_roster(row + row), "preview")
    assert "1 to add, 2 to update" in twice.get_data(as_text=True)
    clash = _full_roster(row + "New Person,3,s-003,newbie,C,newbie@uni.edu,student\n")
    preview = _roster(client, demo.course_id, clash, "preview").get_data(as_text=True)
    assert "1 errors" in preview and "disagree" in preview and "Apply these changes" not in preview
    before = _enrolled(web_settings, demo.course_id)
    refused = _roster(client, demo.course_id, clash, "apply")
    assert refused.status_code == 400 and "has errors" in refused.get_data(as_text=True)
    assert _enrolled(web_settings, demo.course_id) == before and _audit(web_settings) == []
    one_id = _full_roster("A,3,s-001,someone,A,a@uni.edu,student\n")
    same_id = _roster(client, demo.course_id, one_id, "preview").get_data(as_text=True)
    assert "student id s-001 is also student&#39;s" in same_id


def test_a_changed_email_updates_the_same_account_and_its_submissions_stay_its_own(
    client: FlaskClient, demo: DemoData, web_settings: Settings
) -> None:
    login(client, "instructor")
    sub = add_graded(web_settings, demo.assignments["worker-tiny"], demo.user_ids["other"], DOC)
    _roster(client, demo.course_id, _full_roster(), "apply")
    moved = _full_roster().replace("other@uni.edu", "other.new@uni.edu")
    preview = _roster(client, demo.course_id, moved, "preview").get_data(as_text=True)
    assert "0 to add, 1 to update" in preview
    assert "email: other@uni.edu → other.new@uni.edu" in preview
    _roster(client, demo.course_id, moved, "apply")
    # A university whose logins are emails: the login changes too, matched by student id.
    renamed = moved.replace(",other,", ",other.new@uni.edu,")
    _roster(client, demo.course_id, renamed, "apply")
    with get_engine(web_settings.database_url).connect() as conn:
        uid, email = conn.execute(
            select(User.id, User.email).where(User.student_id == "s-002")
        ).one()
        owner = conn.scalar(select(Submission.user_id).where(Submission.id == sub))
    assert (uid, email, owner) == (demo.user_ids["other"], "other.new@uni.edu", uid)
    assert "other.new@uni.edu" in _enrolled(web_settings, demo.course_id)


def test_a_dropped_student_keeps_their_submissions_and_comes_back_with_them(
    app: Flask, demo: DemoData, web_settings: Settings
) -> None:
    client = app.test_client()
    login(client, "instructor")
    sub = add_graded(web_settings, demo.assignments["worker-tiny"], demo.user_ids["other"], DOC)
    without = _full_roster().replace("Oth Er,2,s-002,other,A,other@uni.edu,student\n", "")
    kept = _roster(client, demo.course_id, without, "preview", drop=False).get_data(as_text=True)
    assert "0 to drop" in kept
    preview = _roster(client, demo.course_id, without, "preview").get_data(as_text=True)
    assert "1 to drop" in preview and "their submissions are kept" in preview
    _roster(client, demo.course_id, without, "apply")
    assert "other" not in _enrolled(web_settings, demo.course_id)
    assert "ta" in _enrolled(web_settings, demo.course_id)  # staff are never dropped
    with get_engine(web_settings.database_url).connect() as conn:
        assert conn.scalar(select(Submission.user_id).where(Submission.id == sub)) is not None
    dropped = app.test_client()
    login(dropped, "other")
    assert dropped.get(f"/courses/{demo.course_id}").status_code == 404
    assert _audit(web_settings)[-1].after["dropped"] == ["other"]
    _roster(client, demo.course_id, _full_roster(), "apply")  # enrolled again
    assert dropped.get(f"/submissions/{sub}").status_code == 200
    book = client.get(f"/staff/courses/{demo.course_id}/").get_data(as_text=True)
    assert f"/submissions/{sub}" in book


def test_nobody_changes_their_own_role_by_an_import(
    client: FlaskClient, demo: DemoData, web_settings: Settings
) -> None:
    login(client, "instructor")
    text = _full_roster("Me,9,,instructor,,,student\n")
    preview = _roster(client, demo.course_id, text, "preview").get_data(as_text=True)
    assert "nobody changes their own role" in preview
    assert _enrolled(web_settings, demo.course_id)["instructor"][0] == "instructor"


def test_tas_students_and_site_admins_get_404_on_every_instructor_page(
    app: Flask, demo: DemoData, web_settings: Settings
) -> None:
    for who in ("ta", "student", "ta2", "admin"):
        client = app.test_client()
        login(client, who)
        base = f"/instructor/courses/{demo.course_id}"
        for url in (f"{base}/", f"{base}/roster", f"{base}/assignments/worker-tiny/settings"):
            assert client.get(url).status_code == 404, (who, url)
        token = csrf_token(client, "/account/tokens")
        posted = client.post(
            f"{base}/assignments/worker-tiny/settings",
            data={"csrf_token": token, "counts": "best", "grace_minutes": "5"},
        )
        assert posted.status_code == 404
        course = {"csrf_token": token, "slug": "x-1", "title": "X"}
        assert client.post("/instructor/courses", data=course).status_code == 404
    assert _audit(web_settings) == []


def _versions(settings: Settings, slug: str) -> list[tuple]:
    with get_engine(settings.database_url).connect() as conn:
        return conn.execute(
            select(Assignment.due, Assignment.counts, Assignment.late_penalty_per_day).where(
                Assignment.slug == slug
            )
        ).all()


def test_assignment_settings_change_every_version_and_are_logged(
    client: FlaskClient, demo: DemoData, web_settings: Settings
) -> None:
    login(client, "instructor")
    url = f"/instructor/courses/{demo.course_id}/assignments/worker-tiny/settings"
    form = {
        "csrf_token": csrf_token(client, url),
        "due": "2027-03-01 23:59",
        "hidden_release": "",
        "grace_minutes": "10",
        "late_penalty_per_day": "20%",
        "late_penalty_cap": "",
        "accept_late": "1",
        "counts": "best",
    }
    bad = client.post(url, data=form | {"late_penalty_per_day": "lots"})
    assert bad.status_code == 400 and "not a number" in bad.get_data(as_text=True)
    assert client.post(url, data=form).status_code == 302
    assert _versions(web_settings, "worker-tiny") == [(datetime(2027, 3, 1, 23, 59), "best", 0.2)]
    (entry,) = _audit(web_settings)
    assert entry.action == "assignment settings" and entry.subject == "assignment worker-tiny"
    assert entry.after == {"due": "2027-03-01T23:59:00Z", "grace_minutes": 10,
                           "late_penalty_per_day": 0.2, "counts": "best"}  # fmt: skip
    assert entry.before["counts"] == "latest" and entry.before["due"] is None
    client.post(url, data=form)  # the same values again: nothing to log
    assert len(_audit(web_settings)) == 1
    overview = client.get(f"/instructor/courses/{demo.course_id}/").get_data(as_text=True)
    # The audit log reads as a sentence, not as the JSON it is stored as.
    assert (
        "instructor: assignment settings (assignment worker-tiny): due from none to "
        "2027-03-01 23:59 UTC; grace minutes from 0 to 10; late penalty per day from 0.0 to 0.2; "
        "counts from latest to best."
    ) in html.unescape(overview)
    assert "{&#34;" not in overview and '{"' not in overview


def test_extensions_are_granted_to_students_only_and_logged(
    client: FlaskClient, demo: DemoData, web_settings: Settings
) -> None:
    login(client, "instructor")
    url = f"/instructor/courses/{demo.course_id}/assignments/worker-tiny/extensions"
    token = csrf_token(client, f"/instructor/courses/{demo.course_id}/")
    data = {"csrf_token": token, "due": "2027-03-04 12:00", "comment": "medical"}
    client.post(url, data=data | {"student": "ta"})
    client.post(url, data=data | {"student": "ta2"})
    with get_engine(web_settings.database_url).connect() as conn:
        assert conn.scalar(select(Extension.id)) is None
    client.post(url, data=data | {"student": "student"})
    student = token_for(web_settings, demo, "student")
    mine = client.get(
        f"/api/v1/courses/{demo.course_id}/assignments/worker-tiny", headers=bearer(student)
    ).get_json()
    assert mine["extension"] == "2027-03-04T12:00:00Z"
    client.post(url, data={"csrf_token": token, "student": "student", "due": ""})  # removed
    with get_engine(web_settings.database_url).connect() as conn:
        assert conn.scalar(select(Extension.id)) is None
    granted, removed = _audit(web_settings)
    assert granted.after["due"] == "2027-03-04T12:00:00Z" and granted.before["due"] is None
    assert removed.before["due"] == "2027-03-04T12:00:00Z" and removed.after["due"] is None


def test_an_instructor_creates_a_course_and_runs_it(
    client: FlaskClient, demo: DemoData, web_settings: Settings
) -> None:
    login(client, "instructor")
    token = csrf_token(client, "/instructor/")
    made = client.post(
        "/instructor/courses",
        data={"csrf_token": token, "slug": "dl-2027", "title": "Deep Learning, Spring 2027"},
    )
    assert made.status_code == 302
    with get_engine(web_settings.database_url).connect() as conn:
        course_id = conn.scalar(select(Course.id).where(Course.slug == "dl-2027"))
    assert _enrolled(web_settings, course_id) == {"instructor": ("instructor", "")}
    assert client.get(made.headers["Location"]).status_code == 200
    again = client.post(
        "/instructor/courses", data={"csrf_token": token, "slug": "dl-2027", "title": "Again"}
    )
    assert again.status_code == 302 and len(_audit(web_settings)) == 1


def test_the_api_previews_and_applies_a_roster_for_instructors_only(
    client: FlaskClient, demo: DemoData, web_settings: Settings
) -> None:
    text = _full_roster("New Person,3,s-003,newbie,B,newbie@uni.edu,ta\n")
    url = f"/api/v1/courses/{demo.course_id}/roster"
    ta = bearer(token_for(web_settings, demo, "ta", "staff"))
    assert client.post(url, json={"csv": text, "apply": True}, headers=ta).status_code == 404
    teacher = bearer(token_for(web_settings, demo, "instructor", "staff"))
    preview = client.post(url, json={"csv": text}, headers=teacher).get_json()
    assert preview["applied"] is False and preview["counts"]["add"] == 1
    assert "newbie" not in _enrolled(web_settings, demo.course_id)
    done = client.post(
        url,
        data={"file": (io.BytesIO(text.encode()), "roster.csv")},
        query_string={"apply": "1"},
        content_type="multipart/form-data",
        headers=teacher,
    )
    assert done.status_code == 201 and set(done.get_json()["passwords"]) == {"newbie"}
    assert _enrolled(web_settings, demo.course_id)["newbie"] == ("ta", "B")
    settings_url = f"/api/v1/courses/{demo.course_id}/assignments/worker-tiny/settings"
    body = {"due": "2027-03-01T23:59:00Z", "counts": "best", "accept_late": False}
    put = client.put(settings_url, json=body, headers=teacher).get_json()
    assert put["settings"]["counts"] == "best" and put["settings"]["accept_late"] is False
    assert set(put["changed"]) == {"due", "counts", "accept_late"}
    log = client.get(f"/api/v1/courses/{demo.course_id}/audit", headers=ta).get_json()
    assert [e["action"] for e in log["entries"]] == ["assignment settings", "roster import"]


def test_the_overview_counts_the_queue_and_retries_failed_gradings(
    client: FlaskClient, demo: DemoData, web_settings: Settings
) -> None:
    from sqlalchemy import update

    from worker.models import GradeRun

    tiny = demo.assignments["worker-tiny"]
    fine = add_graded(web_settings, tiny, demo.user_ids["student"], DOC)
    broken = add_graded(web_settings, tiny, demo.user_ids["other"], DOC)
    with get_engine(web_settings.database_url).begin() as conn:
        conn.execute(
            update(GradeRun)
            .where(GradeRun.submission_id == broken)
            .values(status="error", error="the sandbox image is missing")
        )
    login(client, "instructor")
    page = client.get(f"/instructor/courses/{demo.course_id}/").get_data(as_text=True)
    assert "0 waiting, 0 being graded" in page
    failed = page.split('id="failed"')[1].split("</table>")[0]
    assert "the sandbox image is missing" in failed and f">{broken}</a>" in failed
    assert f">{fine}</a>" not in failed
    token = csrf_token(client, f"/instructor/courses/{demo.course_id}/")
    client.post(
        f"/instructor/courses/{demo.course_id}/retry",
        data={"csrf_token": token, "submission": str(broken)},
    )
    with get_engine(web_settings.database_url).connect() as conn:
        runs = conn.execute(
            select(GradeRun.submission_id, GradeRun.status, GradeRun.requested_by).where(
                GradeRun.status == "queued"
            )
        ).all()
    assert runs == [(broken, "queued", demo.user_ids["instructor"])]
    page = client.get(f"/instructor/courses/{demo.course_id}/").get_data(as_text=True)
    assert "1 waiting, 0 being graded" in page
    (entry,) = _audit(web_settings)
    assert entry.action == "retry failed gradings" and entry.after["submissions"] == [broken]


def test_a_built_in_assignment_is_added_once_per_course_and_each_course_has_its_own_row(
    client: FlaskClient, demo: DemoData, web_settings: Settings
) -> None:
    """A second course offers a built-in the first one offers: a row of its own, the first
    course's row untouched."""
    login(client, "instructor")
    token = csrf_token(client, "/instructor/")
    client.post("/instructor/courses", data={"csrf_token": token, "slug": "dl-2027", "title": "T"})
    with get_engine(web_settings.database_url).connect() as conn:
        course_id = conn.scalar(select(Course.id).where(Course.slug == "dl-2027"))
    page = client.get(f"/instructor/courses/{course_id}/").get_data(as_text=True)
    assert '<option value="losses">losses</option>' in page
    assert '<option value="activations">activations</option>' in page  # the demo's too
    url = f"/instructor/courses/{course_id}/assignments"
    for slug in ("activations", "losses"):
        added = client.post(url, data={"csrf_token": token, "slug": slug})
        assert added.headers["Location"].endswith(
            f"/courses/{course_id}/assignments/{slug}/settings"
        )
    with get_engine(web_settings.database_url).connect() as conn:
        rows = conn.execute(
            select(Assignment.id, Assignment.course_id).where(Assignment.slug == "activations")
        ).all()
    assert sorted(rows) == [
        (demo.assignments["activations"], demo.course_id),
        (rows[1][0], course_id),
    ]
    page = client.get(f"/instructor/courses/{course_id}/").get_data(as_text=True)
    assert 'value="activations"' not in page  # offered now: not offered twice
    again = client.post(url, data={"csrf_token": token, "slug": "activations"})
    assert again.status_code == 302
    with get_engine(web_settings.database_url).connect() as conn:
        assert (
            conn.scalar(
                select(func.count())
                .select_from(Assignment)
                .where(Assignment.course_id == course_id)
            )
            == 2
        )
    assert [e.action for e in _audit(web_settings)] == [
        "course created", "assignment added", "assignment added"
    ]  # fmt: skip


def test_the_starter_students_download_is_one_click_from_the_settings(
    app: Flask, demo: DemoData
) -> None:
    import zipfile

    from grader.config import REPO_ROOT

    client = app.test_client()
    login(client, "instructor")
    base = f"/instructor/courses/{demo.course_id}/assignments/activations"
    assert f'href="{base}/starter.zip"' in client.get(f"{base}/settings").get_data(as_text=True)
    got = client.get(f"{base}/starter.zip")
    files = zipfile.ZipFile(io.BytesIO(got.data))
    expected = (REPO_ROOT / "assignments/activations/starter/activations.py").read_text()
    assert files.read("activations/activations.py").decode() == expected
    ta = app.test_client()
    login(ta, "ta")
    assert ta.get(f"{base}/starter.zip").status_code == 404


def test_the_courses_rate_limit_is_the_one_shown_and_enforced(
    client: FlaskClient, demo: DemoData, web_settings: Settings
) -> None:
    from tests.web.test_api import GOOD, _submit

    login(client, "instructor")
    url = f"/instructor/courses/{demo.course_id}/assignments/worker-tiny/settings"
    form = {"csrf_token": csrf_token(client, url), "accept_late": "1", "counts": "latest"}
    for bad in ("ten", "0/60", "5/inf"):
        assert client.post(url, data=form | {"rate_limit": bad}).status_code == 400, bad
    assert client.post(url, data=form | {"rate_limit": "1/3600"}).status_code == 302
    (entry,) = _audit(web_settings)
    assert (entry.before["rate_limit"], entry.after["rate_limit"]) == (None, "1/3600")
    student = token_for(web_settings, demo, "student")
    shown = client.get(
        f"/api/v1/courses/{demo.course_id}/assignments/worker-tiny", headers=bearer(student)
    ).get_json()
    assert shown["rate_limit"] == {"count": 1, "window_s": 3600.0}
    assert _submit(client, student, demo.course_id, [(GOOD, "tiny.py")]).status_code == 201
    second = _submit(client, student, demo.course_id, [(GOOD, "tiny.py")])
    assert second.status_code == 429 and "at most 1" in second.get_json()["error"]


def test_the_courses_in_flight_cap_refuses_while_earlier_ones_wait(
    client: FlaskClient, demo: DemoData, web_settings: Settings
) -> None:
    from tests.web.test_api import GOOD, _submit

    login(client, "instructor")
    url = f"/instructor/courses/{demo.course_id}/assignments/worker-tiny/settings"
    form = {"csrf_token": csrf_token(client, url), "accept_late": "1", "counts": "latest"}
    assert client.post(url, data=form | {"max_in_flight": "0"}).status_code == 400
    assert client.post(url, data=form | {"max_in_flight": "2"}).status_code == 302
    (entry,) = _audit(web_settings)
    assert (entry.before["max_in_flight"], entry.after["max_in_flight"]) == (None, 2)
    student = token_for(web_settings, demo, "student")
    for _ in range(2):
        assert _submit(client, student, demo.course_id, [(GOOD, "tiny.py")]).status_code == 201
    third = _submit(client, student, demo.course_id, [(GOOD, "tiny.py")])
    assert third.status_code == 429 and "worker-tiny waiting" in third.get_json()["error"]
    other = token_for(web_settings, demo, "other")  # the cap is per student
    assert _submit(client, other, demo.course_id, [(GOOD, "tiny.py")]).status_code == 201


def test_the_roster_reaches_the_lms_export(
    app: Flask, demo: DemoData, web_settings: Settings
) -> None:
    """Canvas matches students on SIS User ID: the export carries what the roster said."""
    client = app.test_client()
    login(client, "instructor")
    text = _full_roster("New Person,3,s-003,newbie,B,newbie@uni.edu,student\n")
    assert _roster(client, demo.course_id, text, "apply").status_code == 200
    answer = client.get(f"/staff/courses/{demo.course_id}/gradebook.csv")
    table = list(csv.reader(io.StringIO(answer.get_data(as_text=True))))
    by_login = {row[3]: row[:5] for row in table[2:]}
    assert by_login["newbie"] == ["New Person", "", "s-003", "newbie", "B"]
    assert by_login["student"] == ["Stu Dent", "", "s-001", "student", "A"]


# -- the grading queue (cpu or gpu) of an assignment ---------------------------------------


def _queues(settings: Settings, slug: str) -> list[str]:
    with get_engine(settings.database_url).connect() as conn:
        return list(conn.scalars(select(Assignment.queue).where(Assignment.slug == slug)))


def _runs(settings: Settings) -> list[tuple[int, str]]:
    """Each run's submission and the queue it was stored with, oldest first."""
    from worker.models import GradeRun

    with get_engine(settings.database_url).connect() as conn:
        rows = conn.execute(select(GradeRun.submission_id, GradeRun.queue).order_by(GradeRun.id))
        return [(sub, queue) for sub, queue in rows]


def _all_runs_done(settings: Settings) -> None:
    """Gradings finished (no worker runs here), so a regrade is not skipped as in flight."""
    from sqlalchemy import update

    from worker.models import GradeRun

    with get_engine(settings.database_url).begin() as conn:
        conn.execute(update(GradeRun).values(status="done"))


def test_the_queue_is_chosen_on_the_settings_page_next_to_what_the_manifest_prefers(
    client: FlaskClient, demo: DemoData, web_settings: Settings
) -> None:
    login(client, "instructor")
    url = f"/instructor/courses/{demo.course_id}/assignments/worker-tiny/settings"
    page = client.get(url).get_data(as_text=True)
    assert '<option value="cpu" selected>cpu</option><option value="gpu" >gpu</option>' in page
    assert "The assignment's manifest prefers: cpu." in page
    assert "New runs go to: cpu." in page
    form = {
        "csrf_token": csrf_token(client, url),
        "due": "",
        "hidden_release": "",
        "grace_minutes": "0",
        "late_penalty_per_day": "0",
        "late_penalty_cap": "",
        "accept_late": "1",
        "counts": "latest",
        "rate_limit": "",
        "max_in_flight": "",
    }
    bad = client.post(url, data=form | {"queue": "tpu"})
    assert bad.status_code == 400 and "queue: cpu or gpu, not &#39;tpu&#39;" in bad.get_data(
        as_text=True
    )
    assert _queues(web_settings, "worker-tiny") == ["cpu"] and _audit(web_settings) == []
    assert client.post(url, data=form | {"queue": "gpu"}).status_code == 302
    assert _queues(web_settings, "worker-tiny") == ["gpu"]
    (entry,) = _audit(web_settings)
    assert (entry.action, entry.subject) == ("assignment settings", "assignment worker-tiny")
    assert (entry.before, entry.after) == ({"queue": "cpu"}, {"queue": "gpu"})
    page = client.get(url).get_data(as_text=True)
    assert '<option value="cpu" >cpu</option><option value="gpu" selected>gpu</option>' in page
    # This deployment has no GPU workers (DLGRADE_GPU_QUEUE off), and the CPU manifest's
    # limits are a CPU's: the page says where a run goes all the same.
    assert (
        "New runs go to: cpu (graded on a CPU worker (DLGRADE_GPU_QUEUE=off: no GPU workers))."
        in page
    )


def test_the_queue_set_through_the_api_decides_where_submissions_and_regrades_go(
    app: Flask, client: FlaskClient, demo: DemoData, web_settings: Settings
) -> None:
    from tests.web.test_api import GOOD, _submit

    app.config["DLGRADE_SETTINGS"] = web_settings.with_(gpu_queue="on")  # GPU workers exist
    url = f"/api/v1/courses/{demo.course_id}/assignments/worker-tiny/settings"
    body = {"accept_late": True, "counts": "latest", "queue": "gpu"}
    # A student may not change it, nor may the instructor with a student-scoped token.
    student = bearer(token_for(web_settings, demo, "student"))
    assert client.put(url, json=body, headers=student).status_code == 404
    scoped = client.put(url, json=body, headers=bearer(token_for(web_settings, demo, "instructor")))
    assert scoped.status_code == 403
    assert _queues(web_settings, "worker-tiny") == ["cpu"] and _audit(web_settings) == []

    teacher = bearer(token_for(web_settings, demo, "instructor", "staff"))
    shown = client.get(url, headers=teacher).get_json()
    assert shown["settings"]["queue"] == "cpu"
    assert shown["manifest"] == {"queue": "cpu", "cpu_fallback": False, "says": "cpu"}
    assert shown["new_runs"] == {"queue": "cpu", "note": ""}
    bad = client.put(url, json=body | {"queue": "tpu"}, headers=teacher)
    assert bad.status_code == 400
    assert bad.get_json()["error"] == "settings not saved: queue: cpu or gpu, not 'tpu'"
    put = client.put(url, json=body, headers=teacher).get_json()
    assert put["changed"] == ["queue"] and put["settings"]["queue"] == "gpu"
    assert put["new_runs"] == {"queue": "gpu", "note": ""}
    assert _queues(web_settings, "worker-tiny") == ["gpu"]
    # Left out, the queue stays as it is (a client that predates it moves nothing).
    kept = client.put(url, json={"accept_late": True, "counts": "latest"}, headers=teacher)
    assert kept.get_json()["changed"] == [] and _queues(web_settings, "worker-tiny") == ["gpu"]
    log = client.get(f"/api/v1/courses/{demo.course_id}/audit", headers=teacher).get_json()
    (entry,) = log["entries"]
    assert (entry["action"], entry["by"]) == ("assignment settings", "instructor")
    assert (entry["before"], entry["after"]) == ({"queue": "cpu"}, {"queue": "gpu"})

    token = token_for(web_settings, demo, "student")
    on_gpu = _submit(client, token, demo.course_id, [(GOOD, "tiny.py")]).get_json()
    assert on_gpu["queue"] == "gpu"
    client.put(url, json=body | {"queue": "cpu"}, headers=teacher)
    on_cpu = _submit(client, token, demo.course_id, [(GOOD, "tiny.py")]).get_json()
    assert on_cpu["queue"] == "cpu"
    assert _runs(web_settings) == [(on_gpu["id"], "gpu"), (on_cpu["id"], "cpu")]

    # A regrade goes where the setting says now, whatever its first grading's queue was.
    _all_runs_done(web_settings)
    ta = bearer(token_for(web_settings, demo, "ta", "staff"))
    base = f"/api/v1/courses/{demo.course_id}/submissions"
    assert client.post(f"{base}/{on_gpu['id']}/regrade", headers=ta).status_code == 202
    client.put(url, json=body | {"queue": "gpu"}, headers=teacher)
    assert client.post(f"{base}/{on_cpu['id']}/regrade", headers=ta).status_code == 202
    assert _runs(web_settings)[2:] == [(on_gpu["id"], "cpu"), (on_cpu["id"], "gpu")]


def test_the_settings_an_api_get_returns_can_be_put_back_unchanged(
    client: FlaskClient, demo: DemoData, web_settings: Settings
) -> None:
    """A script reads, edits one field, writes back: unset dates come as null and must go
    back as null (they were read as the text 'None' and refused as a date)."""
    url = f"/api/v1/courses/{demo.course_id}/assignments/worker-tiny/settings"
    teacher = bearer(token_for(web_settings, demo, "instructor", "staff"))
    first = client.put(
        url, json={"counts": "latest", "due": None, "hidden_release": None}, headers=teacher
    )
    assert first.status_code == 200, first.get_json()
    shown = client.get(url, headers=teacher).get_json()["settings"]
    assert shown["due"] is None and shown["hidden_release"] is None
    again = client.put(url, json=shown, headers=teacher)
    assert again.status_code == 200, again.get_json()
    assert again.get_json()["changed"] == []
    dated = client.put(url, json=shown | {"due": "2027-03-02 23:59"}, headers=teacher)
    assert dated.get_json()["changed"] == ["due"]
    shown = client.get(url, headers=teacher).get_json()["settings"]
    back = client.put(url, json=shown, headers=teacher)
    assert (back.status_code, back.get_json()["changed"]) == (200, [])


def test_an_audit_entry_reads_as_a_sentence_whatever_it_changed() -> None:
    from web.instructor.audit import changes

    assert changes({}, {"added": ["ann", "bob"], "accept_late": True}) == [
        "added ann, bob",
        "accept late yes",
    ]
    assert changes({"due": "2027-03-04T12:00:00Z"}, {"due": None}) == [
        "due from 2027-03-04 12:00 UTC to none"
    ]
    assert changes({"role": "ta"}, {}) == ["role was ta"]
    assert changes({"counts": "best"}, {"counts": "best"}) == []  # unchanged: not said
