"""The OpenAPI 3.1 description of ``/api/v1``, served at ``/api/v1/openapi.json``.

Written by hand next to the routes (small, and says what each answers); a test
compares its paths and methods with the app's url_map, both ways.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify
from werkzeug.wrappers import Response

from web.api import bp

COURSE = {"name": "course_id", "in": "path", "required": True, "schema": {"type": "integer"}}
SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}
SUBMISSION = {
    "name": "submission_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer"},
}
BATCH = {"name": "batch", "in": "path", "required": True, "schema": {"type": "string"}}
UPLOAD_ID = {"name": "upload_id", "in": "path", "required": True, "schema": {"type": "integer"}}
LOGIN = {"name": "login", "in": "path", "required": True, "schema": {"type": "string"}}
ERRORS = {
    "401": {"description": "no valid token"},
    "404": {"description": "not found, or not yours to see (the same answer)"},
}
STAFF_ERRORS = ERRORS | {"403": {"description": "the token's scope is student"}}
JSON = {"application/json": {"schema": {"type": "object"}}}


def _op(
    summary: str,
    params: list[dict[str, Any]],
    *,
    staff: bool = False,
    ok: str = "200",
    body: dict[str, Any] | None = None,
    media: str = "application/json",
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "tags": ["staff" if staff else "student"],
        "parameters": params,
        "responses": {ok: {"description": "OK", "content": {media: {}}}}
        | (STAFF_ERRORS if staff else ERRORS)
        | (extra or {}),
    }
    if body is not None:
        op["requestBody"] = body
    return op


UPLOAD = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {
                    "files": {"type": "array", "items": {"type": "string", "format": "binary"}}
                },
            }
        }
    },
}
OVERRIDE = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["score", "comment"],
                "properties": {"score": {"type": "number"}, "comment": {"type": "string"}},
            }
        }
    },
}
A = "/courses/{course_id}/assignments/{slug}"
S = "/courses/{course_id}/submissions/{submission_id}"

PATHS: dict[str, dict[str, Any]] = {
    "/openapi.json": {
        "get": {
            "summary": "This description (no token needed)",
            "security": [],
            "responses": {"200": {"description": "OK", "content": JSON}},
        }
    },
    "/me": {"get": _op("The token's user and scope", [])},
    "/courses": {"get": _op("The courses the user is enrolled in, with their role", [])},
    "/courses/{course_id}/assignments": {
        "get": _op("The course's assignments (newest version of each)", [COURSE])
    },
    A: {"get": _op("One assignment, with the user's counted submission", [COURSE, SLUG])},
    A + "/submissions": {
        "get": _op("The user's own submissions to the assignment, newest first", [COURSE, SLUG]),
        "post": _op(
            "Submit (multipart field 'files': one .py, several files or a .zip)",
            [COURSE, SLUG],
            ok="201",
            body=UPLOAD,
            extra={
                "400": {"description": "the upload was refused (the message says why)"},
                "403": {"description": "past the due date, late work not accepted"},
                "429": {"description": "a rate limit or the in-flight cap (Retry-After)"},
            },
        ),
    },
    "/submissions/{submission_id}": {
        "get": _op(
            "Status with queue position and progress (own submission, or staff of its course)",
            [SUBMISSION],
        )
    },
    "/submissions/{submission_id}/report": {
        "get": _op(
            "The report by role: the student view for its student; the whole report for a "
            "staff token of its course",
            [SUBMISSION],
        )
    },
    "/courses/{course_id}/gradebook": {
        "get": _op("The gradebook: the score that counts per student and assignment", [COURSE],
                   staff=True)
    },
    "/courses/{course_id}/gradebook.csv": {
        "get": _op("The gradebook as Canvas imports it", [COURSE], staff=True, media="text/csv")
    },
    A + "/all-submissions": {
        "get": _op(
            "Every submission to the assignment, each with what its newest report lists for "
            "a TA to look at (filters: status, min, max, late, errors, flagged, student)",
            [COURSE, SLUG],
            staff=True,
        )
    },
    A + "/submissions.zip": {
        "get": _op("Every upload of the assignment in one zip", [COURSE, SLUG], staff=True,
                   media="application/zip")
    },
    A + "/regrade": {
        "post": _op("Regrade every submission of the assignment (one batch)", [COURSE, SLUG],
                    staff=True, ok="202")
    },
    A + "/batches/{batch}": {
        "get": _op("A regrade batch's progress", [COURSE, SLUG, BATCH], staff=True)
    },
    S: {"get": _op("A submission as the staff page shows it", [COURSE, SUBMISSION], staff=True)},
    S + "/overrides": {
        "get": _op("The submission's override audit log, oldest first", [COURSE, SUBMISSION],
                   staff=True),
        "post": _op(
            "Override the score (a comment is required; recorded in the audit log)",
            [COURSE, SUBMISSION],
            staff=True,
            ok="201",
            body=OVERRIDE,
            extra={"400": {"description": "refused (no comment, not a number, over the max)"}},
        ),
    },
    S + "/regrade": {
        "post": _op("Regrade one submission (its earlier reports are kept)", [COURSE, SUBMISSION],
                    staff=True, ok="202")
    },
    "/courses/{course_id}/roster": {
        "post": _op(
            "Import a CSV roster (instructors): the preview, or with apply=true the changes "
            "(add, update, drop; idempotent) and new accounts' initial passwords",
            [COURSE], staff=True,
            body={"required": True, "content": {"multipart/form-data": {}, "application/json": {}}},
            extra={"201": {"description": "applied"},
                   "400": {"description": "the file has errors (nothing changed)"}},
        )
    },
    A + "/settings": {
        "get": _op("The assignment's course settings (instructors), what its manifest prefers "
                   "for the queue (manifest) and where a new run or regrade goes (new_runs)",
                   [COURSE, SLUG], staff=True),
        "put": _op(
            "Set due, hidden_release, grace_minutes, late_penalty_per_day, late_penalty_cap, "
            "accept_late, counts, rate_limit (COUNT/SECONDS), max_in_flight, queue (cpu or gpu; "
            "kept when left out) (instructors; logged)",
            [COURSE, SLUG], staff=True, body={"required": True, "content": JSON},
            extra={"400": {"description": "a value cannot be used"}},
        ),
    },
    A + "/extensions": {
        "post": _op(
            "Give, change or (due null) remove a student's extension (instructors; logged)",
            [COURSE, SLUG], staff=True, ok="201", body={"required": True, "content": JSON},
            extra={"400": {"description": "not a student of the course, or a bad date"}},
        )
    },
    "/courses/{course_id}/uploads": {
        "post": _op(
            "Upload an assignment folder as a .zip (multipart file; instructors; logged): "
            "unpacked and its manifest read, then validated by a worker's job on the queue "
            "(status validating; the report grows as the job runs)",
            [COURSE], staff=True, ok="202",
            body={"required": True, "content": {"multipart/form-data": {}}},
            extra={"400": {"description": "not an assignment folder, or an unsafe archive"}},
        )
    },
    "/courses/{course_id}/uploads/{upload_id}": {
        "get": _op("An upload: status (validating, valid, invalid, published) and the "
                   "validation report", [COURSE, UPLOAD_ID], staff=True)
    },
    "/courses/{course_id}/uploads/{upload_id}/validate": {
        "post": _op("Validate an upload again (one whose job was lost, or invalid)",
                    [COURSE, UPLOAD_ID], staff=True, ok="202",
                    extra={"409": {"description": "valid or published: nothing to do"}})
    },
    "/courses/{course_id}/uploads/{upload_id}/publish": {
        "post": _op("Publish a VALID upload to the course (a new version keeps old reports)",
                    [COURSE, UPLOAD_ID], staff=True, ok="201",
                    extra={"409": {"description": "not valid (yet)"}})
    },
    "/courses/{course_id}/copy": {
        "post": _op(
            "A new course for the next term with this one's assignments and settings (JSON "
            "slug, title, shift_days: every date moved by that many days; instructors; logged "
            "in both courses); the caller is its instructor. No people, submissions or "
            "extensions are copied",
            [COURSE], staff=True, ok="201", body={"required": True, "content": JSON},
            extra={"400": {"description": "a bad short name, title or shift, or a taken name"}},
        )
    },
    "/courses/{course_id}/audit": {
        "get": _op("The course's audit log of settings, extensions and roster changes, each "
                   "entry also as a sentence (said)", [COURSE], staff=True)
    },
    "/courses/{course_id}/people/{login}/one-time-password": {
        "post": _op(
            "Issue a student of the course a one-time password (instructors; logged, the "
            "password itself never): returned once, to be changed at the next sign-in; every "
            "session of the account ends and its API tokens are revoked",
            [COURSE, LOGIN], staff=True, ok="201",
            extra={"403": {"description": "the account has a role outside the courses the "
                                          "caller teaches: only its owner or a site "
                                          "administrator sets its password"}},
        )
    },
}  # fmt: skip

DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "dlgrade portal API",
        "version": "1",
        "description": "What students and staff do in the portal, as JSON. Authenticate with a "
        "personal token made at /account/tokens: Authorization: Bearer <token>.",
    },
    "servers": [{"url": "/api/v1"}],
    "components": {"securitySchemes": {"token": {"type": "http", "scheme": "bearer"}}},
    "security": [{"token": []}],
    "paths": PATHS,
}


@bp.route("/openapi.json")
def openapi() -> Response:
    return jsonify(DOCUMENT)
