"""The agent home (issue 12): what matters today first (continue, one timeline of what is due or
waiting), then the level's progress ring and next star, the level's courses as cards that count
their exam and practicals, earlier and higher levels folded; the catalog for staff; English plurals;
the course page's lesson rows; a bounded number of queries."""
import re
from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from lms.catalog.home import (ACKNOWLEDGE, ASSIGNMENT, ASSIGNMENTS, OVERDUE, REFRESHER, RETAKE, SESSION, SURVEY, TODAY,
                              WEEK, LATER, Retake, build_agenda)
from lms.clock import utcnow
from lms.content.sync import sync_courses
from lms.extensions import db
from lms.lessons.services import complete_lesson
from lms.models import Course, ExamAttempt
from lms.models.classroom import ClassSession
from tests.conftest import count_queries, write_course
from tests.exam_support import make_bank, make_exam
from tests.practicals_support import scenario, write_scenario  # noqa: F401 (fixture)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)  # a Monday, 17:00 in the center's zone
EN = {"Accept-Language": "en"}


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def block(html: str, pattern: str) -> str:
    match = re.search(pattern, html, re.S)
    assert match, pattern
    return match.group(0)


def card_of(html: str, title: str) -> str:
    """The <li class="course-card ..."> that holds the course called `title`."""
    for card in re.findall(r'<li class="course-card.*?</li>', html, re.S):
        if f">{title}<" in card:
            return card
    raise AssertionError(f"no card for {title}")


@pytest.fixture
def page(client, login_as):
    def get(user, path="/learn", headers=EN):
        client.post("/logout")
        login_as(user)
        response = client.get(path, headers=headers)
        assert response.status_code == 200
        return response.get_data(as_text=True)

    return get


def read_course(user, slug: str) -> None:
    course = db.session.scalar(select(Course).where(Course.slug == slug))
    for lesson in course.live_lessons:
        complete_lesson(user, lesson)


def failed_attempt(user, exam, at: datetime, number: int = 1, percent: float = 40.0) -> None:
    db.session.add(ExamAttempt(exam_id=exam.id, user_id=user.id, number=number, state="graded", started_at=at,
                               deadline=at + timedelta(minutes=20), submitted_at=at + timedelta(minutes=10),
                               score=percent / 10, max_score=10, percent=percent, passed=False))
    db.session.commit()


def course_exam(slug: str, bank, **settings):
    course = db.session.scalar(select(Course).where(Course.slug == slug))
    return make_exam([(bank, 1)], slug=f"{slug}-final", course=course, **settings)


# --- the order of the blocks ---------------------------------------------------------------------

def test_the_home_shows_what_matters_today_first(catalog, make_user, page, frozen_now, monkeypatch):
    frozen_now(NOW)
    agent = make_user(star_level=1, name="刘洋")
    board = SimpleNamespace(month="2026-10", by="index", rows=[SimpleNamespace(rank=1, user=agent, value=88.0)])
    monkeypatch.setattr("lms.reports.recognition.board_for_home", lambda now: board)
    html = page(agent)
    ids = ["continue", "agenda", "level-progress", "level-1", "earlier-levels", "higher-levels", "recognition-home"]
    positions = [html.index(f'id="{name}"') for name in ids]
    assert positions == sorted(positions), dict(zip(ids, positions))
    assert html.index("Hello, 刘洋") < positions[0]
    # the level's courses: required first, then electives
    level = block(html, r'<section class="level-group current" id="level-1">.*?</section>')
    assert level.index(">Required<") < level.index("课程 level-one")
    assert "<title>My learning" in html and "Training index 88" in html


# --- course cards ---------------------------------------------------------------------------------

def test_a_course_card_counts_its_lessons_exam_and_practicals_and_says_where_it_stands(
        course_root, make_user, page, frozen_now):
    frozen_now(NOW)
    write_course(course_root, "0-01-a", slug="basics-a", lessons=("one", "two", "three", "four", "five"),
                 extra="practicals: [test-call]\n")
    write_scenario(course_root, "0-01-a")
    write_course(course_root, "0-02-b", slug="basics-b", lessons=("only",))
    write_course(course_root, "1-01-c", slug="level-one", level=1, track="in-service")
    sync_courses(db.session, course_root, utcnow())
    course_exam("basics-a", make_bank("kb", per_type=1, types=("single",)))
    agent = make_user(star_level=0)

    html = page(agent)
    a, b = text_of(card_of(html, "课程 basics-a")), text_of(card_of(html, "课程 basics-b"))
    assert "5 lessons" in a and "exam" in a and "1 practical" in a and "Not started" in a
    assert "1 lesson " in b + " " and "1 lessons" not in b and "exam" not in b and "practical" not in b
    assert "Opens at 1 star" in text_of(card_of(html, "课程 level-one"))

    course = db.session.scalar(select(Course).where(Course.slug == "basics-a"))
    for lesson in course.live_lessons[:3]:
        complete_lesson(agent, lesson)
    card = card_of(page(agent), "课程 basics-a")
    assert "In progress 3/5" in text_of(card) and 'aria-valuenow="60"' in card
    read_course(agent, "basics-a")
    card = text_of(card_of(page(agent), "课程 basics-a"))
    assert "Exam to pass" in card and "In progress" not in card


def test_the_ring_is_the_share_of_the_levels_required_courses_complete(catalog, make_user, page, frozen_now):
    frozen_now(NOW)
    agent = make_user(star_level=0)
    ring = re.compile(r'<svg class="ring"[^>]*data-percent="(\d+)"')
    html = page(agent)
    assert ring.search(html).group(1) == "0" and "0 of 2 required courses complete" in text_of(html)
    read_course(agent, "basics-a")
    read_course(agent, "elective-e")  # an elective does not count
    html = page(agent)
    assert ring.search(html).group(1) == "50"
    assert "1 of 2 required courses complete" in text_of(block(html, r'id="level-progress".*?</div>'))
    assert 'stroke-dasharray="50 100"' in html and ">50%</text>" in html
    read_course(agent, "basics-b")
    assert ring.search(page(agent)).group(1) == "100"


def test_the_next_star_says_how_many_conditions_are_left_with_the_checklist_folded(catalog, make_user, page):
    html = page(make_user(star_level=0))
    star = block(html, r'<div class="next-star" id="next-star">.*?</details>')
    assert "Next star:" in star and "conditions left" in star and "Lessons to read: 0 of 3 read" in star
    assert "<details open" not in star


# --- other levels ------------------------------------------------------------------------------------

def test_earlier_and_higher_levels_fold_behind_one_line_each(catalog, make_user, page):
    agent = make_user(star_level=1)
    html = page(agent)
    earlier = block(html, r'<details class="level-fold earlier" id="earlier-levels">.*?</details>')
    higher = block(html, r'<details class="level-fold higher" id="higher-levels">.*?</details>')
    assert text_of(re.search(r"<summary>.*?</summary>", earlier, re.S).group(0)) == \
        "Earlier levels 0 stars · 0 of 2 required courses complete"
    assert text_of(re.search(r"<summary>.*?</summary>", higher, re.S).group(0)) == "Higher levels 2 stars · locked"
    assert 'id="level-0"' in earlier and 'id="level-2"' in higher
    assert "Unlocks when you reach 2 stars:" in text_of(higher)
    assert html.count('<details class="level-fold') == 2 and 'id="earlier-levels" open' not in html
    assert 'id="level-1"' not in earlier + higher  # the agent's own level is open on the page

    read_course(agent, "basics-a")
    read_course(agent, "basics-b")
    html = page(agent)
    assert "Earlier levels 0 stars · all complete" in text_of(html)
    top = make_user(star_level=3)
    html = page(top)
    assert "Earlier levels 0–2 stars ·" in text_of(html) and "higher-levels" not in html


# --- staff without the agent role -----------------------------------------------------------------

@pytest.mark.parametrize("role", ["admin", "trainer"])
def test_staff_without_the_agent_role_get_the_course_catalog(catalog, make_user, page, role):
    user = make_user(roles=(role,), star_level=5, name="王敏")
    html = page(user)
    assert "<title>Course catalog" in html and "<h1>Course catalog</h1>" in html
    for level in (0, 1, 2):
        assert f'<section class="level-group" id="level-{level}">' in html  # every level open, none folded
    for absent in ('class="ring', "level-fold", "5-star agent", "Your level", "Hello, ", "Unlocks when", "Not started",
                   'id="agenda"', 'id="continue"', 'class="progress"'):
        assert absent not in html, absent
    assert "5 星坐席" not in page(user, headers={"Accept-Language": "zh-CN"})


# --- English plurals (FOUND.md) -----------------------------------------------------------------------

def test_counts_read_right_in_english(course_root, make_user, page, client):
    write_course(course_root, "0-01-a", slug="basics-a", lessons=("only",))
    write_course(course_root, "1-01-c", slug="level-one", level=1)
    write_course(course_root, "2-01-r", slug="refresh", level=2, track="refresher", extra="valid_months: 1\n")
    write_course(course_root, "3-01-r", slug="refresh-year", level=3, track="refresher", extra="valid_months: 12\n")
    sync_courses(db.session, course_root, utcnow())
    html = text_of(page(make_user(star_level=0)))
    assert "Unlocks when you reach 1 star:" in html and "Unlocks when you reach 2 stars:" in html
    assert "Opens at 1 star" in html and "Opens at 2 stars" in html
    assert "1 lesson " in html and "1 lessons" not in html and "0 of 1 required course complete" in html
    assert "Refresher, every month" in html and "Refresher, every 12 months" in html
    course = text_of(client.get("/courses/basics-a", headers=EN).get_data(as_text=True))
    assert "0 of 1 lesson read" in course and "1 lessons" not in course
    locked = text_of(client.get("/courses/refresh", headers=EN).get_data(as_text=True))
    assert "This course opens when you reach 2 stars." in locked and "Refresher, every month" in locked


# --- the course page --------------------------------------------------------------------------------

def test_a_lesson_row_is_title_then_minutes_and_read_mark_without_dangling_separators(catalog, make_user, client,
                                                                                      login_as):
    agent = make_user(star_level=0)
    login_as(agent)
    client.post("/courses/basics-a/lessons/one/complete")
    html = client.get("/courses/basics-a", headers=EN).get_data(as_text=True)
    rows = re.findall(r"<li class=\"(read)?\">(.*?)</li>", block(html, r'<ol class="lesson-list">.*?</ol>'), re.S)
    assert len(rows) == 3
    read, body = rows[0]
    assert read == "read" and "·" not in body
    assert re.search(r'<a class="lesson-title" href="/courses/basics-a/lessons/one">basics-a 第1课</a>\s*'
                     r'<span class="lesson-meta"><span>3 min</span><span class="done-mark">✓ Read</span></span>',
                     body)
    assert "done-mark" not in rows[1][1] and '<span class="lesson-meta"><span>3 min</span></span>' in rows[1][1]
    assert 'href="/learn"' in html  # back to the agent home, also for someone landing elsewhere


# --- the timeline ---------------------------------------------------------------------------------------

def test_the_timeline_lists_a_retake_a_result_to_acknowledge_an_assignment_and_a_session(
        scenario, course_root, make_user, page, frozen_now):
    from lms.plans import services as plans
    from lms.practicals import services as practicals
    from tests.practicals_support import criteria_ids

    frozen_now(NOW)
    mentor = make_user(roles=("mentor", "agent"), star_level=4, name="陈刚")
    agent = make_user(star_level=0, mentor=mentor, team="热线一组", name="张晓")
    trainer = make_user(roles=("trainer",))
    exam = course_exam("basics-a", make_bank("kb", per_type=1, types=("single",)), attempts_allowed=3,
                       retake_delay_minutes=24 * 60)
    failed_attempt(agent, exam, NOW - timedelta(hours=2))
    practical = practicals.open_practical(mentor, agent, scenario, scheduled_for=None, now=NOW)
    ids = criteria_ids(scenario)
    practicals.sign_off(mentor, practical, script_version_id=scenario.script.id, rubric_version_id=scenario.rubric.id,
                        marks={ids["empathy"]: 2, ids["verify"]: 1, ids["escalate"]: None}, comments={},
                        overall_comment="", work_on="", mood="calm", now=NOW - timedelta(days=1))
    plan = plans.create_plan(trainer, name="冬季专项", description="", now=NOW)
    plans.add_assignment(trainer, plan, item=db.session.scalar(select(Course).where(Course.slug == "basics-a")),
                         item_kind="course", target=plans.Target("team", team="热线一组"),
                         starts_on=date(2026, 11, 1), due_on=date(2026, 11, 20), month=None, now=NOW)
    db.session.add(ClassSession(title="情绪复原小组课", starts_at=NOW + timedelta(days=2),
                                ends_at=NOW + timedelta(days=2, hours=1), audience={"teams": ["热线一组"]}))
    db.session.commit()

    agenda = block(page(agent), r'<section class="card agenda" id="agenda".*?</section>')
    text = text_of(agenda)
    assert text.index("Overdue") < text.index("课程 basics-a") < text.index("Today")  # the overdue assignment
    today = text[text.index("Today"):text.index("This week")]
    assert "测试场景" in today and "Practical result: read it and acknowledge it" in today
    assert f'href="/practicals/{practical.id}"' in agenda
    week = text[text.index("This week"):]
    assert "考试 basics-a-final" in week and "You may try again from" in week and "2 attempts left" in week
    assert "情绪复原小组课" in week

    practicals.acknowledge(agent, practical, "", NOW)
    assert "测试场景" not in page(agent)


def _task(status, due, plan="plan:1", title="课程"):
    return SimpleNamespace(status=status, due_on=due, plan=SimpleNamespace(key=plan), item=SimpleNamespace(title=title))


def test_build_agenda_puts_each_thing_in_its_bucket_and_groups_a_plans_items_due_together():
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Asia/Shanghai")
    today = date(2026, 11, 23)
    expired = SimpleNamespace(status="expired", valid_until=NOW - timedelta(days=3))
    due = SimpleNamespace(status="due", valid_until=NOW + timedelta(days=20))
    agenda = build_agenda(
        assignments=[_task("overdue", today - timedelta(days=2)), _task("due_soon", today)]
        + [_task("open", today + timedelta(days=5), plan="onboarding", title=f"课{n}") for n in range(4)],
        sessions=[SimpleNamespace(session=SimpleNamespace(starts_at=NOW - timedelta(minutes=10))),  # running now
                  SimpleNamespace(session=SimpleNamespace(starts_at=NOW + timedelta(days=6)))],
        surveys=[SimpleNamespace(title="问卷")], refreshers=[expired, due], to_acknowledge=[SimpleNamespace()],
        retakes=[Retake(None, None, None, 2), Retake(None, None, NOW + timedelta(days=1), 1)],
        now=NOW, zone=zone)
    kinds = {bucket: [item.kind for item in agenda[bucket]] for bucket in (OVERDUE, TODAY, WEEK, LATER)}
    assert sorted(kinds[OVERDUE]) == sorted([ASSIGNMENT, REFRESHER])
    assert sorted(kinds[TODAY]) == sorted([ACKNOWLEDGE, RETAKE, SESSION, SURVEY, ASSIGNMENT])
    assert sorted(kinds[WEEK]) == sorted([RETAKE, SESSION, ASSIGNMENTS])
    assert kinds[LATER] == [REFRESHER]
    grouped = next(item for item in agenda[WEEK] if item.kind == ASSIGNMENTS)
    assert [task.item.title for task in grouped.tasks] == ["课0", "课1", "课2", "课3"]
    # within a bucket: things waiting now first, then by time
    assert agenda[TODAY][-1].kind == ASSIGNMENT and [i.kind for i in agenda[WEEK]] == [RETAKE, ASSIGNMENTS, SESSION]
    assert len(agenda) == 11 and agenda
    # by the center's local day: Wednesday 07:00 (Tuesday 23:00 UTC) comes after what is due on Tuesday
    early = SimpleNamespace(session=SimpleNamespace(starts_at=datetime(2026, 11, 24, 23, 0, tzinfo=timezone.utc)))
    week = build_agenda(assignments=[_task("open", date(2026, 11, 24))], sessions=[early], now=NOW, zone=zone)[WEEK]
    assert [item.kind for item in week] == [ASSIGNMENT, SESSION]
    assert not build_agenda(now=NOW, zone=zone)


# --- queries --------------------------------------------------------------------------------------------

def test_the_home_runs_the_same_number_of_queries_for_2_and_20_courses(course_root, make_user, client, login_as,
                                                                      frozen_now):
    frozen_now(NOW)
    agent = make_user(star_level=1)
    bank = make_bank("kb", per_type=1, types=("single",))

    write_course(course_root, "0-00-s", slug="scenarios", lessons=("a",))
    write_scenario(course_root, "0-00-s")

    def add_courses(numbers):
        for n in numbers:
            write_course(course_root, f"{n % 3}-{n:02d}-c", slug=f"c{n}", level=n % 3, lessons=("a", "b"),
                         extra="practicals: [test-call]\n")
        sync_courses(db.session, course_root, utcnow())
        for n in numbers:
            exam = course_exam(f"c{n}", bank, attempts_allowed=3, retake_delay_minutes=60)
            if n % 3 < 2:
                failed_attempt(agent, exam, NOW - timedelta(minutes=30))
            read_course(agent, f"c{n}")

    add_courses(range(2))
    login_as(agent)

    def count() -> int:
        return count_queries(lambda: client.get("/learn").status_code == 200 or pytest.fail("home"))

    client.get("/learn")
    small = count()
    assert "You may try again from" in client.get("/learn", headers=EN).get_data(as_text=True)
    add_courses(range(2, 20))
    client.get("/learn")
    assert count() == small
