"""The home page by star level: required and elective courses, locked levels, prerequisites,
the continue card, and a bounded number of queries."""
import re

import pytest

from lms.extensions import db
from tests.conftest import count_queries


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def section(html: str, level: int) -> str:
    match = re.search(rf'<section class="level-group[^"]*" id="level-{level}">(.*?)</section>', html, re.S)
    assert match, f"no section for level {level}"
    return match.group(1)


@pytest.fixture
def get_home(client, login_as):
    def get(user):
        login_as(user)
        return client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)

    return get


def test_new_hire_sees_their_level_with_required_and_electives(catalog, make_user, get_home):
    html = get_home(make_user(star_level=0))
    level0 = section(html, 0)
    assert 'class="level-group current" id="level-0"' in html  # the agent's own level, not folded
    required, electives = level0.split("Electives")
    assert "课程 basics-a" in required and "课程 basics-b" in required
    assert "课程 elective-e" in electives
    # the level's progress card, before its courses
    progress = re.search(r'id="level-progress">(.*?)</h2>.*?</p>', html, re.S).group(0)
    assert "Your level" in progress and "0 of 2 required courses complete" in text_of(progress)
    assert html.index('id="level-progress"') < html.index('id="level-0"')


def test_higher_levels_are_visible_but_locked(catalog, make_user, get_home):
    html = get_home(make_user(star_level=0))
    level1 = section(html, 1)
    assert "课程 level-one" in level1
    assert "Unlocks when you reach 1 star:" in text_of(level1)
    assert 'class="level-group locked"' in html
    assert "course-card locked" in level1


def test_an_agent_at_level_two_has_earlier_levels_folded_and_nothing_locked_below(catalog, make_user, get_home):
    html = get_home(make_user(star_level=2))
    assert "Earlier levels" in html
    assert "Unlocks when" not in html  # the highest level in the catalog is theirs
    assert html.index('id="level-2"') < html.index("Earlier levels")


def test_prerequisite_shows_what_to_finish_first(catalog, make_user, get_home):
    html = get_home(make_user(star_level=0))
    assert "Finish first: 课程 basics-a" in text_of(html)


def test_continue_card_starts_with_the_first_required_lesson(catalog, make_user, get_home):
    html = get_home(make_user(star_level=0))
    card = re.search(r'id="continue">(.*?)</section>', html, re.S).group(1)
    assert "basics-a 第1课" in card and "Read now · 3 min" in text_of(card)
    assert "/courses/basics-a/lessons/one" in card


def test_continue_card_resumes_the_last_opened_unfinished_lesson(catalog, client, make_user, get_home):
    user = make_user(star_level=1)
    get_home(user)
    client.get("/courses/level-one/lessons/two")
    html = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    card = re.search(r'id="continue">(.*?)</section>', html, re.S).group(1)
    assert "/courses/level-one/lessons/two" in card
    client.post("/courses/level-one/lessons/two/complete")
    html = client.get("/").get_data(as_text=True)
    card = re.search(r'id="continue">(.*?)</section>', html, re.S).group(1)
    # two is done, so the card moves on to the lesson after it
    assert "/courses/level-one/lessons/three" in card


def test_course_page_for_a_locked_level_lists_lessons_without_links(catalog, client, make_user, login_as):
    login_as(make_user(star_level=0))
    html = client.get("/courses/level-one", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "This course opens when you reach 1 star." in html
    assert "/courses/level-one/lessons/" not in html


def test_trainers_see_every_course_open(catalog, client, make_user, login_as):
    login_as(make_user(roles=("trainer",), star_level=0))
    html = client.get("/courses/refresh").get_data(as_text=True)
    assert "/courses/refresh/lessons/one" in html


def test_unknown_course_is_404(catalog, client, make_user, login_as):
    login_as(make_user())
    assert client.get("/courses/nope").status_code == 404


@pytest.mark.parametrize("path", ["/", "/courses/basics-a", "/courses/basics-a/lessons/one"])
def test_pages_run_the_same_number_of_queries_whatever_the_catalog_size(catalog, client, make_user, login_as, path):
    from tests.conftest import write_course
    from lms.clock import utcnow
    from lms.content.sync import sync_courses

    user = make_user(star_level=3)
    login_as(user)

    def count() -> int:
        return count_queries(lambda: client.get(path).status_code == 200 or pytest.fail(path))

    client.get(path)
    small = count()
    for n in range(12):
        write_course(catalog, f"3-{n:02d}-more", slug=f"more-{n}", level=n % 4, lessons=("a", "b", "c", "d", "e"))
    sync_courses(db.session, catalog, utcnow())
    for n in range(6):
        client.post(f"/courses/more-{n}/lessons/a/complete")
    assert count() == small
