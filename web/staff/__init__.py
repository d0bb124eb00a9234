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

__all__ = ["actions", "bp", "reports", "staff_required", "staff_view", "views"]
