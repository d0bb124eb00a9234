"""API tokens: made and revoked on /account/tokens, shown once, stored hashed, scoped by role."""

from __future__ import annotations

import hashlib
import re

from flask.testing import FlaskClient
from sqlalchemy import select

from tests.web.conftest import csrf_token, login
from web.demo import DemoData
from worker.config import Settings
from worker.db import get_engine
from worker.models import ApiToken

TOKEN = re.compile(r'<pre id="new-token">(dlg_[A-Za-z0-9_-]+)</pre>')


def _make(client: FlaskClient, name: str, scope: str = "student"):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/account/tokens")
    return client.post("/account/tokens", data={"name": name, "scope": scope, "csrf_token": token})


def _rows(settings: Settings) -> list[ApiToken]:
    with get_engine(settings.database_url).connect() as conn:
        return list(conn.execute(select(ApiToken).order_by(ApiToken.id)).all())


def test_a_token_is_shown_once_stored_as_its_sha256_and_works(
    client: FlaskClient, demo: DemoData, web_settings: Settings
) -> None:
    login(client, "student")
    made = _make(client, "laptop script")
    assert made.status_code == 201 and made.headers["Cache-Control"] == "no-store"
    plain = TOKEN.search(made.get_data(as_text=True)).group(1)
    (row,) = _rows(web_settings)
    assert row.token_hash == hashlib.sha256(plain.encode()).hexdigest()
    assert plain not in repr(tuple(row)) and row.prefix == plain[:12]
    listing = client.get("/account/tokens").get_data(as_text=True)
    assert plain not in listing and "laptop script" in listing and row.prefix in listing
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"})
    assert me.get_json()["name"] == "student"
    assert _rows(web_settings)[0].last_used_at is not None


def test_revoked_tokens_stop_working_and_only_the_owner_may_revoke(
    app, demo: DemoData, web_settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    owner, stranger = app.test_client(), app.test_client()
    login(owner, "student")
    plain = TOKEN.search(_make(owner, "ci").get_data(as_text=True)).group(1)
    (row,) = _rows(web_settings)
    login(stranger, "other")
    revoke = f"/account/tokens/{row.id}/revoke"
    stranger.post(revoke, data={"csrf_token": csrf_token(stranger, "/account/tokens")})
    headers = {"Authorization": f"Bearer {plain}"}
    assert owner.get("/api/v1/courses", headers=headers).status_code == 200
    # Without the form's CSRF token the page refuses (the page is a browser form).
    assert owner.post(revoke).status_code == 400
    owner.post(revoke, data={"csrf_token": csrf_token(owner, "/account/tokens")})
    assert _rows(web_settings)[0].revoked_at is not None
    assert owner.get("/api/v1/courses", headers=headers).status_code == 401


def test_only_staff_may_make_a_staff_token(
    client: FlaskClient, demo: DemoData, web_settings: Settings
) -> None:
    login(client, "student")
    page = client.get("/account/tokens").get_data(as_text=True)
    assert '<option value="staff">' not in page
    refused = _make(client, "sneaky", scope="staff")
    assert refused.status_code == 400 and "TA or instructor" in refused.get_data(as_text=True)
    assert _rows(web_settings) == []
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account/tokens")})
    login(client, "ta")
    assert '<option value="staff">' in client.get("/account/tokens").get_data(as_text=True)
    made = _make(client, "grading scripts", scope="staff")
    plain = TOKEN.search(made.get_data(as_text=True)).group(1)
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"}).get_json()
    assert (me["name"], me["scope"]) == ("ta", "staff")


def test_the_token_page_needs_a_sign_in(client: FlaskClient, demo: DemoData) -> None:
    assert client.get("/account/tokens").status_code == 302


def test_every_page_links_to_the_token_page_and_staff_to_the_instructor_side(
    client: FlaskClient, demo: DemoData
) -> None:
    login(client, "student")
    page = client.get("/courses").get_data(as_text=True)
    assert 'href="/account/tokens"' in page and 'href="/instructor/"' not in page
    client.post("/logout", data={"csrf_token": csrf_token(client, "/courses")})
    login(client, "instructor")
    assert 'href="/instructor/"' in client.get("/courses").get_data(as_text=True)
