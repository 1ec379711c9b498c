"""The mentor's page: mentees, pending practicals, recent results, pass rates; bounded queries."""
import re
from datetime import date, datetime, timedelta, timezone

import pytest

from lms.practicals import services
from tests.practicals_support import criteria_ids, scenario  # noqa: F401 (fixtures)
from tests.conftest import count_queries

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
EN = {"Accept-Language": "en"}


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def section(html: str, heading: str) -> str:
    match = re.search(rf"<h[12]>{heading}</h[12]>(.*?)</section>", html, re.S)
    assert match, heading
    return text_of(match.group(1))


def observe(mentor, agent, scenario, *, passed=True, when=NOW, scheduled_for=None):
    practical = services.open_practical(mentor, agent, scenario, scheduled_for=scheduled_for, now=when)
    ids = criteria_ids(scenario)
    return services.sign_off(mentor, practical, script_version_id=scenario.script.id,
                             rubric_version_id=scenario.rubric.id,
                             marks={ids["empathy"]: 2, ids["verify"]: 1 if passed else 0, ids["escalate"]: 1},
                             comments={}, overall_comment="", work_on="" if passed else "核实身份", mood=None, now=when)


@pytest.fixture
def mentor(make_user):
    return make_user(roles=("mentor", "agent"), star_level=4, name="陈刚")


def test_mentees_with_star_level_pending_results_and_pass_rates(scenario, mentor, make_user, client, login_as):
    zhang = make_user(star_level=0, mentor=mentor, name="张晓")
    liu = make_user(star_level=1, mentor=mentor, name="刘洋")
    zhao = make_user(star_level=2, mentor=mentor, name="赵磊")
    stranger = make_user(star_level=3, mentor=make_user(roles=("mentor",)), name="别人的学员")
    observe(mentor, zhang, scenario, when=NOW - timedelta(days=3))
    failed = observe(mentor, zhang, scenario, passed=False, when=NOW - timedelta(days=2))
    liu_fail = observe(mentor, liu, scenario, passed=False, when=NOW - timedelta(days=1))
    # liu's fail is corrected into a pass: it counts once, as a pass, and needs no re-observation
    services.correct_practical(mentor, services.load_practical_for(mentor, liu_fail.source_id),
                               marks={i: 1 for i in criteria_ids(scenario).values()} |
                               {criteria_ids(scenario)["empathy"]: 2}, comments={}, reason="分数录错", now=NOW)
    services.open_practical(mentor, zhao, scenario, scheduled_for=date(2026, 12, 2), now=NOW)
    observe(make_user(roles=("trainer",)), stranger, scenario)
    services.start_rehearsal(zhao, scenario, NOW)

    login_as(mentor)
    html = client.get("/mentoring", headers=EN).get_data(as_text=True)
    mentees = section(html, "My mentees")
    assert "Pass rate of your mentees’ practicals: 67% (2 of 3)." in mentees
    assert mentees.index("刘洋") < mentees.index("张晓") < mentees.index("赵磊")  # by name
    assert "别人的学员" not in html
    rows = {name: re.search(rf'<li class="course-card" id="mentee-{user.id}">(.*?)</li>', html, re.S).group(1)
            for name, user in (("zhang", zhang), ("liu", liu), ("zhao", zhao))}
    assert "2 practicals · 50% passed" in text_of(rows["zhang"]) and "1 practical · 100% passed" in text_of(rows["liu"])
    assert "0 practicals · no result yet" in text_of(rows["zhao"])
    assert 'aria-label="2 stars"' in rows["zhao"] and 'aria-label="0 stars"' in rows["zhang"]
    pending = section(html, "Pending practicals")
    assert "赵磊 · 测试场景 Scheduled Dec 2, 2026" in pending
    assert "张晓 · 测试场景 Failed: re-observation to schedule" in pending
    assert "刘洋" not in pending
    recent = section(html, "Recent results")
    assert recent.count("测试场景") == 3 and "别人的学员" not in recent
    assert "赵磊 · 测试场景" in section(html, "Recent rehearsals")

    # once the re-observation is scheduled, the fail is no longer waiting for one
    services.schedule_reobservation(mentor, services.load_practical_for(mentor, failed.source_id),
                                    scheduled_for=None, now=NOW)
    pending = section(client.get("/mentoring", headers=EN).get_data(as_text=True), "Pending practicals")
    assert "Failed: re-observation to schedule" not in pending and "Re-observation" in pending


def test_the_mentee_page_lists_practicals_and_rehearsals(scenario, mentor, make_user, client, login_as):
    agent = make_user(star_level=1, mentor=mentor, name="张晓")
    observe(mentor, agent, scenario)
    services.start_rehearsal(agent, scenario, NOW)
    login_as(mentor)
    html = text_of(client.get(f"/mentoring/mentees/{agent.id}", headers=EN).get_data(as_text=True))
    assert "张晓" in html and "Passed" in html and "awaiting acknowledgement" in html and "not finished" in html
    assert client.get("/mentoring/mentees/99999").status_code == 404


def test_a_mentor_without_mentees_sees_an_empty_page(mentor, client, login_as, app):
    login_as(mentor)
    html = client.get("/mentoring", headers=EN).get_data(as_text=True)
    assert "Nobody has you as their mentor yet." in html and "Nothing pending." in html


@pytest.mark.parametrize("path", ["/mentoring", "/mentoring/mentees/{agent}", "/practicals/mine",
                                  "/practicals/{practical}", "/practicals/scenarios"])
def test_pages_run_the_same_number_of_queries_whatever_the_numbers(scenario, mentor, make_user, client, login_as,
                                                                    path):
    agent = make_user(star_level=0, mentor=mentor)
    first = observe(mentor, agent, scenario)
    # one of everything first, so the growth below adds rows, not kinds of rows
    observe(mentor, agent, scenario, passed=False)
    services.open_practical(mentor, agent, scenario, scheduled_for=None, now=NOW)
    services.start_rehearsal(agent, scenario, NOW)
    correct_and_acknowledge(mentor, agent, first.source_id, scenario)
    viewer = agent if path == "/practicals/mine" else mentor
    login_as(viewer)
    url = path.format(agent=agent.id, practical=first.source_id)

    def count() -> int:
        return count_queries(lambda: client.get(url).status_code == 200 or pytest.fail(url))

    client.get(url)
    small = count()
    for n in range(6):
        other = make_user(star_level=n % 5, mentor=mentor)
        for passed in (True, False):
            observe(mentor, other, scenario, passed=passed)
            observe(mentor, agent, scenario, passed=passed)
        services.open_practical(mentor, other, scenario, scheduled_for=None, now=NOW)
        services.start_rehearsal(other, scenario, NOW)
        services.start_rehearsal(agent, scenario, NOW)
    correct_and_acknowledge(mentor, agent, first.source_id, scenario)
    assert count() == small


def correct_and_acknowledge(mentor, agent, practical_id, scenario):
    services.correct_practical(mentor, services.load_practical_for(mentor, practical_id),
                               marks={i: 0 for i in criteria_ids(scenario).values()}, comments={}, reason="x", now=NOW)
    services.acknowledge(agent, services.load_practical_for(agent, practical_id), "", NOW)


def test_mentees_show_their_open_and_overdue_assignments(catalog, mentor, make_user, client, login_as, frozen_now):
    from lms.catalog.services import find_course, load_progress
    from lms.plans import services as plans
    from lms.plans.services import Target

    frozen_now(NOW)
    make_user(star_level=1, mentor=mentor, name="赵磊", team="热线二组")  # behind on the plan
    on_time = make_user(star_level=1, mentor=mentor, name="刘洋", team="热线一组")
    trainer = make_user(roles=("trainer",), star_level=5)
    course = find_course(load_progress(trainer), "basics-a")
    plan = plans.create_plan(trainer, name="冬季专项", description="", now=NOW)
    plans.add_assignment(trainer, plan, item=course, item_kind="course", target=Target("team", team="热线二组"),
                         starts_on=date(2026, 11, 2), due_on=date(2026, 11, 20), month=None, now=NOW)
    plans.add_assignment(trainer, plan, item=course, item_kind="course", target=Target("agent", user=on_time),
                         starts_on=date(2026, 11, 2), due_on=date(2026, 11, 30), month=None, now=NOW)
    login_as(mentor)
    html = client.get("/mentoring", headers=EN).get_data(as_text=True)
    rows = {name: text_of(part) for name, part in re.findall(r'mentee-name"[^>]*>([^<]+)</a>(.*?)</li>\s*</ul>', html, re.S)}
    assert "Assigned and not done: 0 open · 1 overdue" in rows["赵磊"]
    assert "Assigned and not done: 1 open" in rows["刘洋"] and "overdue" not in rows["刘洋"]
