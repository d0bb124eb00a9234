"""The staff pages with Flask's test client: who may reach them, what they show, what they do.

Every staff route is tried by four people: a TA of the course (allowed), a TA
of another course, a student of the course, and someone signed out (all three
refused, with nothing of the course in the answer).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import insert, select

from grader.messages import TA_FLAGS, CheckResult, CheckStatus, GradeReport, ReportStatus
from tests.web.conftest import add_graded, csrf_token, login
from web.demo import DemoData
from worker.config import Settings
from worker.db import get_engine, session_factory
from worker.models import (
    Assignment,
    Course,
    GradeRun,
    ScoreOverride,
    Submission,
    User,
    utcnow,
)
from worker.storage import store_blob

SLUG = "activations"


def report(score: float, *, output: str = "", message: str = "", hidden_seed: int = 0) -> dict:
    """An activations-like report: two visible checks and a hidden one."""
    checks = (
        CheckResult("relu", 2.0 if score >= 2 else 0.0, 2.0, CheckStatus.PASSED, "", seconds=0.01),
        CheckResult(
            "softmax",
            max(0.0, score - 2.0 - 1.0),
            3.0,
            CheckStatus.FAILED,
            message or "softmax at index (0, 2): expected 0.5, got 0.7",
        ),
        CheckResult(
            "softmax_large_inputs",
            1.0,
            1.0,
            CheckStatus.PASSED,
            "hidden message: stable for |x| = 1000",
            hidden=True,
        ),
    )
    environment = {"seed": 17, "sandbox": "local", "environment": "numpy"}
    if hidden_seed:
        environment["hidden_seed"] = hidden_seed
    return GradeReport(
        SLUG,
        score,
        6.0,
        ReportStatus.GRADED,
        checks,
        output=output,
        environment=environment,
        hidden_output="printed while hidden checks ran",
    ).to_dict()


@dataclass
class Class:
    demo: DemoData
    settings: Settings
    course_id: int
    other_course_id: int
    sub_student: int  # a graded submission of "student" in the course
    sub_other: int  # a graded submission of "other" in the course
    sub_elsewhere: int  # a submission in another course


@pytest.fixture
def klass(demo: DemoData, web_settings: Settings) -> Class:
    aid = demo.assignments[SLUG]
    student, other = demo.user_ids["student"], demo.user_ids["other"]
    sub_student = add_graded(
        web_settings, aid, student, report(5.0, hidden_seed=987654321), filename="activations.py"
    )
    sub_other = add_graded(web_settings, aid, other, report(3.0), filename="activations.py")
    with session_factory(web_settings.database_url).begin() as s:
        elsewhere = s.scalar(select(Course.id).where(Course.slug == "elsewhere"))
        a = Assignment(
            slug="vision-hw",
            manifest_hash="v" * 64,
            title="Vision homework",
            path="/nowhere",
            max_score=10.0,
            course_id=elsewhere,
        )
        s.add(a)
        s.flush()
        foreign = a.id
    sub_elsewhere = add_graded(web_settings, foreign, student, report(4.0))
    return Class(
        demo, web_settings, demo.course_id, elsewhere, sub_student, sub_other, sub_elsewhere
    )


def gets(k: Class) -> list[str]:
    c, s = k.course_id, k.sub_student
    return [
        f"/staff/courses/{c}/",
        f"/staff/courses/{c}/?sort=total&dir=desc&only=late&q=stu",
        f"/staff/courses/{c}/gradebook.csv",
        f"/staff/courses/{c}/assignments/{SLUG}/",
        f"/staff/courses/{c}/assignments/{SLUG}/?status=graded&min=1&max=6&late=no&errors=1",
        f"/staff/courses/{c}/assignments/{SLUG}/submissions.zip",
        f"/staff/courses/{c}/assignments/{SLUG}/analytics",
        f"/staff/courses/{c}/assignments/{SLUG}/analytics/histogram.svg",
        f"/staff/courses/{c}/assignments/{SLUG}/analytics/failures.svg",
        f"/staff/courses/{c}/assignments/{SLUG}/analytics/timeline.svg",
        f"/staff/courses/{c}/assignments/{SLUG}/similarity",
        f"/staff/courses/{c}/submissions/{s}",
    ]


def posts(k: Class) -> list[tuple[str, dict]]:
    c, s = k.course_id, k.sub_student
    return [
        (f"/staff/courses/{c}/submissions/{s}/override", {"score": "1", "comment": "why"}),
        (f"/staff/courses/{c}/submissions/{s}/regrade", {}),
        (f"/staff/courses/{c}/assignments/{SLUG}/regrade", {}),
    ]


def _any_token(client: FlaskClient) -> str:
    """A valid CSRF token of this client's session (from any page with a form)."""
    page = client.get("/staff/").get_data(as_text=True)
    found = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    if found:
        return found.group(1)
    return csrf_token(client, "/login")


def switch(client: FlaskClient, who: str) -> None:
    """Sign out whoever is signed in, then sign in as ``who``."""
    client.post("/logout", data={"csrf_token": _any_token(client)})
    login(client, who)


# -- who may reach what ----------------------------------------------------------------


@pytest.mark.parametrize("who", ["ta", "instructor"])
def test_staff_of_the_course_reach_every_page(client: FlaskClient, klass: Class, who: str) -> None:
    login(client, who)
    for url in gets(klass):
        assert client.get(url).status_code == 200, url
    for url, form in posts(klass):
        answer = client.post(url, data={**form, "csrf_token": _any_token(client)})
        assert answer.status_code == 302, url


@pytest.mark.parametrize("who", ["ta2", "student", "admin", None])  # admin: a site administrator
def test_everyone_else_is_refused_every_page(client: FlaskClient, klass: Class, who) -> None:
    if who:
        login(client, who)
    for url in gets(klass):
        answer = client.get(url)
        assert answer.status_code == 404, (who, url, answer.status_code)
        body = answer.get_data(as_text=True)
        assert "activations.py" not in body and "softmax" not in body
    for url, form in posts(klass):
        answer = client.post(url, data={**form, "csrf_token": _any_token(client)})
        assert answer.status_code in (400, 404), (who, url, answer.status_code)
    # nothing was changed by the refused posts
    with session_factory(klass.settings.database_url)() as s:
        assert s.scalar(select(ScoreOverride.id)) is None
        assert s.scalar(select(GradeRun.id).where(GradeRun.requested_by.is_not(None))) is None


def test_staff_index_lists_only_the_courses_they_teach(client: FlaskClient, klass: Class) -> None:
    login(client, "ta2")
    body = client.get("/staff/").get_data(as_text=True)
    assert "Another course" in body and "Deep-learning foundations" not in body
    switch(client, "student")
    assert "Deep-learning foundations" not in client.get("/staff/").get_data(as_text=True)


def test_a_ta_cannot_reach_another_courses_submission_through_their_own(
    client: FlaskClient, klass: Class
) -> None:
    """Changing the submission id in a URL of one's own course never crosses courses."""
    login(client, "ta")
    c, foreign = klass.course_id, klass.sub_elsewhere
    assert client.get(f"/staff/courses/{c}/submissions/{foreign}").status_code == 404
    token = _any_token(client)
    form = {"score": "9", "comment": "sneaky", "csrf_token": token}
    assert (
        client.post(f"/staff/courses/{c}/submissions/{foreign}/override", data=form).status_code
        == 404
    )
    assert (
        client.post(
            f"/staff/courses/{c}/submissions/{foreign}/regrade", data={"csrf_token": token}
        ).status_code
        == 404
    )
    # and the other course's own pages stay closed to this TA
    other = klass.other_course_id
    assert client.get(f"/staff/courses/{other}/submissions/{foreign}").status_code == 404
    assert client.get(f"/staff/courses/{other}/assignments/vision-hw/").status_code == 404
    with session_factory(klass.settings.database_url)() as s:
        assert s.scalar(select(ScoreOverride.id)) is None


def test_a_post_without_the_csrf_token_changes_nothing(client: FlaskClient, klass: Class) -> None:
    login(client, "ta")
    url = f"/staff/courses/{klass.course_id}/submissions/{klass.sub_student}/override"
    assert client.post(url, data={"score": "1", "comment": "no token"}).status_code == 400
    with session_factory(klass.settings.database_url)() as s:
        assert s.scalar(select(ScoreOverride.id)) is None


# -- what the pages show ---------------------------------------------------------------


def test_gradebook_shows_the_score_that_counts_with_marks(
    client: FlaskClient, klass: Class
) -> None:
    aid = klass.demo.assignments[SLUG]
    late = add_graded(
        klass.settings, aid, klass.demo.user_ids["other"], report(6.0), late_penalty=0.5
    )
    login(client, "ta")
    body = client.get(f"/staff/courses/{klass.course_id}/").get_data(as_text=True)
    # other's newest submission counts: 6 less half = 3, marked late
    row = re.search(r"<tr>\s*<td class=\"student\">other.*?</tr>", body, re.S).group(0)
    assert f'/submissions/{late}">3</a>' in row and 'class="mark late"' in row
    row = re.search(r"<tr>\s*<td class=\"student\">student.*?</tr>", body, re.S).group(0)
    assert f'/submissions/{klass.sub_student}">5</a>' in row
    # sorted by the activations column, best first
    body = client.get(f"/staff/courses/{klass.course_id}/?sort={SLUG}&dir=desc").get_data(
        as_text=True
    )
    assert body.index('"student">student') < body.index('"student">other')
    # filtered to late work
    body = client.get(f"/staff/courses/{klass.course_id}/?only=late").get_data(as_text=True)
    assert '"student">other' in body and '"student">student' not in body


def test_submission_page_has_code_full_report_hidden_checks_and_staff_details(
    client: FlaskClient, klass: Class
) -> None:
    login(client, "ta")
    body = client.get(f"/staff/courses/{klass.course_id}/submissions/{klass.sub_student}").get_data(
        as_text=True
    )
    assert "softmax_large_inputs" in body  # the hidden check's name ...
    assert "hidden message: stable for |x| = 1000" in body  # ... and message
    assert "printed while hidden checks ran" in body
    assert "987654321" in body  # the hidden seed, for staff only
    assert "softmax at index (0, 2): expected 0.5, got 0.7" in body
    # the code, highlighted on the server (Pygments' markup around the source)
    assert 'class="code"' in body and "# activations.py" in body


def test_assignment_page_filters(client: FlaskClient, klass: Class) -> None:
    aid = klass.demo.assignments[SLUG]
    late = add_graded(
        klass.settings, aid, klass.demo.user_ids["other"], report(6.0), late_penalty=0.5
    )
    errored = report(1.0)
    errored["checks"][1]["status"] = "timeout"
    crashed = add_graded(klass.settings, aid, klass.demo.user_ids["student"], errored)
    login(client, "ta")
    base = f"/staff/courses/{klass.course_id}/assignments/{SLUG}/"

    def ids(query: str) -> set[int]:
        page = client.get(base + query).get_data(as_text=True)
        return {int(x) for x in re.findall(r"/submissions/(\d+)\">\d+</a>", page)}

    everyone = {klass.sub_student, klass.sub_other, late, crashed}
    assert ids("") == everyone
    assert ids("?late=yes") == {late}
    assert ids("?late=no") == everyone - {late}
    assert ids("?min=3&max=3") == {klass.sub_other, late}
    assert ids("?errors=1") == {crashed}
    assert ids("?student=oth") == {klass.sub_other, late}
    assert ids("?status=queued") == set()


def test_submissions_flagged_for_a_ta_are_shown_and_filtered(
    client: FlaskClient, klass: Class
) -> None:
    """A training check's 'for a TA to look at' line (grader/messages.py TA_FLAGS): the list
    tags the submission with each item, filters on it, and its staff report lists them."""
    aid = klass.demo.assignments[SLUG]
    lookup = "answers depend on the order of the test images, not on the images"
    embedded = "it embeds 5.0 kB of data in its literals (base64-like text)"
    message = f"run 1 (seed 3): scores 0\nnot verified\n{TA_FLAGS}{lookup}; {embedded}"
    flagged = add_graded(
        klass.settings, aid, klass.demo.user_ids["other"], report(3.0, message=message)
    )
    login(client, "ta")
    base = f"/staff/courses/{klass.course_id}/assignments/{SLUG}/"

    def ids(query: str) -> set[int]:
        page = client.get(base + query).get_data(as_text=True)
        return {int(x) for x in re.findall(r"/submissions/(\d+)\">\d+</a>", page)}

    assert ids("?flagged=1") == {flagged}
    assert flagged in ids("") and len(ids("")) > 1
    page = client.get(base).get_data(as_text=True)
    assert f"<li>{lookup}</li>" in page and f"<li>{embedded}</li>" in page
    assert page.count('class="tag flag"') == 1
    detail = client.get(f"/staff/courses/{klass.course_id}/submissions/{flagged}")
    body = detail.get_data(as_text=True)
    assert "For a TA to look at" in body and f"<li>{lookup}</li>" in body
    quiet = client.get(f"/staff/courses/{klass.course_id}/submissions/{klass.sub_student}")
    assert "For a TA to look at" not in quiet.get_data(as_text=True)


# -- overrides ---------------------------------------------------------------------------


def _override(client: FlaskClient, k: Class, score: str, comment: str):  # type: ignore[no-untyped-def]
    url = f"/staff/courses/{k.course_id}/submissions/{k.sub_student}"
    token = csrf_token(client, url)
    return client.post(
        url + "/override", data={"score": score, "comment": comment, "csrf_token": token}
    )


def test_override_needs_a_comment_and_a_score_in_range(client: FlaskClient, klass: Class) -> None:
    login(client, "ta")
    for score, comment in (("4", "  "), ("abc", "why"), ("-1", "why"), ("7", "over the max")):
        answer = _override(client, klass, score, comment)
        assert answer.status_code == 302
    with session_factory(klass.settings.database_url)() as s:
        assert s.scalar(select(ScoreOverride.id)) is None
    page = client.get(f"/staff/courses/{klass.course_id}/submissions/{klass.sub_student}")
    assert "Override not saved" in page.get_data(as_text=True)


def test_override_is_audited_and_counts_in_the_gradebook(client: FlaskClient, klass: Class) -> None:
    login(client, "ta")
    _override(client, klass, "5.5", "partial credit: softmax right up to a transpose")
    switch(client, "instructor")
    _override(client, klass, "6", "full marks after a regrade request")
    with session_factory(klass.settings.database_url)() as s:
        rows = s.execute(
            select(ScoreOverride.original_score, ScoreOverride.score, User.name)
            .join(User, User.id == ScoreOverride.by_user_id)
            .order_by(ScoreOverride.id)
        ).all()
    assert [tuple(r) for r in rows] == [(5.0, 5.5, "ta"), (5.5, 6.0, "instructor")]
    body = client.get(f"/staff/courses/{klass.course_id}/submissions/{klass.sub_student}").get_data(
        as_text=True
    )
    audit = body[body.index("Audit log") :]
    assert "partial credit: softmax right up to a transpose" in audit
    assert "full marks after a regrade request" in audit
    assert audit.index(">ta<") < audit.index(">instructor<")
    book = client.get(f"/staff/courses/{klass.course_id}/").get_data(as_text=True)
    row = re.search(r"<tr>\s*<td class=\"student\">student.*?</tr>", book, re.S).group(0)
    assert f'/submissions/{klass.sub_student}">6</a>' in row and 'class="mark over"' in row


# -- regrades ----------------------------------------------------------------------------


def test_regrade_one_makes_a_new_run_and_keeps_reports_and_override(
    client: FlaskClient, klass: Class
) -> None:
    login(client, "ta")
    _override(client, klass, "4", "hand-checked")
    url = f"/staff/courses/{klass.course_id}/submissions/{klass.sub_student}"
    client.post(url + "/regrade", data={"csrf_token": csrf_token(client, url)})
    client.post(url + "/regrade", data={"csrf_token": csrf_token(client, url)})  # one is enough
    with session_factory(klass.settings.database_url)() as s:
        runs = s.execute(
            select(GradeRun.status, GradeRun.requested_by)
            .where(GradeRun.submission_id == klass.sub_student)
            .order_by(GradeRun.id)
        ).all()
        ta = s.scalar(select(User.id).where(User.name == "ta"))
    assert [tuple(r) for r in runs] == [("done", None), ("queued", ta)]
    # the worker's report arrives (written as the worker would), the override stays in force
    with session_factory(klass.settings.database_url).begin() as s:
        run = s.scalar(select(GradeRun).where(GradeRun.status == "queued"))
        run.status = "done"
        from worker.models import GradeReport as ReportRow

        s.add(
            ReportRow(
                run_id=run.id,
                submission_id=klass.sub_student,
                status="graded",
                score=1.0,
                max_score=6.0,
                report=report(1.0),
                manifest_hash="y" * 64,
                worker="test",
            )
        )
    body = client.get(url).get_data(as_text=True)
    assert body.count("?report=") == 2  # both reports listed
    assert "the newest report says 1" in body
    book = client.get(f"/staff/courses/{klass.course_id}/").get_data(as_text=True)
    assert f'/submissions/{klass.sub_student}">4</a>' in book


def test_regrade_all_dispatches_fairly_and_shows_batch_progress(
    app, client: FlaskClient, klass: Class
) -> None:
    sent: list[int] = []
    app.config["DLGRADE_PUBLISH"] = lambda run_id, queue, limit: sent.append(run_id)
    aid = klass.demo.assignments[SLUG]
    for _ in range(3):  # the student has four submissions; two may be in the broker at once
        add_graded(klass.settings, aid, klass.demo.user_ids["student"], report(2.0))
    login(client, "ta")
    page = f"/staff/courses/{klass.course_id}/assignments/{SLUG}/"
    client.post(page + "regrade", data={"csrf_token": csrf_token(client, page)})
    with session_factory(klass.settings.database_url)() as s:
        batch = s.execute(
            select(GradeRun.id, GradeRun.status, GradeRun.batch, GradeRun.user_id).where(
                GradeRun.batch.is_not(None)
            )
        ).all()
    assert len(batch) == 5 and len({b.batch for b in batch}) == 1
    assert sorted(sent) == sorted(b.id for b in batch if b.status == "dispatched")
    student = klass.demo.user_ids["student"]
    assert sum(1 for b in batch if b.user_id == student and b.status == "dispatched") == 2
    body = client.get(page).get_data(as_text=True)
    assert "0 / 5 done" in body and "<progress" in body
    with get_engine(klass.settings.database_url).begin() as conn:
        conn.execute(
            GradeRun.__table__.update()
            .where(GradeRun.id.in_([b.id for b in batch][:2]))
            .values(status="done")
        )
    assert "2 / 5 done" in client.get(page).get_data(as_text=True)
    progress = client.get(f"{page}batches/{batch[0].batch}.json").get_json()
    assert (progress["total"], progress["finished"], progress["complete"]) == (5, 2, False)
    assert client.get(f"{page}batches/not-a-batch.json").status_code == 404
    switch(client, "ta2")
    assert client.get(f"{page}batches/{batch[0].batch}.json").status_code == 404


# -- exports -----------------------------------------------------------------------------


def test_canvas_csv_and_zip(client: FlaskClient, klass: Class) -> None:
    login(client, "ta")
    answer = client.get(f"/staff/courses/{klass.course_id}/gradebook.csv")
    assert answer.mimetype == "text/csv" and "attachment" in answer.headers["Content-Disposition"]
    table = list(csv.reader(io.StringIO(answer.get_data(as_text=True))))
    assert table[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    col = table[0].index("Activation functions and their derivatives")
    by_name = {r[0]: r for r in table[2:]}
    assert by_name["student"][col] == "5" and by_name["other"][col] == "3"
    assert table[1][0] == "    Points Possible"
    answer = client.get(f"/staff/courses/{klass.course_id}/assignments/{SLUG}/submissions.zip")
    with zipfile.ZipFile(io.BytesIO(answer.data)) as zf:
        names = set(zf.namelist())
    assert f"{SLUG}/student/{klass.sub_student}-activations.py" in names
    assert f"{SLUG}/other/{klass.sub_other}-activations.py" in names
    assert not any(str(klass.sub_elsewhere) + "-" in n for n in names)


# -- similarity --------------------------------------------------------------------------


def _submit_code(k: Class, user: str, code: str) -> int:
    """A graded submission of ``code`` (newest, so it is the one that counts)."""
    from worker.models import GradeReport as ReportRow

    uid = k.demo.user_ids[user]
    with get_engine(k.settings.database_url).begin() as conn:
        sha, size = store_blob(conn, code.encode())
        sub = conn.scalar(
            insert(Submission)
            .values(
                assignment_id=k.demo.assignments[SLUG],
                user_id=uid,
                sha256=sha,
                size=size,
                filename="activations.py",
                submitted_at=utcnow() + timedelta(minutes=1),
            )
            .returning(Submission.id)
        )
        run = conn.scalar(
            insert(GradeRun)
            .values(submission_id=sub, user_id=uid, queue="cpu", status="done")
            .returning(GradeRun.id)
        )
        conn.execute(
            insert(ReportRow).values(
                run_id=run,
                submission_id=sub,
                status="graded",
                score=1.0,
                max_score=6.0,
                report=report(1.0),
                manifest_hash="z" * 64,
                worker="test",
            )
        )
    return int(sub)


SOLUTION = Path(__file__).resolve().parents[2] / "assignments" / "activations" / "solution"


def test_similarity_finds_the_renamed_copy_and_shows_it_side_by_side(
    client: FlaskClient, klass: Class
) -> None:
    original = (SOLUTION / "activations.py").read_text()
    renamed = re.sub(r"\bx\b", "inp", original).replace("# ", "# my note: ")
    a = _submit_code(klass, "student", original)
    b = _submit_code(klass, "other", renamed)
    login(client, "ta")
    body = client.get(f"/staff/courses/{klass.course_id}/assignments/{SLUG}/similarity").get_data(
        as_text=True
    )
    pair = re.search(r"similarity/(\d+)-(\d+)", body)
    assert pair and {int(pair.group(1)), int(pair.group(2))} == {a, b}
    assert "100%" in body
    side = client.get(
        f"/staff/courses/{klass.course_id}/assignments/{SLUG}/similarity/{a}-{b}"
    ).get_data(as_text=True)
    assert side.count('class="hll"') > 20  # the matched lines, highlighted on both sides
    assert "inp" in side and "student" in side and "other" in side


def test_the_staff_link_shows_for_staff_only(client: FlaskClient, klass: Class) -> None:
    login(client, "ta")
    assert 'href="/staff/">Staff</a>' in client.get("/staff/").get_data(as_text=True)
    switch(client, "student")
    assert 'href="/staff/">Staff</a>' not in client.get("/staff/").get_data(as_text=True)


def test_regrade_is_graded_by_a_worker_and_the_override_survives(
    client: FlaskClient, demo: DemoData, web_settings: Settings, sandbox_envs: Path
) -> None:
    """End to end: the staff regrade's run is graded by the worker's own code path."""
    from grader.sandbox.local import bwrap_path
    from tests.conftest import require
    from tests.web.conftest import grade_queued
    from tests.worker.conftest import SUBMISSIONS
    from worker.models import GradeReport as ReportRow

    require(bwrap_path() is not None, "bubblewrap", "apt-get install bubblewrap")
    tiny = demo.assignments["worker-tiny"]
    uid = demo.user_ids["student"]
    first = report(0.0)
    first.update(assignment="worker-tiny", score=0.0, max_score=3.0)
    # a right answer, graded 0 by a broken check (this first report); the checks are fixed now
    with get_engine(web_settings.database_url).begin() as conn:
        sha, size = store_blob(conn, (SUBMISSIONS / "good.py").read_bytes())
        sub = conn.scalar(
            insert(Submission)
            .values(
                assignment_id=tiny,
                user_id=uid,
                sha256=sha,
                size=size,
                filename="tiny.py",
                submitted_at=utcnow(),
            )
            .returning(Submission.id)
        )
        run = conn.scalar(
            insert(GradeRun)
            .values(submission_id=sub, user_id=uid, queue="cpu", status="done", attempt=1)
            .returning(GradeRun.id)
        )
        conn.execute(
            insert(ReportRow).values(
                run_id=run,
                submission_id=sub,
                status="graded",
                score=0.0,
                max_score=3.0,
                report=first,
                manifest_hash="0" * 64,
                worker="test",
            )
        )
    login(client, "ta")
    url = f"/staff/courses/{demo.course_id}/submissions/{sub}"
    client.post(
        url + "/override",
        data={"score": "1.5", "comment": "kept", "csrf_token": csrf_token(client, url)},
    )
    client.post(url + "/regrade", data={"csrf_token": csrf_token(client, url)})
    assert grade_queued(web_settings, sandbox_envs) == ["graded"]
    with session_factory(web_settings.database_url)() as s:
        scores = s.scalars(
            select(ReportRow.score).where(ReportRow.submission_id == sub).order_by(ReportRow.id)
        ).all()
    assert scores[0] == 0.0 and scores[1] > 0 and len(scores) == 2  # old report kept, new one real
    body = client.get(url).get_data(as_text=True)
    assert "1.5" in body and f"the newest report says {scores[1]:g}" in body
