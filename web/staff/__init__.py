"""The staff side (TAs and instructors of a course): H7 builds its pages here.

Every view takes the course from its URL and calls ``staff_required(course_id)``
(or is decorated with ``staff_view``) before reading anything: a TA of one
course never reaches another course's objects.
"""

from flask import Blueprint

from web.access import staff_required, staff_view

bp = Blueprint("staff", __name__)

__all__ = ["bp", "staff_required", "staff_view"]
