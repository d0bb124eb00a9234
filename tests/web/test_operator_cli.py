"""Commands an operator runs in the web container: ``portal demo-course`` and ``users token``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from grader.cli import main
from worker.db import get_engine
from worker.models import Course, Enrollment, User

LOGIN = re.compile(r"^\s+(\w+)\s+user (\S+)\s+password (\S+)$", re.M)


@pytest.fixture
def stack_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'dlgrade.sqlite'}"
    monkeypatch.setenv("DLGRADE_DATABASE_URL", url)
    monkeypatch.setenv("DLGRADE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DLGRADE_SECRET_KEY", "k" * 32)
    return url


def test_demo_course_is_idempotent_and_its_logins_sign_in(stack_env: str, capsys) -> None:
    from web import create_app

    assert main(["portal", "demo-course"]) == 0
    first = dict((r, (u, p)) for r, u, p in LOGIN.findall(capsys.readouterr().out))
    assert set(first) == {"student", "ta", "instructor"}
    assert main(["portal", "demo-course"]) == 0
    again = capsys.readouterr().out
    second = dict((r, (u, p)) for r, u, p in LOGIN.findall(again))
    assert "activations" in again
    with get_engine(stack_env).connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Course)) == 1
        assert conn.scalar(select(func.count()).select_from(User)) == 3
        assert conn.scalar(select(func.count()).select_from(Enrollment)) == 3
    client = create_app({"WTF_CSRF_ENABLED": False}).test_client()
    # The logins printed last are the ones that work (a second run sets new passwords).
    name, password = second["student"]
    answer = client.post("/login", data={"name": name, "password": password})
    assert answer.status_code == 302, answer.get_data(as_text=True)[:300]
    assert first["student"][1] != password


def test_users_token_prints_a_token_that_the_api_accepts(stack_env: str, capsys) -> None:
    from web import create_app

    assert main(["portal", "demo-course"]) == 0
    capsys.readouterr()
    assert main(["users", "token", "student"]) == 0
    token = capsys.readouterr().out.strip()
    assert token.startswith("dlg_")
    client = create_app().test_client()
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.get_json()["name"] == "student"
    assert (
        client.get("/api/v1/me", headers={"Authorization": "Bearer dlg_wrong"}).status_code == 401
    )
    assert main(["users", "token", "nobody"]) == 2
    assert "no account 'nobody'" in capsys.readouterr().err
