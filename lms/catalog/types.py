"""The seed regime's four kinds of course (front matter `type`), with the one label each shows."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from lms.models.courses import COURSE_TYPES

COURSE_TYPE_LABELS = {
    "business": _l("Business"),
    "norms": _l("Operating norms"),
    "skills": _l("Skills"),
    "advancement": _l("Advancement"),
}
assert tuple(COURSE_TYPE_LABELS) == COURSE_TYPES  # one label per type, in the regime's order


def type_label(course_type: str | None):
    """The label of a course type, or None for an unclassified course (or a value no longer known)."""
    return COURSE_TYPE_LABELS.get(course_type) if course_type else None


def known_type(value: str | None) -> str | None:
    """`value` when it names a course type, else None (a filter then shows every course)."""
    return value if value in COURSE_TYPE_LABELS else None
