"""Signing in: where the portal goes next, and the limit on guesses under parallel load."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from flask import Flask

from tests.web.conftest import PASSWORD, cheap_hash, csrf_token, login
from tests.worker.conftest import empty_postgres, fresh_sqlite, postgres_base  # noqa: F401
from web import create_app
from web.demo import DemoData, add_course, add_user
from worker.config import Settings, default_broker_url
from worker.models import Role

OFF_SITE = [
    "/%09/evil.example",  # a tab: browsers drop it and read //evil.example
    "/%0a/evil.example",
    "/%0d%0a/evil.example",
    "//evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "%5C%5Cevil.example",
    "https://evil.example/",
    "http:/evil.example",
    "javascript:alert(1)",
    "evil.example",
    "/%20/evil.example",
]


@pytest.mark.parametrize("target", OFF_SITE)
def test_next_after_sign_in_never_leaves_the_site(app: Flask, demo: DemoData, target: str) -> None:
    client = app.test_client()
    token = csrf_token(client, "/login")
    answer = client.post(
        f"/login?next={target}",
        data={"name": "student", "password": PASSWORD, "csrf_token": token},
    )
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/courses", target


def test_next_after_sign_in_keeps_a_path_of_this_site(app: Flask, demo: DemoData) -> None:
    client = app.test_client()
    token = csrf_token(client, "/login")
    wanted = f"/courses/{demo.course_id}/a/worker-tiny?tab=history"
    answer = client.post(
        "/login?next=" + wanted.replace("?", "%3F").replace("=", "%3D"),
        data={"name": "student", "password": PASSWORD, "csrf_token": token},
    )
    assert answer.headers["Location"] == wanted


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_app(request: pytest.FixtureRequest, tmp_path: Path) -> Flask:
    """A portal on a migrated, empty database of each kind (SQLite, PostgreSQL)."""
    folder = tmp_path / "data"
    folder.mkdir()
    if request.param == "sqlite":
        db_url = fresh_sqlite(folder)
    else:
        db_url = request.getfixturevalue("postgres_base")
        empty_postgres(db_url)
    settings = Settings(
        database_url=db_url,
        broker_url=default_broker_url(folder),
        data_dir=folder,
        sandbox="local",
    )
    course = add_course(settings, "dl-a", "Course A")
    add_user(settings, "student", PASSWORD, course_id=course, role=Role.STUDENT, hasher=cheap_hash)
    return create_app(
        {"TESTING": True, "SECRET_KEY": "test secret", "DLGRADE_SETTINGS": settings,
         "DLGRADE_PUBLISH": None}
    )  # fmt: skip


def test_parallel_guesses_for_one_name_get_at_most_the_limits_password_checks(
    any_db_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    from web.auth import views
    from web.security import LOGIN_FAILURES_PER_NAME

    checks: list[str] = []
    real = views.check_password_hash

    def counted(digest: str, password: str) -> bool:
        checks.append(password)
        return real(digest, password)

    monkeypatch.setattr(views, "check_password_hash", counted)
    clients = [any_db_app.test_client() for _ in range(40)]
    tokens = [csrf_token(c, "/login") for c in clients]
    start = threading.Barrier(len(clients))
    codes: list[int] = []

    def guess(i: int) -> None:
        start.wait()
        data = {"name": "student", "password": f"guess {i}", "csrf_token": tokens[i]}
        codes.append(clients[i].post("/login", data=data).status_code)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(set(codes)) == [401, 429] and len(codes) == 40
    assert len(checks) <= LOGIN_FAILURES_PER_NAME, f"{len(checks)} password checks"
    assert codes.count(401) == len(checks)
    # The door stays shut, even to the right password.
    assert login(any_db_app.test_client(), "student").status_code == 429
