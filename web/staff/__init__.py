"""The staff side: pages for the TAs and instructors of a course.

Every view takes the course from its URL and is decorated with ``staff_view``
(or calls ``staff_required(course_id)``) before reading anything: a TA of one
course never reaches another course's objects, and every lookup by id is
scoped to the course again (``web.staff.queries``).

- ``views``: their courses, the gradebook, an assignment's submissions, one submission.
- ``actions``: score overrides (``overrides``) and regrades (``regrade``).
- ``reports``: Canvas CSV and zip exports (``export``), class analytics
  (``analytics``), the similarity report (``similarity``).
"""

from flask import Blueprint

from web.access import staff_required, staff_view

bp = Blueprint(
    "staff",
    __name__,
    static_folder="static",
    static_url_path="/static",
)

from web.staff import actions, reports, views  # noqa: E402  (they register on bp)


@bp.app_context_processor
def _staff_link() -> dict[str, bool]:
    """``teaches_a_course`` for base.html's "Staff" link (one small query per page)."""
    from flask_login import current_user
    from sqlalchemy import select

    from web.access import STAFF_ROLES
    from web.database import db
    from worker.models import Enrollment

    if not current_user.is_authenticated:
        return {"teaches_a_course": False}
    found = db().scalar(
        select(Enrollment.id)
        .where(Enrollment.user_id == current_user.id, Enrollment.role.in_(STAFF_ROLES))
        .limit(1)
    )
    return {"teaches_a_course": found is not None}


__all__ = ["actions", "bp", "reports", "staff_required", "staff_view", "views"]
