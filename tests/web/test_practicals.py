"""Practicals through the test client: the permission matrix, signing from the form,
immutability, corrections, acknowledgement, scenario authoring and rehearsal."""
import re
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from lms.extensions import db
from lms.models import AuditEvent, Practical, PracticalAcknowledgement, RecordEntry, Rehearsal, Scenario
from lms.practicals import services
from tests.practicals_support import SCENARIO, criteria_ids, scenario  # noqa: F401 (fixtures)
from tests.conftest import assert_access

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
EN = {"Accept-Language": "en"}


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def world(scenario, make_user):
    mentor = make_user(roles=("mentor", "agent"), star_level=4, name="陈刚")
    other_mentor = make_user(roles=("mentor", "agent"), star_level=4, name="别的导师")
    agent = make_user(star_level=0, mentor=mentor, name="张晓")
    people = {
        "mentor": mentor, "other_mentor": other_mentor, "agent": agent,
        "other_agent": make_user(star_level=0, mentor=other_mentor, name="别的学员"),
        "trainer": make_user(roles=("trainer",), name="李静"),
        "admin": make_user(roles=("admin",), name="王敏"),
    }
    scheduled = services.open_practical(mentor, agent, scenario, scheduled_for=None, now=NOW)
    signed = services.open_practical(mentor, agent, scenario, scheduled_for=None, now=NOW)
    ids = criteria_ids(scenario)
    services.sign_off(mentor, signed, script_version_id=scenario.script.id, rubric_version_id=scenario.rubric.id,
                      marks={ids["empathy"]: 2, ids["verify"]: 1, ids["escalate"]: None}, comments={},
                      overall_comment="", work_on="", mood="calm", now=NOW)
    rehearsal = services.start_rehearsal(agent, scenario, NOW)
    return {**people, "scenario": scenario, "scheduled": scheduled.id, "signed": signed.id, "rehearsal": rehearsal.id}


def sign_data(scenario, empathy="2", verify="1", escalate="na", confirm=True, **extra):
    ids = criteria_ids(scenario)
    data = {"script_version_id": scenario.script.id, "rubric_version_id": scenario.rubric.id,
            f"c{ids['empathy']}": empathy, f"c{ids['verify']}": verify, f"c{ids['escalate']}": escalate,
            f"note{ids['empathy']}": "开场很好", "overall_comment": "整体稳定", "work_on": "", "mood": "angry", **extra}
    if confirm:
        data["confirm"] = "y"
    return {key: value for key, value in data.items() if value is not None}


ROLES = ["anonymous", "mentor", "other_mentor", "trainer", "agent", "other_agent", "admin"]
# (name, method, path, data, roles allowed): everyone else logged in gets 403, anonymous the login page
ROUTES = [
    ("view scheduled", "GET", lambda w: f"/practicals/{w['scheduled']}", None, {"mentor", "trainer", "agent", "admin"}),
    ("view signed", "GET", lambda w: f"/practicals/{w['signed']}", None, {"mentor", "trainer", "agent", "admin"}),
    ("sign", "POST", lambda w: f"/practicals/{w['scheduled']}/sign", lambda w: sign_data(w["scenario"]),
     {"mentor", "trainer"}),
    ("correct form", "GET", lambda w: f"/practicals/{w['signed']}/correct", None, {"mentor", "trainer"}),
    ("correct", "POST", lambda w: f"/practicals/{w['signed']}/correct",
     lambda w: {**sign_data(w["scenario"], verify="0"), "reason": "复核录音"}, {"mentor", "trainer"}),
    ("acknowledge", "POST", lambda w: f"/practicals/{w['signed']}/acknowledge", lambda w: {"comment": "收到"},
     {"agent"}),
    ("cancel", "POST", lambda w: f"/practicals/{w['scheduled']}/cancel", None, {"mentor", "trainer"}),
    ("new practical", "GET", lambda w: "/practicals/new", None, {"mentor", "other_mentor", "trainer"}),
    ("my practicals", "GET", lambda w: "/practicals/mine", None, set(ROLES) - {"anonymous"}),
    ("scenario list", "GET", lambda w: "/practicals/scenarios", None, set(ROLES) - {"anonymous"}),
    ("new scenario", "GET", lambda w: "/practicals/scenarios/new", None, {"trainer", "admin"}),
    ("edit scenario", "GET", lambda w: "/practicals/scenarios/test-call/edit", None, {"trainer", "admin"}),
    ("rehearsal", "GET", lambda w: f"/practicals/rehearsals/{w['rehearsal']}", None,
     {"agent", "mentor", "trainer", "admin"}),
    ("rehearsal step", "GET", lambda w: f"/practicals/rehearsals/{w['rehearsal']}/steps/1", None, {"agent"}),
    ("mentor page", "GET", lambda w: "/mentoring", None, {"mentor", "other_mentor"}),
    ("mentee page", "GET", lambda w: f"/mentoring/mentees/{w['agent'].id}", None, {"mentor", "trainer", "admin"}),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name, method, path, data, allowed", ROUTES, ids=[route[0] for route in ROUTES])
def test_role_route_matrix(world, client, login_as, role, name, method, path, data, allowed):
    if role != "anonymous":
        login_as(world[role])
    entries_before = db.session.scalar(select(func.count(RecordEntry.id)))
    response = client.open(path(world), method=method, data=data(world) if data else None)
    assert_access(response, role, allowed)
    if role != "anonymous" and role not in allowed:
        assert db.session.scalar(select(func.count(RecordEntry.id))) == entries_before  # nothing was written


def test_a_refusal_says_which_rule_applies(world, client, login_as):
    login_as(world["other_mentor"])
    html = client.post(f"/practicals/{world['scheduled']}/sign", data=sign_data(world["scenario"]), headers=EN)
    assert html.status_code == 403 and "This belongs to someone else." in html.get_data(as_text=True)


def test_self_signoff_is_refused_even_for_a_trainer(world, client, login_as, make_user):
    trainer_agent = make_user(roles=("trainer", "agent"), mentor=world["mentor"], name="自己")
    practical = services.open_practical(world["mentor"], trainer_agent, world["scenario"], scheduled_for=None, now=NOW)
    login_as(trainer_agent)
    page = client.get(f"/practicals/{practical.id}", headers=EN).get_data(as_text=True)
    assert 'id="sign"' not in page and "Your mentor will run this scenario" in page
    response = client.post(f"/practicals/{practical.id}/sign", data=sign_data(world["scenario"]), headers=EN)
    assert response.status_code == 403
    assert "Nobody may observe or sign off their own practical." in response.get_data(as_text=True)
    response = client.post("/practicals/new", data={"employee_no": trainer_agent.employee_no, "scenario": "test-call",
                                                    "start": "1"}, headers=EN)
    assert "Nobody may observe or sign off their own practical." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(RecordEntry.id)).where(RecordEntry.user_id == trainer_agent.id)) == 0


def test_mentor_opens_runs_scores_and_signs(world, client, login_as):
    login_as(world["mentor"])
    response = client.post("/practicals/new", data={"employee_no": world["agent"].employee_no, "scenario": "test-call",
                                                    "start": "1"})
    practical_id = int(response.location.rsplit("/", 1)[1])
    page = client.get(response.location, headers=EN).get_data(as_text=True)
    for expected in ("你们怎么又断网了！", "Model phrasings", "先回应情绪", "may be N/A", "fatal: 0 fails the practical",
                     'name="confirm"', 'id="sign"'):
        assert expected in page
    response = client.post(f"/practicals/{practical_id}/sign", data=sign_data(world["scenario"], escalate="0"),
                           headers=EN, follow_redirects=True)
    assert "Signed: passed with 75%." in response.get_data(as_text=True)  # exactly the pass mark
    entry = db.session.scalar(select(RecordEntry).where(RecordEntry.source_id == practical_id))
    assert (entry.score, entry.max_score, entry.percent, entry.passed, entry.band) == (3.0, 4.0, 75.0, True, "pass")
    assert entry.details["script_version_id"] == world["scenario"].script.id


def test_signing_from_the_form(world, client, login_as):
    login_as(world["mentor"])
    path = f"/practicals/{world['scheduled']}"
    response = client.post(f"{path}/sign", data=sign_data(world["scenario"]), headers=EN, follow_redirects=True)
    html = text_of(response.get_data(as_text=True))
    assert "Signed: passed with 100%." in html and "Passed" in html and "Excellent" in html
    assert "开场很好" in html and "整体稳定" in html and "N/A" in html
    assert "Waiting for 张晓 to acknowledge." in html
    entry = db.session.scalar(select(RecordEntry).where(RecordEntry.source_id == world["scheduled"]))
    assert entry.details["mood"] == "angry" and entry.recorded_by_id == world["mentor"].id
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "practical.signed")) == 2


@pytest.mark.parametrize("change, message", [
    ({"confirm": False}, "Tick the box to sign."),
    ({"empathy": None}, "Choose a level."),
    ({"verify": "na"}, "Not a valid choice"),  # this criterion may not be N/A
    ({"verify": "0"}, "The result is a fail: say what the agent should work on"),
])
def test_an_incomplete_signoff_is_shown_again_and_writes_nothing(world, client, login_as, change, message):
    login_as(world["mentor"])
    response = client.post(f"/practicals/{world['scheduled']}/sign", data=sign_data(world["scenario"], **change),
                           headers=EN)
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert 'value="开场很好"' in response.get_data(as_text=True) or "开场很好" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(RecordEntry.id))) == 1  # the world's signed practical only


def test_a_fail_with_what_to_work_on_then_a_reobservation(world, client, login_as):
    login_as(world["mentor"])
    path = f"/practicals/{world['scheduled']}"
    client.post(f"{path}/sign", data=sign_data(world["scenario"], verify="0", work_on="先核实身份再查账单"))
    html = text_of(client.get(path, headers=EN).get_data(as_text=True))
    assert "Not passed" in html and "A fatal criterion was not met" in html and "先核实身份再查账单" in html
    response = client.post(f"{path}/reobserve", data={"scheduled_for": "2026-12-01"})
    follow_up = db.session.scalar(select(Practical).where(Practical.reobservation_of_id == world["scheduled"]))
    assert response.location == f"/practicals/{follow_up.id}" and follow_up.scheduled_for.isoformat() == "2026-12-01"
    again = client.post(f"{path}/reobserve", data={}, headers=EN, follow_redirects=True)
    assert "A re-observation is already scheduled." in again.get_data(as_text=True)


def test_a_signed_practical_has_no_edit_route_and_cannot_be_signed_again(world, client, login_as, app):
    practical_rules = {rule.endpoint for rule in app.url_map.iter_rules() if "<int:practical_id>" in rule.rule}
    assert practical_rules == {"practicals.show", "practicals.sign", "practicals.correct", "practicals.acknowledge",
                               "practicals.reobserve", "practicals.cancel"}
    login_as(world["mentor"])
    assert client.get(f"/practicals/{world['signed']}/edit").status_code == 404
    before = db.session.get(RecordEntry, db.session.get(Practical, world["signed"]).record_entry_id).percent
    response = client.post(f"/practicals/{world['signed']}/sign", data=sign_data(world["scenario"], verify="0",
                                                                                   work_on="x"),
                           headers=EN, follow_redirects=True)
    assert "already signed" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(RecordEntry.id))) == 1
    db.session.expire_all()
    assert db.session.get(RecordEntry, db.session.get(Practical, world["signed"]).record_entry_id).percent == before
    assert 'id="sign"' not in client.get(f"/practicals/{world['signed']}").get_data(as_text=True)


def test_a_correction_from_the_form(world, client, login_as):
    login_as(world["trainer"])
    path = f"/practicals/{world['signed']}/correct"
    form = client.get(path, headers=EN).get_data(as_text=True)
    empathy = criteria_ids(world["scenario"])["empathy"]
    # the form starts from the result in force: empathy at 2, escalate N/A
    assert re.search(rf'<input checked id="c{empathy}-2"[^>]*value="2"', form), form
    missing = client.post(path, data={**sign_data(world["scenario"], verify="0"), "reason": ""}, headers=EN)
    assert missing.status_code == 200 and db.session.scalar(select(func.count(RecordEntry.id))) == 1
    response = client.post(path, data={**sign_data(world["scenario"], verify="0"), "reason": "录音复核：未核实身份"},
                           headers=EN, follow_redirects=True)
    html = text_of(response.get_data(as_text=True))
    assert "Correction signed." in html and "录音复核：未核实身份" in html and "History" in html
    entries = db.session.scalars(select(RecordEntry).order_by(RecordEntry.id)).all()
    assert len(entries) == 2 and entries[1].corrects_id == entries[0].id and entries[1].passed is False
    assert entries[1].recorded_by_id == world["trainer"].id


def test_the_agent_sees_and_acknowledges_their_result(world, client, login_as):
    login_as(world["agent"])
    mine = text_of(client.get("/practicals/mine", headers=EN).get_data(as_text=True))
    # the result to acknowledge comes first, under its own heading; the world's undated practical
    # ("observe now") is under way, not merely scheduled
    assert "测试场景" in mine and "Waiting for you 1 result to read and acknowledge." in mine
    assert "Observation in progress" in mine
    path = f"/practicals/{world['signed']}"
    page = client.get(path, headers=EN).get_data(as_text=True)
    assert 'id="acknowledge"' in page and 'id="sign"' not in page and "Correct this result" not in page
    response = client.post(f"{path}/acknowledge", data={"comment": "谢谢，下次开场放慢"}, headers=EN,
                           follow_redirects=True)
    html = text_of(response.get_data(as_text=True))
    assert "Acknowledged." in html and "谢谢，下次开场放慢" in html and 'id="acknowledge"' not in html
    again = client.post(f"{path}/acknowledge", data={}, headers=EN, follow_redirects=True)
    assert "You have already acknowledged this result." in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count(PracticalAcknowledgement.id))) == 1
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "practical.acknowledged"))
    assert event.actor_id == world["agent"].id and event.details["comment"] == "谢谢，下次开场放慢"


def test_trainers_write_scenarios_in_the_browser_with_line_numbered_errors(world, client, login_as):
    login_as(world["trainer"])
    form = client.get("/practicals/scenarios/new", headers=EN).get_data(as_text=True)
    assert "## 客户画像" in form and "pass_percent" in form  # starts from a template in the file format
    course_id = world["scenario"].course_id
    bad = client.post("/practicals/scenarios/new", headers=EN, data={
        "slug": "web-call", "course": course_id, "text": SCENARIO.replace("weight: 2", "weight: lots")})
    assert bad.status_code == 200
    bad_html = bad.get_data(as_text=True)  # each problem: its line as a button that jumps there, then the message
    assert re.search(r'data-line="8"[^>]*>Line 8</button>\s*<span class="error-message">[^<]*&#39;weight&#39;[^<]*'
                     r"a whole number from 1 to 100, not &#39;lots&#39;", bad_html), bad_html
    assert db.session.scalar(select(func.count(Scenario.id))) == 1
    response = client.post("/practicals/scenarios/new", data={"slug": "web-call", "course": course_id,
                                                              "text": SCENARIO.replace("测试场景", "网页写的场景")})
    assert response.location == "/practicals/scenarios/web-call"
    edit = client.post("/practicals/scenarios/web-call/edit", headers=EN, follow_redirects=True, data={
        "course": course_id, "text": SCENARIO.replace("测试场景", "网页写的场景").replace("pass_percent: 75", "pass_percent: 70")})
    assert "Saved as a new version." in edit.get_data(as_text=True)
    created = db.session.scalar(select(Scenario).where(Scenario.slug == "web-call"))
    assert [v.pass_percent for v in created.rubric_versions] == [75.0, 70.0] and len(created.script_versions) == 1


def test_rehearsal_steps_reveal_the_model_after_trying(world, client, login_as):
    login_as(world["agent"])
    response = client.post("/practicals/scenarios/test-call/rehearse")
    step_one = response.location
    rehearsal_id = int(step_one.split("/")[3])
    page = client.get(step_one, headers=EN).get_data(as_text=True)
    assert "你好，我的网断了。" in page and "你们怎么又断网了！" in page and 'name="mood"' in page
    assert "让您久等了，非常抱歉。" not in page  # the model phrasing waits for the agent's own answer
    client.post(step_one, data={"reply": "您好，非常抱歉", "mood": "angry"})
    page = client.get(step_one, headers=EN).get_data(as_text=True)
    assert "让您久等了，非常抱歉。" in page and "您好，非常抱歉" in page and 'id="next-step"' in page
    client.post(f"/practicals/rehearsals/{rehearsal_id}/steps/2", data={"reply": ""})
    assert 'id="rate"' in client.get(f"/practicals/rehearsals/{rehearsal_id}/steps/2").get_data(as_text=True)
    ids = criteria_ids(world["scenario"])
    response = client.post(f"/practicals/rehearsals/{rehearsal_id}/rate", data={
        f"c{ids['empathy']}": "1", f"c{ids['verify']}": "1", f"c{ids['escalate']}": "na", "comment": "语速太快"})
    assert response.location == f"/practicals/rehearsals/{rehearsal_id}"
    rehearsal = db.session.get(Rehearsal, rehearsal_id)
    assert rehearsal.mood == "angry" and rehearsal.self_percent == 66.67 and rehearsal.replies["1"] == ""
    assert db.session.scalar(select(func.count(RecordEntry.id))) == 1  # practice is never a record entry
    client.post("/logout")
    login_as(world["mentor"])
    html = text_of(client.get(f"/practicals/rehearsals/{rehearsal_id}", headers=EN).get_data(as_text=True))
    assert "您好，非常抱歉" in html and "Self-rating: 66.7%" in html and "语速太快" in html
    assert client.post(f"/practicals/rehearsals/{rehearsal_id}/steps/1", data={"reply": "x"}).status_code == 403


def test_rehearsing_a_higher_level_scenario_is_refused(world, client, login_as):
    world["scenario"].star_level = 3
    db.session.commit()
    login_as(world["agent"])
    assert "You can rehearse this scenario from 3 stars." in client.get("/practicals/scenarios/test-call",
                                                                         headers=EN).get_data(as_text=True)
    assert client.post("/practicals/scenarios/test-call/rehearse").status_code == 403


def test_nav_links_by_role(world, client, login_as):
    login_as(world["mentor"])
    html = client.get("/", headers=EN, follow_redirects=True).get_data(as_text=True)
    assert 'href="/mentoring"' in html and 'href="/practicals/mine"' in html and "Mentees" in html
    client.post("/logout")
    login_as(world["trainer"])
    html = client.get("/", headers=EN, follow_redirects=True).get_data(as_text=True)
    assert 'href="/practicals/scenarios"' in html and "/mentoring" not in html
