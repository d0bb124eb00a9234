"""The portal: a Flask app on the worker's database and queue.

Layout (for whoever adds a page):

- ``create_app(config)`` below: the application factory. ``config`` may hold
  ``DLGRADE_SETTINGS`` (a ``worker.config.Settings``; default: the environment's),
  ``DLGRADE_PUBLISH`` (how a run reaches the broker; ``None`` leaves runs queued
  in the database for a worker's reaper, as the tests do), ``DLGRADE_VALIDATE``
  (how an uploaded assignment's validation job reaches the workers; ``None``,
  the default where ``DLGRADE_PUBLISH`` is, leaves it ``validating``), ``SECRET_KEY``,
  ``DLGRADE_TLS`` (served over HTTPS: Secure cookies, HSTS; default from the
  environment variable of that name, ``1``) and Flask's own keys.
- ``web/extensions.py``: Flask-Login and Flask-WTF's CSRFProtect, created once
  and bound with ``init_app``. CSRF covers every POST: each form carries
  ``{{ csrf_token() }}`` (see ``templates/macros.html``).
- ``web/database.py``: ``db()`` is the request's SQLAlchemy session on the
  worker's models (``worker/models.py``; schema changes go there plus an Alembic
  revision in ``worker/migrations``; never a second schema). On SQLite its reads
  take no write lock (see there); work that must read-then-write atomically
  belongs in ``worker`` functions on the worker's engine, as ``worker.submit`` does.
- ``web/access.py``: who may see what. ``enrollment_or_404`` and
  ``staff_required(course_id)`` (TA or instructor of THAT course, else 404) are
  the only gates; a view calls one before reading anything of a course.
  ``site_admin_required`` guards ``/admin``. The session cookie carries the
  account's session version (logout and a password change end every session),
  and a session signed in with a one-time password opens nothing but the page
  that replaces it.
- ``web/grades.py``: the numbers both sides show (score that counts, late
  penalty, overrides, queue position, what a student may see of a report).
- ``web/security.py``: response headers (CSP without inline scripts or styles:
  JavaScript lives in ``static/js``), cookie flags, the sign-in rate limit.
- Blueprints, one per audience: ``web/auth`` (sign in/out, one's own password;
  ``passwords.py`` says who may set whose), ``web/admin`` (site administrators:
  courses and their instructors, one-time passwords), ``web/student``
  (courses, assignments, uploads, live status, reports), ``web/staff`` (the
  TAs' and instructors' pages). Templates under ``templates/<blueprint>/``
  extend ``base.html``; Jinja autoescapes everything, never mark student text safe.
- ``web/api`` (``/api/v1``, bearer tokens only, CSRF-exempt; ``/account/tokens``)
  and ``web/instructor`` (``/instructor``: courses, roster, assignment uploads and
  settings, the course audit log), both registered by ``web.api.init_app``.
- ``web/demo.py``: the demo course (used by ``make demo`` and the tests);
  ``web/cli.py``: ``dlgrade portal serve | demo``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from typing import Any

from flask import Flask


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """A portal application; see the module's docstring for ``config``."""
    from web import access, database, security
    from web.extensions import csrf, login_manager

    app = Flask(__name__)
    app.config.update(config or {})
    app.config.setdefault("DLGRADE_TLS", os.environ.get("DLGRADE_TLS", "") in ("1", "true"))
    if "DLGRADE_SETTINGS" not in app.config:
        from worker.config import load_settings

        app.config["DLGRADE_SETTINGS"] = load_settings()
    settings = app.config["DLGRADE_SETTINGS"]
    if not app.config.get("SECRET_KEY"):  # Flask's own default is None
        from grader.config import secret_key

        # Derived, not the key itself: a leaked session key must not reveal hidden seeds.
        app.config["SECRET_KEY"] = hmac.new(
            secret_key(), b"dlgrade portal sessions", hashlib.sha256
        ).hexdigest()
    if "DLGRADE_PUBLISH" not in app.config:
        from worker.app import publisher

        app.config["DLGRADE_PUBLISH"] = publisher(settings)
    if "DLGRADE_VALIDATE" not in app.config:
        from worker.app import validation_sender

        # No broker for the runs (None), none for the validation jobs either.
        no_broker = app.config["DLGRADE_PUBLISH"] is None
        app.config["DLGRADE_VALIDATE"] = None if no_broker else validation_sender(settings)
    # Room for the form around an upload at the limit; the upload check gives the clear message.
    if app.config.get("MAX_CONTENT_LENGTH") is None:  # Flask's own default is None
        app.config["MAX_CONTENT_LENGTH"] = settings.max_upload_bytes + 256 * 1024
    security.configure(app)
    database.init_app(app)
    login_manager.init_app(app)
    csrf.init_app(app)
    access.init_app(app)

    from web.auth import bp as auth_bp
    from web.staff import bp as staff_bp
    from web.student import bp as student_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(student_bp)
    app.register_blueprint(staff_bp, url_prefix="/staff")
    from web import api

    api.init_app(app)  # /api/v1 (bearer tokens, CSRF-exempt) and /account/tokens
    from web import health

    health.init_app(app)  # /healthz, /readyz, /metrics (no sign-in: probes and Prometheus)
    if os.environ.get("DLGRADE_BEHIND_PROXY", "") in ("1", "true"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        # One proxy in front (nginx): the client's address is the last X-Forwarded-For hop.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]
    _error_pages(app)
    return app


def _error_pages(app: Flask) -> None:
    from flask import render_template
    from werkzeug.exceptions import HTTPException

    words = {
        400: ("Bad request", "The form was incomplete or expired; go back, reload and try again."),
        404: ("Not found", "There is nothing here, or it is not yours to see."),
        413: ("Upload too large", "The upload is larger than the portal accepts; submit only "
              "your source files."),
    }  # fmt: skip

    def page(err: HTTPException):  # type: ignore[no-untyped-def]
        title, message = words.get(err.code or 500, (err.name, err.description))
        return render_template("errors/message.html", title=title, message=message), err.code

    for code in words:
        app.register_error_handler(code, page)
