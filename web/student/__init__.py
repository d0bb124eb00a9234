"""The students' pages: courses, assignments, hand-in, live status, reports, history."""

from flask import Blueprint

bp = Blueprint("student", __name__)

from web.student import views  # noqa: E402,F401  (registers the routes)
