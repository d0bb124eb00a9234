"""The instructors' side: create a course, import its roster, set each assignment's rules.

Every page of a course is ``instructor_view``: an INSTRUCTOR of that course
(a TA or a student gets 404, as elsewhere). Every change is written to the
course's audit log (``audit``) in the same transaction as the change.

- ``roster``: CSV import with a preview (add, update, drop; idempotent).
- ``settings``: due dates, hidden-check release, late policy, which submission
  counts, rate limit and in-flight cap, the grading queue; students' extensions.
- ``people``: the course's people; one-time passwords for its students.
- ``views``: the pages.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint

from web.access import instructor_required

bp = Blueprint("instructor", __name__)
F = TypeVar("F", bound=Callable[..., Any])


def instructor_view(view: F) -> F:
    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        instructor_required(int(kwargs["course_id"]))
        return view(*args, **kwargs)

    return guarded  # type: ignore[return-value]


@bp.after_request
def _no_store(response):  # type: ignore[no-untyped-def]
    """Instructor pages may show one-time passwords: never cached."""
    response.headers["Cache-Control"] = "no-store"
    return response


from web.instructor import people, views  # noqa: E402,F401  (registers the routes)
