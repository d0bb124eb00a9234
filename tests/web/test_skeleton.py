"""The app factory's promises: security headers, cookie flags, CSRF, hashed passwords, sign-in."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.web.conftest import PASSWORD, csrf_token, login
from web import create_app
from web.demo import DemoData
from worker.db import get_engine
from worker.models import User


def test_every_page_carries_the_security_headers(client: FlaskClient) -> None:
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "object-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_pages_have_no_inline_scripts_or_styles(client: FlaskClient, demo: DemoData) -> None:
    login(client, "student")
    for url in ("/login", "/courses", f"/courses/{demo.course_id}/a/worker-tiny"):
        html = client.get(url).get_data(as_text=True)
        for script in html.split("<script")[1:]:
            assert 'src="/static/' in script.split(">")[0], script[:80]
        assert " style=" not in html and "<style" not in html
        assert " onclick=" not in html and " onload=" not in html


def test_session_cookie_is_httponly_and_samesite(client: FlaskClient, demo: DemoData) -> None:
    response = login(client, "student")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain HTTP: a Secure cookie would never come back


def test_behind_tls_the_cookie_is_secure_and_hsts_is_sent(web_settings, demo: DemoData) -> None:
    app = create_app(
        {"DLGRADE_SETTINGS": web_settings, "DLGRADE_PUBLISH": None, "SECRET_KEY": "t"}
        | {"DLGRADE_TLS": True}
    )
    client = app.test_client()
    response = login(client, "student")
    assert "Secure" in response.headers["Set-Cookie"]
    assert "max-age" in response.headers["Strict-Transport-Security"]


def test_passwords_are_stored_as_scrypt_hashes(web_settings, demo: DemoData) -> None:
    with get_engine(web_settings.database_url).connect() as conn:
        stored = conn.scalar(select(User.password_hash).where(User.name == "student"))
    assert stored.startswith("scrypt:") and PASSWORD not in stored


def test_sign_in_and_out(client: FlaskClient, demo: DemoData) -> None:
    assert client.get("/courses").status_code == 302  # not signed in: to the login page
    assert login(client, "student").status_code == 302
    assert "Deep-learning foundations" in client.get("/courses").get_data(as_text=True)
    token = csrf_token(client, "/courses")
    client.post("/logout", data={"csrf_token": token})
    assert client.get("/courses").status_code == 302


def test_wrong_password_is_refused(client: FlaskClient, demo: DemoData) -> None:
    response = login(client, "student", "wrong")
    assert response.status_code == 401
    assert client.get("/courses").status_code == 302


def test_a_post_without_the_csrf_token_is_refused(client: FlaskClient, demo: DemoData) -> None:
    response = client.post("/login", data={"name": "student", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/courses").status_code == 302  # and nobody was signed in
    login(client, "student")
    refused = client.post(f"/courses/{demo.course_id}/a/worker-tiny/submit", data={})
    assert refused.status_code == 400
    refused = client.post("/logout")
    assert refused.status_code == 400


def test_sign_in_is_rate_limited_per_name(client: FlaskClient, demo: DemoData) -> None:
    for _ in range(5):
        assert login(client, "student", "guess").status_code == 401
    response = login(client, "student", PASSWORD)  # even the right password, now
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.get_data(as_text=True)
    assert client.get("/courses").status_code == 302
    assert login(client, "other").status_code == 302  # another name is not locked out


def test_staff_blueprint_is_registered(app: Flask) -> None:
    assert "staff" in app.blueprints


def test_without_a_configured_key_the_service_secret_keys_the_sessions(
    web_settings, demo: DemoData
) -> None:
    app = create_app({"DLGRADE_SETTINGS": web_settings, "DLGRADE_PUBLISH": None})
    assert app.config["SECRET_KEY"]
    client = app.test_client()
    assert login(client, "student").status_code == 302
    assert client.get("/courses").status_code == 200


def test_a_request_larger_than_any_upload_is_refused_plainly(web_settings, demo: DemoData) -> None:
    import io

    settings = web_settings.with_(max_upload_bytes=1024)
    app = create_app({"DLGRADE_SETTINGS": settings, "DLGRADE_PUBLISH": None, "SECRET_KEY": "t"})
    client = app.test_client()
    login(client, "student")
    token = csrf_token(client, f"/courses/{demo.course_id}/a/worker-tiny")
    response = client.post(
        f"/courses/{demo.course_id}/a/worker-tiny/submit",
        data={"csrf_token": token, "files": [(io.BytesIO(b"#" * 400_000), "tiny.py")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert "Upload too large" in response.get_data(as_text=True)
    assert not (web_settings.data_dir / "submissions").exists()
