"""Observation on the phone (issue 12, item 8) through the test client: the state badge at the
edge of the scheduled day, a fail never on a green banner, cancelling takes a confirmation step,
the scoring progress markup, and the agent's page with what waits for them first."""
import re
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select

from lms.extensions import db
from lms.models import AuditEvent, Practical, RecordEntry
from lms.practicals import services
from tests.conftest import count_queries
from tests.practicals_support import criteria_ids, scenario  # noqa: F401 (fixtures)

EN = {"Accept-Language": "en"}
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
# The center runs on Asia/Shanghai (UTC+8): 24 Nov begins at 16:00 UTC on 23 Nov.
LAST_MINUTE_OF_23 = datetime(2026, 11, 23, 15, 59, tzinfo=timezone.utc)
FIRST_MINUTE_OF_24 = datetime(2026, 11, 23, 16, 0, tzinfo=timezone.utc)


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def people(scenario, make_user):
    mentor = make_user(roles=("mentor", "agent"), star_level=4, name="陈刚")
    agent = make_user(star_level=0, mentor=mentor, name="张晓")
    return {"mentor": mentor, "agent": agent, "scenario": scenario}


def switch_to(client, login_as, user):
    client.post("/logout")
    login_as(user)


def sign_data(scenario, *, empathy="2", verify="1", escalate="na", work_on="", confirm=True):
    ids = criteria_ids(scenario)
    data = {"script_version_id": scenario.script.id, "rubric_version_id": scenario.rubric.id,
            f"c{ids['empathy']}": empathy, f"c{ids['verify']}": verify, f"c{ids['escalate']}": escalate,
            "overall_comment": "", "work_on": work_on, "mood": "calm"}
    if confirm:
        data["confirm"] = "y"
    return {key: value for key, value in data.items() if value is not None}


# --- the state badge ------------------------------------------------------------------------------

@pytest.mark.parametrize("status, scheduled_for, today, expected", [
    ("scheduled", None, date(2026, 11, 23), "in_progress"),  # "observe now"
    ("scheduled", date(2026, 11, 24), date(2026, 11, 23), "scheduled"),
    ("scheduled", date(2026, 11, 24), date(2026, 11, 24), "in_progress"),  # its day has come
    ("scheduled", date(2026, 11, 24), date(2026, 11, 25), "in_progress"),  # overdue, still being run
    ("signed", date(2026, 11, 24), date(2026, 11, 23), "signed"),
    ("cancelled", None, date(2026, 11, 23), "cancelled"),
])
def test_observation_state(status, scheduled_for, today, expected):
    assert services.observation_state(Practical(status=status, scheduled_for=scheduled_for), today) == expected


def test_the_badge_turns_to_in_progress_when_the_day_begins_in_the_center(people, client, login_as, frozen_now):
    frozen_now(NOW)
    practical = services.open_practical(people["mentor"], people["agent"], people["scenario"],
                                        scheduled_for=date(2026, 11, 24), now=NOW)
    path = f"/practicals/{practical.id}"

    frozen_now(LAST_MINUTE_OF_23)
    login_as(people["mentor"])
    head = text_of(client.get(path, headers=EN).get_data(as_text=True))
    assert "Scheduled Nov 24, 2026" in head and "Observation in progress" not in head
    switch_to(client, login_as, people["agent"])
    mine = client.get("/practicals/mine", headers=EN).get_data(as_text=True)
    assert 'class="badge scheduled"' in mine and "in-progress" not in mine

    frozen_now(FIRST_MINUTE_OF_24)
    mine = client.get("/practicals/mine", headers=EN).get_data(as_text=True)
    assert 'class="badge pending in-progress">Observation in progress<' in mine
    assert 'class="badge scheduled"' not in mine
    switch_to(client, login_as, people["mentor"])
    page = client.get(path, headers=EN).get_data(as_text=True)
    assert "Observation in progress" in page and "badge scheduled" not in page


def test_observe_now_is_in_progress_at_once(people, client, login_as, frozen_now):
    frozen_now(NOW)
    login_as(people["mentor"])
    response = client.post("/practicals/new", data={"employee_no": people["agent"].employee_no,
                                                    "scenario": "test-call", "start": "1"})
    page = client.get(response.location, headers=EN).get_data(as_text=True)
    assert "Observation in progress" in page and ">Scheduled<" not in page


def test_scoring_started_on_a_future_practical_shows_in_progress(people, client, login_as, frozen_now):
    frozen_now(NOW)
    practical = services.open_practical(people["mentor"], people["agent"], people["scenario"],
                                        scheduled_for=date(2026, 12, 1), now=NOW)
    login_as(people["mentor"])
    assert "badge scheduled" in client.get(f"/practicals/{practical.id}", headers=EN).get_data(as_text=True)
    # the mentor started early and sent the sheet without ticking "sign": it comes back, now in progress
    page = client.post(f"/practicals/{practical.id}/sign", data=sign_data(people["scenario"], confirm=False),
                       headers=EN).get_data(as_text=True)
    assert "Observation in progress" in page and "badge scheduled" not in page


# --- the scoring sheet: progress, sticky bar, cancel far from sign ------------------------------------

def test_the_sheet_counts_the_criteria_scored(people, client, login_as, frozen_now):
    frozen_now(NOW)
    practical = services.open_practical(people["mentor"], people["agent"], people["scenario"],
                                        scheduled_for=None, now=NOW)
    login_as(people["mentor"])
    html = client.get(f"/practicals/{practical.id}", headers=EN).get_data(as_text=True)
    assert "0 of 3 criteria scored" in text_of(html)
    assert re.search(r'<progress class="observe-meter" max="3" value="0"', html)
    assert 'src="/static/js/observe.js"' in html and 'href="/static/css/observe.css"' in html
    # the mood switch and the counter share the sticky bar; the radios come before it in the form
    bar = html[html.index('class="observe-bar"'):html.index('class="observe-columns"')]
    assert 'class="mood-switch"' in bar and 'id="observe-progress"' in bar
    form = html[html.index('id="observe-form"'):]
    assert form.index('class="mood-radio"') < form.index('class="observe-bar"')
    # each step's script folds; the first is open, the others closed
    steps = re.findall(r'<details class="step step-script" name="observe-step"( open)?>', html)
    assert steps == [" open", ""]
    # every level (and N/A where allowed) is its own label to tap
    ids = criteria_ids(people["scenario"])
    assert html.count('class="level-choice na"') == 1
    assert re.search(rf'<label class="level-choice"><input id="c{ids["empathy"]}-2" name="c{ids["empathy"]}"[^>]*'
                     r'value="2"> <span class="level-points">2</span> <span class="level-text">具体回应</span>', html)

    # sent back with two of three levels chosen: the count says so
    page = client.post(f"/practicals/{practical.id}/sign",
                       data=sign_data(people["scenario"], escalate=None), headers=EN).get_data(as_text=True)
    assert "2 of 3 criteria scored" in text_of(page) and 'value="2" aria-hidden' in page


def test_cancel_is_folded_at_the_top_far_from_sign(people, client, login_as, frozen_now):
    frozen_now(NOW)
    practical = services.open_practical(people["mentor"], people["agent"], people["scenario"],
                                        scheduled_for=None, now=NOW)
    login_as(people["mentor"])
    html = client.get(f"/practicals/{practical.id}", headers=EN).get_data(as_text=True)
    more = html[html.index('<details class="observe-more"'):html.index("</details>", html.index('class="observe-more"'))]
    assert 'id="cancel-practical"' in more and 'name="confirm" value="yes"' in more
    assert "Cancel this observation?" in more
    # Cancel sits in the page head, before the scoring form; Sign is the last button of that form
    assert html.index('id="cancel-practical"') < html.index('id="observe-form"') < html.index('id="sign"')
    sign_form = html[html.index('id="observe-form"'):html.index("</form>", html.index('id="observe-form"'))]
    assert "cancel" not in sign_form.lower()


def test_cancelling_needs_a_confirmation_step(people, client, login_as, frozen_now):
    frozen_now(NOW)
    practical = services.open_practical(people["mentor"], people["agent"], people["scenario"],
                                        scheduled_for=None, now=NOW)
    login_as(people["mentor"])
    path = f"/practicals/{practical.id}/cancel"
    assert client.get(path).status_code == 405  # nothing to see without a form sent from the sheet
    for response in (client.post(path, data={}, headers=EN), client.post(path, data={"confirm": "no"}, headers=EN)):
        page = response.get_data(as_text=True)
        assert response.status_code == 200 and "Cancel this observation?" in page
        assert 'id="confirm-cancel"' in page and 'name="confirm" value="yes"' in page
        assert "No, back to the observation" in page
    db.session.expire_all()
    assert db.session.get(Practical, practical.id).status == "scheduled"
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "practical.cancelled")) == 0

    response = client.post(path, data={"confirm": "yes"}, headers=EN)
    assert response.status_code == 302 and response.location == "/mentoring"
    db.session.expire_all()
    assert db.session.get(Practical, practical.id).status == "cancelled"
    again = client.post(path, data={"confirm": "yes"}, headers=EN, follow_redirects=True)
    assert "Practical cancelled." in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "practical.cancelled")) == 1


def test_the_agent_may_not_reach_the_cancel_confirmation(people, client, login_as, frozen_now):
    frozen_now(NOW)
    practical = services.open_practical(people["mentor"], people["agent"], people["scenario"],
                                        scheduled_for=None, now=NOW)
    login_as(people["agent"])
    assert client.post(f"/practicals/{practical.id}/cancel", data={}).status_code == 403
    assert client.post(f"/practicals/{practical.id}/cancel", data={"confirm": "yes"}).status_code == 403
    db.session.expire_all()
    assert db.session.get(Practical, practical.id).status == "scheduled"


# --- results: a fail is never green ---------------------------------------------------------------

def test_a_fail_is_announced_on_a_red_banner_with_what_to_work_on(people, client, login_as, frozen_now):
    frozen_now(NOW)
    practical = services.open_practical(people["mentor"], people["agent"], people["scenario"],
                                        scheduled_for=None, now=NOW)
    login_as(people["mentor"])
    response = client.post(f"/practicals/{practical.id}/sign",
                           data=sign_data(people["scenario"], verify="0", work_on="先核实身份再查账单"),
                           headers=EN, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "flash-success" not in html
    assert re.search(r'class="flash flash-warning"[^>]*>Signed: not passed \(66\.7%\)', html)
    banner = html[html.index('class="result-banner'):html.index("</div>", html.index('class="result-banner'))]
    assert "result-fail" in banner and "result-pass" not in banner
    assert "Not passed" in banner and "先核实身份再查账单" in banner and "A fatal criterion was not met" in banner
    entry = db.session.scalar(select(RecordEntry).where(RecordEntry.source_id == practical.id))
    assert entry.passed is False

    # the agent's list: the fail waits first, marked as a fail
    switch_to(client, login_as, people["agent"])
    mine = client.get("/practicals/mine", headers=EN).get_data(as_text=True)
    waiting = mine[mine.index('id="waiting"'):mine.index("</section>", mine.index('id="waiting"'))]
    assert "practical-item is-fail" in waiting and 'class="badge fail">Not passed<' in waiting
    assert "Read and acknowledge" in waiting and "is-pass" not in mine


def test_a_pass_is_green(people, client, login_as, frozen_now):
    frozen_now(NOW)
    practical = services.open_practical(people["mentor"], people["agent"], people["scenario"],
                                        scheduled_for=None, now=NOW)
    login_as(people["mentor"])
    html = client.post(f"/practicals/{practical.id}/sign", data=sign_data(people["scenario"]), headers=EN,
                       follow_redirects=True).get_data(as_text=True)
    assert 'class="flash flash-success"' in html and "flash-warning" not in html
    assert 'class="result-banner result-pass"' in html and "result-fail" not in html


# --- the agent's page -----------------------------------------------------------------------------

def test_the_agent_sees_what_waits_first_and_confirms_in_one_tap(people, client, login_as, frozen_now):
    frozen_now(NOW)
    mentor, agent, scenario_ = people["mentor"], people["agent"], people["scenario"]
    ids = criteria_ids(scenario_)
    signed = []
    for _ in range(2):
        practical = services.open_practical(mentor, agent, scenario_, scheduled_for=None, now=NOW)
        services.sign_off(mentor, practical, script_version_id=scenario_.script.id,
                          rubric_version_id=scenario_.rubric.id, marks={ids["empathy"]: 2, ids["verify"]: 1,
                                                                        ids["escalate"]: None},
                          comments={}, overall_comment="", work_on="", mood="calm", now=NOW)
        signed.append(practical.id)
    services.acknowledge(agent, db.session.get(Practical, signed[0]), "", NOW)
    services.open_practical(mentor, agent, scenario_, scheduled_for=date(2026, 12, 1), now=NOW)

    login_as(agent)
    html = client.get("/practicals/mine", headers=EN).get_data(as_text=True)
    order = [html.index(marker) for marker in ('id="waiting"', 'id="coming"', 'id="results"')]
    assert order == sorted(order)  # waiting, then coming up, then earlier results
    waiting = html[order[0]:order[1]]
    assert f'href="/practicals/{signed[1]}"' in waiting and f'href="/practicals/{signed[0]}"' not in waiting
    assert "1 result to read and acknowledge." in text_of(waiting)

    page = client.get(f"/practicals/{signed[1]}", headers=EN).get_data(as_text=True)
    assert 'id="ack-callout"' in page and 'href="#acknowledgement"' in page
    assert page.index('id="ack-callout"') < page.index('id="result"') < page.index('id="acknowledge"')
    response = client.post(f"/practicals/{signed[1]}/acknowledge", data={}, headers=EN, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Acknowledged." in html and 'id="ack-callout"' not in html and 'id="acknowledge"' not in html
    assert 'id="waiting"' not in client.get("/practicals/mine", headers=EN).get_data(as_text=True)


def test_the_agent_page_runs_a_fixed_number_of_queries(people, client, login_as, frozen_now):
    frozen_now(NOW)
    mentor, agent, scenario_ = people["mentor"], people["agent"], people["scenario"]
    ids = criteria_ids(scenario_)

    def add_signed():
        practical = services.open_practical(mentor, agent, scenario_, scheduled_for=None, now=NOW)
        services.sign_off(mentor, practical, script_version_id=scenario_.script.id,
                          rubric_version_id=scenario_.rubric.id,
                          marks={ids["empathy"]: 1, ids["verify"]: 1, ids["escalate"]: 1},
                          comments={}, overall_comment="", work_on="", mood="calm", now=NOW)

    add_signed()
    login_as(agent)
    one = count_queries(lambda: client.get("/practicals/mine"))
    for _ in range(4):
        add_signed()
    services.open_practical(mentor, agent, scenario_, scheduled_for=date(2026, 12, 1), now=NOW)
    assert count_queries(lambda: client.get("/practicals/mine")) == one
