"""Course types (issue 13, item 4): one label per type, the catalog's filter chips, the type on each card."""
from __future__ import annotations

import re

import pytest

from lms import clock
from lms.catalog.types import COURSE_TYPE_LABELS, known_type, type_label
from lms.content.sync import sync_courses
from lms.extensions import db
from lms.models import COURSE_TYPES
from tests.conftest import write_course


def test_one_label_per_type():
    assert tuple(COURSE_TYPE_LABELS) == COURSE_TYPES
    assert known_type("skills") == "skills" and known_type("nonsense") is None and known_type(None) is None
    assert type_label(None) is None


@pytest.fixture
def typed(app, course_root):
    write_course(course_root, "0-01-a", slug="biz", extra="type: business\n")
    write_course(course_root, "0-02-b", slug="skill-a", extra="type: skills\n")
    write_course(course_root, "0-03-c", slug="plain")
    write_course(course_root, "1-01-d", slug="skill-b", level=1, extra="type: skills\n")
    sync_courses(db.session, course_root, clock.utcnow())


def course_links(body: str) -> set[str]:
    return set(re.findall(r'href="/courses/([\w-]+)" class="course-link"', body))


def chips(body: str) -> list[tuple[str, bool]]:
    nav = body.split('class="type-filter"', 1)[1].split("</nav>", 1)[0]
    return [(href, bool(current)) for href, current in
            re.findall(r'<a class="type-chip" href="([^"]+)"( aria-current="page")?>', nav)]


@pytest.mark.parametrize("roles,star", [(("agent",), 0), (("trainer",), 0)])
def test_filter_chips_and_filtered_lists(typed, make_user, login_as, roles, star):
    client = login_as(make_user(roles=roles, star_level=star, preferred_language="en"))
    everything = client.get("/learn").get_data(as_text=True)
    assert course_links(everything) == {"biz", "skill-a", "plain", "skill-b"}
    # All, then only the types that occur (business, skills), in the regime's order; All is current
    assert chips(everything) == [("/learn#course-types", True), ("/learn?type=business#course-types", False),
                                 ("/learn?type=skills#course-types", False)]
    assert 'badge course-type type-business">Business<' in everything

    skills = client.get("/learn?type=skills").get_data(as_text=True)
    assert course_links(skills) == {"skill-a", "skill-b"}
    assert chips(skills)[2] == ("/learn?type=skills#course-types", True) and not chips(skills)[0][1]


@pytest.mark.parametrize("value", ["nonsense", "", "<script>", "skills%00", "NORMS"])
def test_an_unknown_type_shows_every_course(typed, make_user, login_as, value):
    client = login_as(make_user(roles=("trainer",)))
    response = client.get("/learn", query_string={"type": value})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert course_links(body) == {"biz", "skill-a", "plain", "skill-b"}
    assert chips(body)[0][1]


def test_no_chips_when_no_course_has_a_type(app, course_root, make_user, login_as):
    write_course(course_root, "0-01-a", slug="plain")
    sync_courses(db.session, course_root, clock.utcnow())
    body = login_as(make_user()).get("/learn").get_data(as_text=True)
    assert "type-filter" not in body and "plain" in course_links(body)


def test_a_type_absent_from_the_agent_s_level_says_so(typed, make_user, login_as):
    client = login_as(make_user(star_level=1, preferred_language="en"))  # level 1 holds only a skills course
    body = client.get("/learn?type=business").get_data(as_text=True)
    assert "No courses of this type at this level." in body
    assert course_links(body) == {"biz"}
