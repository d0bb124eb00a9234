"""Accounts between courses: sessions that end, passwords, rosters that stay in their course,
site administrators. Two courses ("demo" and "elsewhere"), each with its instructor, a TA
and students; every step goes through the pages a browser uses.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from tests.web.conftest import PASSWORD, cheap_hash, csrf_token, login
from web.demo import DemoData, add_course, add_user
from worker.config import Settings
from worker.db import get_engine
from worker.models import CourseAudit, Enrollment, Role, User

NEW_PASSWORD = "a much longer passphrase of mine"
ONE_TIME = re.compile(r'<code class="one-time">([^<]+)</code>')


@pytest.fixture
def courses(demo: DemoData, web_settings: Settings) -> DemoData:
    """The demo course, and "elsewhere" with its own instructor2, ta2 and student2."""
    elsewhere = add_course(web_settings, "elsewhere", "Another course")
    demo.user_ids["elsewhere"] = elsewhere
    for name, role in (("instructor2", Role.INSTRUCTOR), ("student2", Role.STUDENT)):
        demo.user_ids[name] = add_user(
            web_settings, name, PASSWORD, course_id=elsewhere, role=role, hasher=cheap_hash
        )
    return demo


def _user(settings: Settings, name: str) -> User | None:
    with get_engine(settings.database_url).connect() as conn:
        return conn.execute(select(User).where(User.name == name)).first()


def _roles(settings: Settings, user_id: int) -> dict[int, str]:
    with get_engine(settings.database_url).connect() as conn:
        rows = conn.execute(
            select(Enrollment.course_id, Enrollment.role).where(Enrollment.user_id == user_id)
        ).all()
    return dict(rows)


def _signed_in(client: FlaskClient) -> bool:
    answer = client.get("/courses")
    return answer.status_code == 200


def _change_password(client: FlaskClient, current: str, new: str, again: str | None = None):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/account/password")
    return client.post(
        "/account/password",
        data={"csrf_token": token, "current": current, "new": new, "repeated": again or new},
    )


# -- sessions end on the server (hole 9) ---------------------------------------------------


def test_a_cookie_copied_before_logout_opens_nothing_afterwards(
    app: Flask, courses: DemoData
) -> None:
    browser, elsewhere = app.test_client(), app.test_client()
    assert login(browser, "student").status_code == 302
    assert login(elsewhere, "student").status_code == 302  # another device
    copied = app.test_client()
    copied.set_cookie("session", browser.get_cookie("session").value)
    assert _signed_in(copied) and _signed_in(elsewhere)

    token = csrf_token(browser, "/courses")
    assert browser.post("/logout", data={"csrf_token": token}).status_code == 302
    for client in (browser, copied, elsewhere):
        answer = client.get("/courses")
        assert answer.status_code == 302 and "/login" in answer.headers["Location"]
    assert login(browser, "student").status_code == 302  # signing in again works


def test_changing_ones_password_ends_every_other_session_and_keeps_this_one(
    app: Flask, courses: DemoData, web_settings: Settings
) -> None:
    from tests.web.test_api import bearer, token_for

    here, there = app.test_client(), app.test_client()
    login(here, "ta")
    login(there, "ta")
    copied = app.test_client()
    copied.set_cookie("session", here.get_cookie("session").value)
    token = bearer(token_for(web_settings, courses, "ta", "staff"))
    other = bearer(token_for(web_settings, courses, "student"))
    assert app.test_client().get("/api/v1/courses", headers=token).status_code == 200
    answer = _change_password(here, PASSWORD, NEW_PASSWORD)
    assert answer.status_code == 302
    assert _signed_in(here)
    assert not _signed_in(there) and not _signed_in(copied)
    assert login(app.test_client(), "ta", PASSWORD).status_code == 401
    # Whoever knew the old password could have made a token: the account's tokens are
    # revoked with it; another account's are not.
    assert app.test_client().get("/api/v1/courses", headers=token).status_code == 401
    assert app.test_client().get("/api/v1/courses", headers=other).status_code == 200
    assert login(app.test_client(), "ta", NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("current", "new", "again", "why"),
    [
        ("wrong password", NEW_PASSWORD, None, "current password is wrong"),
        (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "!", "two new passwords differ"),
        (PASSWORD, "short", None, "10 to 200 characters"),
        (PASSWORD, PASSWORD, None, "one-time or current one"),
        (PASSWORD, "Student   ", None, "cannot be the user name"),
    ],
)
def test_a_refused_new_password_says_why_and_changes_nothing(
    app: Flask, courses: DemoData, web_settings: Settings, current: str, new: str,
    again: str | None, why: str,
) -> None:  # fmt: skip
    client, other = app.test_client(), app.test_client()
    login(client, "student")
    login(other, "student")
    before = _user(web_settings, "student")
    answer = _change_password(client, current, new, again)
    assert answer.status_code == 400 and why in answer.get_data(as_text=True)
    after = _user(web_settings, "student")
    assert (after.password_hash, after.session_version) == (
        before.password_hash,
        before.session_version,
    )
    assert _signed_in(other)


# -- one-time passwords ------------------------------------------------------------------


def _issue(client: FlaskClient, course_id: int, user_id: int):  # type: ignore[no-untyped-def]
    page = f"/instructor/courses/{course_id}/people"
    token = csrf_token(client, page)
    return client.post(f"{page}/{user_id}/password", data={"csrf_token": token})


def test_an_instructor_issues_a_one_time_password_that_must_be_changed_at_sign_in(
    app: Flask, courses: DemoData, web_settings: Settings
) -> None:
    from tests.web.test_api import bearer, token_for

    student = app.test_client()
    login(student, "student")
    token = bearer(token_for(web_settings, courses, "student"))
    teacher = app.test_client()
    login(teacher, "instructor")
    people = teacher.get(f"/instructor/courses/{courses.course_id}/people")
    assert people.status_code == 200 and "New one-time password" in people.get_data(as_text=True)
    answer = _issue(teacher, courses.course_id, courses.user_ids["student"])
    assert answer.status_code == 200
    one_time = ONE_TIME.search(answer.get_data(as_text=True)).group(1)
    assert answer.headers["Cache-Control"] == "no-store"
    assert not _signed_in(student)  # the student's sessions ended, and her tokens
    assert app.test_client().get("/api/v1/courses", headers=token).status_code == 401
    assert login(app.test_client(), "student", PASSWORD).status_code == 401

    fresh = app.test_client()
    signed = login(fresh, "student", one_time)
    assert signed.status_code == 302 and signed.headers["Location"] == "/account/password"
    for url in ("/courses", f"/courses/{courses.course_id}", "/account/tokens"):
        blocked = fresh.get(url)
        assert blocked.status_code == 302 and blocked.headers["Location"] == "/account/password"
    assert _change_password(fresh, one_time, NEW_PASSWORD).status_code == 302
    assert _signed_in(fresh)
    assert login(app.test_client(), "student", one_time).status_code == 401
    entries = [(a.action, a.subject) for a in _audit(web_settings)]
    assert ("one-time password", "student") in entries
    assert not any(one_time in str(a) for a in _audit(web_settings))


def _audit(settings: Settings) -> list:  # type: ignore[type-arg]
    with get_engine(settings.database_url).connect() as conn:
        return list(conn.execute(select(CourseAudit)).all())


@pytest.mark.parametrize(
    ("who", "course", "target", "code"),
    [
        ("instructor", "demo", "ta", 303),  # staff of their own course
        ("instructor", "demo", "instructor", 303),  # themselves: their own page is for that
        ("instructor", "demo", "ta2", 303),  # not in their course at all
        ("instructor", "demo", "shared", 303),  # a student here and in a course not theirs
        ("instructor", "demo", "boss", 303),  # a site administrator
        ("instructor2", "demo", "student", 404),  # another course's instructor, through it
        ("instructor2", "elsewhere", "student", 303),  # ... or through their own
        ("ta", "demo", "student", 404),  # a TA
        ("student", "demo", "other", 404),
    ],
)
def test_one_time_passwords_reach_only_students_of_the_instructors_own_courses(
    app: Flask, courses: DemoData, web_settings: Settings, who: str, course: str, target: str,
    code: int,
) -> None:  # fmt: skip
    shared = add_user(web_settings, "shared", PASSWORD, course_id=courses.course_id,
                      hasher=cheap_hash)  # fmt: skip
    add_user(web_settings, "shared", PASSWORD, course_id=courses.user_ids["elsewhere"],
             hasher=cheap_hash)  # fmt: skip
    boss = add_user(web_settings, "boss", PASSWORD, course_id=courses.course_id, hasher=cheap_hash)
    with get_engine(web_settings.database_url).begin() as conn:
        conn.execute(update(User).where(User.id == boss).values(is_admin=True))
    ids = courses.user_ids | {"shared": shared, "boss": boss}
    course_id = courses.course_id if course == "demo" else courses.user_ids["elsewhere"]
    before = _user(web_settings, target)
    client = app.test_client()
    login(client, who)
    token = csrf_token(client, "/account/tokens")
    answer = client.post(
        f"/instructor/courses/{course_id}/people/{ids[target]}/password",
        data={"csrf_token": token},
    )
    assert answer.status_code == code
    after = _user(web_settings, target)
    assert (after.password_hash, after.session_version, after.must_change_password) == (
        before.password_hash, before.session_version, False,
    )  # fmt: skip
    assert login(app.test_client(), target).status_code == 302


# -- a roster stays in its course (hole 3) ---------------------------------------------------

HEADER = "Student,ID,SIS User ID,SIS Login ID,Section,Email,Role\n"


def _roster(client: FlaskClient, course_id: int, text: str, action: str):  # type: ignore[no-untyped-def]
    url = f"/instructor/courses/{course_id}/roster"
    data = {"csrf_token": csrf_token(client, url), "action": action, "csv": text}
    return client.post(url, data=data)


def test_another_courses_roster_never_rewrites_an_account_nor_its_role_there(
    app: Flask, courses: DemoData, web_settings: Settings
) -> None:
    elsewhere = courses.user_ids["elsewhere"]
    ta_id = courses.user_ids["ta"]
    first = app.test_client()
    login(first, "instructor")
    own = HEADER + (
        "Stu Dent,1,s-001,student,A,student@uni.edu,student\nTee Ay,3,t-001,ta,,ta@uni.edu,ta\n"
    )
    assert _roster(first, courses.course_id, own, "apply").status_code == 200
    ta_before = _user(web_settings, "ta")
    assert (ta_before.email, ta_before.full_name, ta_before.student_id) == (
        "ta@uni.edu", "Tee Ay", "t-001",
    )  # fmt: skip

    second = app.test_client()
    login(second, "instructor2")
    # Course 1's TA by student id under a new login, email and name; then their old login
    # for someone else: neither a rename nor a new account under "ta" may follow.
    hostile = HEADER + "Evil Name,9,t-001,ta-renamed,,evil@attacker.example,instructor\n"
    first_preview = _roster(second, elsewhere, hostile, "preview").get_data(as_text=True)
    done = _roster(second, elsewhere, hostile, "apply")
    assert done.status_code == 200 and 'id="passwords"' not in done.get_data(as_text=True)
    taken = HEADER + "Someone Else,10,z-999,ta,,z@attacker.example,student\n"
    refused = _roster(second, elsewhere, taken, "preview").get_data(as_text=True)
    assert "ta has student id t-001, the file says z-999" in refused
    assert _roster(second, elsewhere, taken, "apply").status_code == 400
    # Now that the TA is enrolled in course 2 too, a second import changes nothing of theirs.
    again = HEADER + "Evil Name,9,t-001,ta-renamed,,evil@attacker.example,student\n"
    second_preview = _roster(second, elsewhere, again, "preview").get_data(as_text=True)
    _roster(second, elsewhere, again, "apply")

    after = _user(web_settings, "ta")
    assert after is not None and after.id == ta_id
    assert (after.email, after.full_name, after.student_id, after.password_hash) == (
        ta_before.email, ta_before.full_name, ta_before.student_id, ta_before.password_hash,
    )  # fmt: skip
    assert _user(web_settings, "ta-renamed") is None
    assert _roles(web_settings, ta_id) == {courses.course_id: "ta", elsewhere: "student"}
    assert login(app.test_client(), "ta").status_code == 302
    # Course 1 imports its TA again: the same account, still its TA.
    _roster(first, courses.course_id, own, "apply")
    assert _roles(web_settings, ta_id)[courses.course_id] == "ta"
    # The previews said which account each row enrols, and that it stays as it is.
    assert "existing account ta, matched by student id" in first_preview
    assert "stay as they are" in first_preview and "stay as they are" in second_preview


def test_a_course_still_updates_the_accounts_only_it_has(
    app: Flask, courses: DemoData, web_settings: Settings
) -> None:
    client = app.test_client()
    login(client, "instructor")
    _roster(client, courses.course_id, HEADER + "Oth Er,2,s-002,other,A,other@uni.edu,\n", "apply")
    moved = HEADER + "Oth Er Renamed,2,s-002,other2,A,other2@uni.edu,\n"
    preview = _roster(client, courses.course_id, moved, "preview").get_data(as_text=True)
    assert "stay as they are" not in preview
    _roster(client, courses.course_id, moved, "apply")
    renamed = _user(web_settings, "other2")
    assert renamed is not None and renamed.id == courses.user_ids["other"]
    assert (renamed.email, renamed.full_name) == ("other2@uni.edu", "Oth Er Renamed")


def test_imported_accounts_get_one_time_passwords(
    app: Flask, courses: DemoData, web_settings: Settings
) -> None:
    client = app.test_client()
    login(client, "instructor")
    text = HEADER + "New Comer,5,s-005,newcomer,B,new@uni.edu,student\n"
    done = _roster(client, courses.course_id, text, "apply").get_data(as_text=True)
    password = re.search(r"<td>newcomer</td><td><code>([^<]+)</code>", done).group(1)
    newcomer = app.test_client()
    signed = login(newcomer, "newcomer", password)
    assert signed.headers["Location"] == "/account/password"
    assert newcomer.get(f"/courses/{courses.course_id}").status_code == 302
    assert _change_password(newcomer, password, NEW_PASSWORD).status_code == 302
    assert newcomer.get(f"/courses/{courses.course_id}").status_code == 200


# -- site administrators -------------------------------------------------------------------


def _dlgrade(settings: Settings, *argv: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DLGRADE_DATABASE_URL=settings.database_url,
               DLGRADE_DATA_DIR=str(settings.data_dir))  # fmt: skip
    script = str(Path(sys.executable).parent / "dlgrade")
    return subprocess.run([script, *argv], env=env, capture_output=True, text=True, timeout=120)


def test_a_site_administrator_made_on_the_host_creates_a_course_and_its_instructor(
    app: Flask, courses: DemoData, web_settings: Settings
) -> None:
    made = _dlgrade(web_settings, "users", "admin", "boss", "--full-name", "Dept Admin")
    assert made.returncode == 0, made.stderr
    one_time = re.search(r"one-time password .*: (\S+)", made.stdout).group(1)
    admin = app.test_client()
    assert login(admin, "boss", one_time).headers["Location"] == "/account/password"
    assert admin.get("/admin/").status_code == 302  # the one-time password first
    _change_password(admin, one_time, NEW_PASSWORD)
    home = admin.get("/admin/")
    assert home.status_code == 200 and "elsewhere" in home.get_data(as_text=True)

    token = csrf_token(admin, "/admin/")
    created = admin.post("/admin/courses", data={
        "csrf_token": token, "slug": "dl-2027", "title": "Deep Learning, Spring 2027",
        "instructor": "prof", "full_name": "New Prof", "email": "prof@uni.edu",
    })  # fmt: skip
    assert created.status_code == 200 and created.headers["Cache-Control"] == "no-store"
    prof_password = ONE_TIME.search(created.get_data(as_text=True)).group(1)
    with get_engine(web_settings.database_url).connect() as conn:
        course_id = conn.scalar(select(Enrollment.course_id).where(
            Enrollment.user_id == select(User.id).where(User.name == "prof").scalar_subquery(),
            Enrollment.role == "instructor"))  # fmt: skip
    prof = app.test_client()
    login(prof, "prof", prof_password)
    _change_password(prof, prof_password, NEW_PASSWORD)
    assert prof.get(f"/instructor/courses/{course_id}/").status_code == 200
    assert prof.get(f"/instructor/courses/{courses.course_id}/").status_code == 404

    # An existing account as the instructor of another new course: enrolled, password kept.
    before = _user(web_settings, "instructor2")
    again = admin.post("/admin/courses", data={
        "csrf_token": token, "slug": "dl-2027-b", "title": "Deep Learning B",
        "instructor": "instructor2"})  # fmt: skip
    assert again.status_code == 200 and not ONE_TIME.search(again.get_data(as_text=True))
    assert _user(web_settings, "instructor2").password_hash == before.password_hash
    assert "instructor" in _roles(web_settings, before.id).values()

    # Another instructor for an existing course: a TA there, or a new account.
    elsewhere = courses.user_ids["elsewhere"]
    ta2 = app.test_client()
    login(ta2, "ta2")
    assert ta2.get(f"/instructor/courses/{elsewhere}/").status_code == 404
    added = admin.post("/admin/instructors",
                       data={"csrf_token": token, "course": elsewhere, "login": "ta2"})  # fmt: skip
    assert added.status_code == 200 and not ONE_TIME.search(added.get_data(as_text=True))
    assert ta2.get(f"/instructor/courses/{elsewhere}/").status_code == 200
    assert _roles(web_settings, courses.user_ids["ta2"]) == {elsewhere: "instructor"}
    form = {"csrf_token": token, "course": elsewhere, "login": "prof2"}
    added = admin.post("/admin/instructors", data=form)
    assert ONE_TIME.search(added.get_data(as_text=True))
    actions = {(a.action, a.subject) for a in _audit(web_settings) if a.course_id == elsewhere}
    assert {("instructor added", "ta2"), ("instructor added", "prof2")} <= actions

    # Being an administrator opens no course's data.
    for url in (f"/staff/courses/{courses.course_id}/", f"/courses/{courses.course_id}",
                f"/instructor/courses/{courses.course_id}/"):  # fmt: skip
        assert admin.get(url).status_code == 404, url

    # A one-time password for anyone, from the admin page: their sessions end.
    student = app.test_client()
    login(student, "ta2")
    issued = admin.post("/admin/password", data={"csrf_token": token, "login": "ta2"})
    assert issued.status_code == 200 and ONE_TIME.search(issued.get_data(as_text=True))
    assert not _signed_in(student)

    removed = _dlgrade(web_settings, "users", "admin", "boss", "--remove")
    assert removed.returncode == 0 and admin.get("/admin/").status_code == 404


def test_users_admin_for_no_account_with_remove_says_so(web_settings: Settings) -> None:
    done = _dlgrade(web_settings, "users", "admin", "nobody", "--remove")
    assert done.returncode == 1 and "no account 'nobody'" in done.stderr
    done = _dlgrade(web_settings, "users", "password", "nobody")
    assert done.returncode == 1 and "no account 'nobody'" in done.stderr


# -- the role table of these routes ------------------------------------------------------

# (method, path) -> who gets what; {course} is the route's course, {user} a student of it.
ROUTES = [
    ("GET", "/admin/"),
    ("POST", "/admin/courses"),
    ("POST", "/admin/password"),
    ("POST", "/admin/instructors"),
    ("GET", "/instructor/courses/{course}/people"),
    ("POST", "/instructor/courses/{course}/people/{user}/password"),
    ("GET", "/account/password"),
    ("POST", "/account/password"),
]
ROLES = ["student", "ta", "instructor", "ta2", "instructor2", "admin"]


def _expected(method: str, path: str, who: str, own: bool) -> int:
    if path.startswith("/admin"):
        return 200 if who == "admin" and method == "GET" else (302 if who == "admin" else 404)
    if path.startswith("/instructor"):
        teaches = (who == "instructor" and own) or (who == "instructor2" and not own)
        return 200 if teaches else 404
    return 200 if method == "GET" else 400  # one's own page; the test's form is incomplete


@pytest.mark.parametrize("who", ROLES)
@pytest.mark.parametrize("own", [True, False], ids=["own course", "other course"])
def test_every_account_route_with_every_role_in_its_own_and_another_course(
    app: Flask, courses: DemoData, web_settings: Settings, who: str, own: bool
) -> None:
    # "own": the demo course and its student; otherwise "elsewhere" and its student2.
    course = courses.course_id if own else courses.user_ids["elsewhere"]
    student = "student" if own else "student2"
    client = app.test_client()
    login(client, who)
    token = csrf_token(client, "/account/tokens")
    for method, path in ROUTES:
        url = path.format(course=course, user=courses.user_ids[student])
        anonymous = app.test_client().open(url, method=method)
        if method == "POST":
            assert anonymous.status_code == 400  # no session, no CSRF token: refused first
        elif path == "/account/password":
            assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
        else:
            assert anonymous.status_code == 404, url
        data = {"csrf_token": token, "slug": "", "login": ""} if method == "POST" else None
        before = _user(web_settings, student)
        answer = client.open(url, method=method, data=data)
        assert answer.status_code == _expected(method, path, who, own), (who, url)
        reset = _user(web_settings, student).password_hash != before.password_hash
        assert reset == (path.endswith("{user}/password") and answer.status_code == 200), url


def test_the_role_table_names_every_account_route(app: Flask) -> None:
    """A new page under /admin, a course's people or /account/password joins ROUTES."""
    table = {(m, re.sub(r"\{\w+\}", "<>", p)) for m, p in ROUTES}
    routed = {
        (m, re.sub(r"<(?:\w+:)?\w+>", "<>", rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(("/admin", "/account/password"))
        or re.match(r"/instructor/courses/<[^>]+>/people", rule.rule)
        for m in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routed == table


def test_the_api_roster_import_keeps_an_account_enrolled_elsewhere_as_it_is(
    app: Flask, courses: DemoData, web_settings: Settings
) -> None:
    from tests.web.test_api import bearer
    from web.api.tokens import create_token
    from worker.db import session_factory

    s = session_factory(web_settings.database_url)()
    try:
        token = create_token(s, courses.user_ids["instructor2"], "roster", "staff")[1]
    finally:
        s.close()
    elsewhere = courses.user_ids["elsewhere"]
    url = f"/api/v1/courses/{elsewhere}/roster"
    client = app.test_client()
    before = _user(web_settings, "student")
    rows = HEADER + "Stu Dent,1,,student,,student@uni.edu,student\n"
    client.post(url, json={"csv": rows, "apply": True}, headers=bearer(token))  # enrol as is
    renamed = HEADER + "Some One Else,1,,student,,taken@attacker.example,ta\n"
    answer = client.post(url, json={"csv": renamed, "apply": True}, headers=bearer(token))
    assert answer.status_code == 201, answer.get_json()
    (change,) = [c for c in answer.get_json()["changes"] if c["login"] == "student"]
    assert "stay as they are" in change["detail"] and set(change["changes"]) == {"role"}
    after = _user(web_settings, "student")
    assert (after.email, after.full_name, after.password_hash) == (
        before.email, before.full_name, before.password_hash,
    )  # fmt: skip
    assert _roles(web_settings, after.id) == {courses.course_id: "student", elsewhere: "ta"}
    assert answer.get_json()["passwords"] == {}


def test_users_password_on_the_host_issues_a_one_time_password_and_ends_sessions(
    app: Flask, courses: DemoData, web_settings: Settings
) -> None:
    signed_in = app.test_client()
    login(signed_in, "instructor")
    made = _dlgrade(web_settings, "users", "admin", "instructor")  # an existing account
    assert made.returncode == 0 and "one-time" not in made.stdout  # its password stays
    assert signed_in.get("/admin/").status_code == 200
    issued = _dlgrade(web_settings, "users", "password", "instructor")
    assert issued.returncode == 0, issued.stderr
    one_time = re.search(r"\): (\S+)$", issued.stdout.strip()).group(1)
    assert not _signed_in(signed_in)
    assert login(app.test_client(), "instructor").status_code == 401
    fresh = app.test_client()
    assert login(fresh, "instructor", one_time).headers["Location"] == "/account/password"


def test_guessing_the_current_password_meets_the_sign_in_limit(
    app: Flask, courses: DemoData, web_settings: Settings
) -> None:
    from web.security import LOGIN_FAILURES_PER_NAME

    borrowed = app.test_client()
    login(borrowed, "student")
    for i in range(LOGIN_FAILURES_PER_NAME):
        assert _change_password(borrowed, f"guess {i}", NEW_PASSWORD).status_code == 400
    refused = _change_password(borrowed, PASSWORD, NEW_PASSWORD)  # even the right one, now
    assert refused.status_code == 429 and "Too many wrong passwords" in refused.get_data(
        as_text=True
    )
    assert login(app.test_client(), "student", PASSWORD).status_code == 429
    assert _user(web_settings, "student").session_version == 0  # nothing changed


def test_an_instructor_issues_a_one_time_password_through_the_api(
    app: Flask, courses: DemoData, web_settings: Settings
) -> None:
    from tests.web.test_api import bearer, token_for

    c = courses.course_id
    teacher = bearer(token_for(web_settings, courses, "instructor", "staff"))
    ta = bearer(token_for(web_settings, courses, "ta", "staff"))
    api = app.test_client()
    url = f"/api/v1/courses/{c}/people/{{}}/one-time-password"
    assert api.post(url.format("student"), headers=ta).status_code == 404  # instructors only
    assert api.post(url.format("student2"), headers=teacher).status_code == 404  # not here
    refused = api.post(url.format("ta"), headers=teacher)  # staff: its owner's to change
    assert refused.status_code == 403 and "site administrator" in refused.get_json()["error"]

    answer = api.post(url.format("student"), headers=teacher)
    assert answer.status_code == 201 and answer.headers["Cache-Control"] == "no-store"
    body = answer.get_json()
    assert body["login"] == "student" and body["must_change"] is True
    assert login(app.test_client(), "student", PASSWORD).status_code == 401
    signed = login(app.test_client(), "student", body["password"])
    assert signed.status_code == 302 and signed.headers["Location"] == "/account/password"
    log = api.get(f"/api/v1/courses/{c}/audit", headers=teacher).get_json()["entries"]
    assert log[0]["said"] == "instructor: one-time password (student)."
    assert body["password"] not in str(log)
