"""Practicals without HTTP: import and versions, who may sign off, sign-off into the record,
immutability, corrections, acknowledgements, re-observation, rehearsals."""
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm.attributes import set_committed_value

from lms.content.errors import ContentInvalid
from lms.content.sync import IMPORTERS, sync_content, sync_courses
from lms.extensions import db
from lms.models import (AuditEvent, Practical, PracticalScore, RecordEntry, Rehearsal, RubricVersion, Scenario,
                        ScriptVersion)
from lms.models.practicals import SignedPracticalImmutable
from lms.practicals import scripts, services
from tests.conftest import write_course
from tests.practicals_support import (SCENARIO, criteria_ids, scenario,  # noqa: F401 (fixtures)
                                      write_scenario)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def people(make_user):
    mentor = make_user(roles=("mentor", "agent"), star_level=4, name="导师")
    agent = make_user(star_level=0, mentor=mentor, name="学员")
    return {
        "mentor": mentor, "agent": agent,
        "other_mentor": make_user(roles=("mentor", "agent"), star_level=4),
        "trainer": make_user(roles=("trainer",)),
        "other_agent": make_user(star_level=0, mentor=mentor),
        "admin": make_user(roles=("admin",)),
    }



def marks(scenario, empathy=2, verify=1, escalate=1):
    ids = criteria_ids(scenario)
    return {ids["empathy"]: empathy, ids["verify"]: verify, ids["escalate"]: escalate}


def opened(people, scenario, actor="mentor"):
    return services.open_practical(people[actor], people["agent"], scenario, scheduled_for=None, now=NOW)


def sign(people, scenario, practical, actor="mentor", work_on="", **points):
    return services.sign_off(people[actor], practical, script_version_id=scenario.script.id,
                             rubric_version_id=scenario.rubric.id, marks=marks(scenario, **points),
                             comments={criteria_ids(scenario)["empathy"]: "语气很好"}, overall_comment="整体不错",
                             work_on=work_on, mood="angry", now=NOW)


# --- import and versions ------------------------------------------------------------------------

def test_scenarios_import_after_courses_and_a_second_sync_writes_nothing(course_root, writes):
    assert [importer.name for importer in IMPORTERS].index("scenarios") > [i.name for i in IMPORTERS].index("courses")
    write_course(course_root, "0-01-a", slug="basics-a")
    write_scenario(course_root)
    sync_courses(db.session, course_root, NOW)
    report = scripts.sync_scenarios(db.session, course_root, NOW)
    assert report.created == ["test-call"]
    scenario = db.session.scalar(select(Scenario))
    assert scenario.course.slug == "basics-a" and scenario.star_level == 0
    assert scenario.source_path == "courses/0-01-a/scenarios/test-call.md" and scenario.source_text == SCENARIO
    assert [v.number for v in scenario.script_versions] == [1] and [v.number for v in scenario.rubric_versions] == [1]
    assert scenario.script.steps[0]["lines"]["angry"] == "<p>你们怎么又断网了！</p>"
    assert [c.key for c in scenario.rubric.criteria] == ["empathy", "verify", "escalate"]
    writes.clear()
    db.session.expire_all()
    again = scripts.sync_scenarios(db.session, course_root, NOW + timedelta(hours=1))
    assert again.unchanged == ["test-call"] and not again.changed
    assert writes == []


def test_sync_content_imports_scenarios_in_the_same_transaction(course_root, app):
    write_course(course_root, "0-01-a", slug="basics-a")
    write_scenario(course_root)
    write_scenario(course_root, slug="broken", text=SCENARIO.replace("weight: 2", "weight: 0"))
    config = dict(app.config)
    with pytest.raises(ContentInvalid) as caught:
        sync_content(db.session, config, NOW)
    assert any(str(e).startswith("courses/0-01-a/scenarios/broken.md:8: the weight ('weight') must be") for e in caught.value.errors)
    # one bad scenario file: not even the courses were written
    assert db.session.scalar(select(func.count(Scenario.id))) == 0
    (course_root / "0-01-a" / "scenarios" / "broken.md").unlink()
    lines = sync_content(db.session, config, NOW)
    assert "scenarios: 1 created, 0 updated, 0 unchanged, 0 retired, 0 deleted" in lines


def test_a_changed_script_or_rubric_adds_a_version_and_keeps_the_old(scenario, course_root):
    script_v1, rubric_v1 = scenario.script.id, scenario.rubric.id
    write_scenario(course_root, text=SCENARIO.replace("张先生，宽带用户。", "张先生，十年老用户。"))
    assert scripts.sync_scenarios(db.session, course_root, NOW).updated == ["test-call"]
    db.session.expire_all()
    assert [v.number for v in scenario.script_versions] == [1, 2] and [v.number for v in scenario.rubric_versions] == [1]
    assert "十年老用户" in scenario.script.persona_html and "宽带用户" in db.session.get(ScriptVersion, script_v1).persona_html
    write_scenario(course_root, text=SCENARIO.replace("张先生，宽带用户。", "张先生，十年老用户。")
                   .replace("pass_percent: 75", "pass_percent: 80"))
    scripts.sync_scenarios(db.session, course_root, NOW)
    db.session.expire_all()
    assert [v.number for v in scenario.script_versions] == [1, 2]
    assert [(v.number, v.pass_percent) for v in scenario.rubric_versions] == [(1, 75.0), (2, 80.0)]
    assert db.session.get(RubricVersion, rubric_v1).pass_percent == 75.0


def test_a_bad_scenario_file_changes_nothing(scenario, course_root, writes):
    write_scenario(course_root, text=SCENARIO.replace("pass_percent: 75", "pass_percent: 0"))
    writes.clear()
    with pytest.raises(ContentInvalid) as caught:
        scripts.sync_scenarios(db.session, course_root, NOW)
    assert [str(e) for e in caught.value.errors] == [
        "courses/0-01-a/scenarios/test-call.md:4: the pass mark ('pass_percent') must be a number above 0 and up to 100, not 0"]
    assert writes == []


def test_a_removed_file_is_deleted_while_unused_and_retired_once_used(scenario, course_root, people):
    write_scenario(course_root, slug="second")
    scripts.sync_scenarios(db.session, course_root, NOW)
    services.start_rehearsal(people["agent"], scenario, NOW)
    for slug in ("test-call", "second"):
        (course_root / "0-01-a" / "scenarios" / f"{slug}.md").unlink()
    report = scripts.sync_scenarios(db.session, course_root, NOW)
    assert report.retired == ["test-call"] and report.deleted == ["second"]
    db.session.expire_all()
    assert scenario.retired_at == NOW and db.session.scalar(select(func.count(Scenario.id))) == 1
    write_scenario(course_root)
    assert scripts.sync_scenarios(db.session, course_root, NOW).updated == ["test-call"]
    db.session.expire_all()
    assert scenario.retired_at is None and len(scenario.script_versions) == 1  # same content: no new version


def test_browser_scripts_survive_sync_and_editing_makes_versions(scenario, course_root, people):
    course = scenario.course
    created = scripts.create_scenario(author=people["trainer"], slug="web-call", course=course,
                                       text=SCENARIO.replace("测试场景", "网页场景"), now=NOW)
    assert created.title == "网页场景" and created.source_path == ""
    assert created.script.created_by_id == people["trainer"].id
    assert scripts.sync_scenarios(db.session, course_root, NOW).unchanged == ["test-call"]
    assert db.session.get(Scenario, created.id).retired_at is None
    unchanged = scripts.update_scenario(created, author=people["trainer"], course=course,
                                         text=SCENARIO.replace("测试场景", "网页场景"), now=NOW)
    assert unchanged == (False, False)
    changed = scripts.update_scenario(created, author=people["trainer"], course=course,
                                       text=SCENARIO.replace("测试场景", "网页场景").replace("weight: 2", "weight: 3"),
                                       now=NOW)
    assert changed == (False, True) and [v.number for v in created.rubric_versions] == [1, 2]
    with pytest.raises(services.ScenarioInvalid) as caught:
        scripts.update_scenario(created, author=people["trainer"], course=course, text="## 客户画像\n", now=NOW)
    assert caught.value.errors[0].line == 1
    with pytest.raises(services.ScenarioInvalid, match="already used"):
        scripts.create_scenario(author=people["trainer"], slug="test-call", course=course, text=SCENARIO, now=NOW)


# --- who may sign off ---------------------------------------------------------------------------

@pytest.mark.parametrize("actor, refusal", [
    ("mentor", None),
    ("trainer", None),
    ("other_mentor", services.NotYourMentee),
    ("agent", services.SelfSignoff),
    ("other_agent", services.NotYourMentee),
    ("admin", services.NotYourMentee),
])
def test_only_the_agents_mentor_or_a_trainer_may_sign_off(scenario, people, actor, refusal):
    practical = opened(people, scenario, actor="trainer")
    if refusal is None:
        assert sign(people, scenario, practical, actor=actor).passed
    else:
        with pytest.raises(refusal):
            sign(people, scenario, practical, actor=actor)
        with pytest.raises(refusal):
            services.open_practical(people[actor], people["agent"], scenario, scheduled_for=None, now=NOW)
        assert db.session.scalar(select(func.count(RecordEntry.id))) == 0


def test_nobody_signs_off_their_own_practical_not_even_a_trainer(scenario, people, make_user):
    trainer_agent = make_user(roles=("trainer", "agent"), mentor=people["mentor"])
    practical = services.open_practical(people["mentor"], trainer_agent, scenario, scheduled_for=None, now=NOW)
    with pytest.raises(services.SelfSignoff):
        services.sign_off(trainer_agent, practical, script_version_id=scenario.script.id,
                          rubric_version_id=scenario.rubric.id, marks=marks(scenario), comments={},
                          overall_comment="", work_on="", mood=None, now=NOW)
    with pytest.raises(services.SelfSignoff):
        services.open_practical(trainer_agent, trainer_agent, scenario, scheduled_for=None, now=NOW)


# --- sign-off -----------------------------------------------------------------------------------

def test_sign_off_writes_the_record_entry_scores_and_audit_in_one_go(scenario, people):
    practical = opened(people, scenario)
    entry = sign(people, scenario, practical, empathy=1)  # 1 of 2 at weight 2, 1 and 1: 3 of 4
    assert (entry.kind, entry.score, entry.max_score, entry.percent, entry.passed) == ("practical", 3.0, 4.0, 75.0, True)
    assert entry.band == "pass" and entry.user_id == people["agent"].id and entry.recorded_by_id == people["mentor"].id
    assert (entry.source_type, entry.source_id, entry.course_id) == ("practical", practical.id, scenario.course_id)
    details = entry.details
    assert details["script_version_id"] == scenario.script.id and details["rubric_version_id"] == scenario.rubric.id
    assert [(c["key"], c["points"], c["na"]) for c in details["criteria"]] == [
        ("empathy", 1, False), ("verify", 1, False), ("escalate", 1, False)]
    assert details["criteria"][0]["level"] == "回应空泛" and details["criteria"][0]["comment"] == "语气很好"
    assert details["mood"] == "angry" and details["overall_comment"] == "整体不错"
    db.session.expire_all()
    practical = db.session.get(Practical, practical.id)
    assert practical.status == "signed" and practical.signed_by_id == people["mentor"].id
    assert practical.record_entry_id == entry.id and practical.rubric_version_id == scenario.rubric.id
    assert [(s.criterion.key, s.points) for s in practical.scores] == [("empathy", 1), ("verify", 1), ("escalate", 1)]
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "practical.signed")).all()
    assert len(events) == 1 and events[0].actor_id == people["mentor"].id and events[0].subject_id == practical.id
    assert events[0].details["record_entry_id"] == entry.id


def test_bands_and_na(scenario, people):
    entry = sign(people, scenario, opened(people, scenario), empathy=2, escalate=None)
    assert (entry.score, entry.max_score, entry.percent, entry.band) == (3.0, 3.0, 100.0, "excellent")
    assert entry.details["criteria"][2]["na"] is True


def test_a_fatal_criterion_fails_and_a_fail_must_say_what_to_work_on(scenario, people):
    practical = opened(people, scenario)
    with pytest.raises(services.WorkOnRequired):
        sign(people, scenario, practical, empathy=2, verify=0)
    assert db.session.scalar(select(func.count(RecordEntry.id))) == 0
    entry = sign(people, scenario, practical, empathy=2, verify=0, work_on="先核实身份再查询")
    assert entry.percent == 75.0 and entry.passed is False and entry.band == "needs_improvement"
    assert entry.details["fatal_failed"] == ["verify"] and entry.details["work_on"] == "先核实身份再查询"


def test_all_na_cannot_be_signed(scenario, people):
    practical = opened(people, scenario)
    rubric = scenario.rubric
    ids = criteria_ids(scenario)
    with pytest.raises(services.MarksInvalid):  # only escalate may be N/A
        services.sign_off(people["mentor"], practical, script_version_id=scenario.script.id,
                          rubric_version_id=rubric.id, marks={ids["empathy"]: None, ids["verify"]: None,
                                                              ids["escalate"]: None},
                          comments={}, overall_comment="", work_on="x", mood=None, now=NOW)


def test_signed_results_are_immutable(scenario, people):
    practical = opened(people, scenario)
    sign(people, scenario, practical)
    with pytest.raises(services.AlreadySigned):
        sign(people, scenario, practical)
    assert db.session.scalar(select(func.count(RecordEntry.id))) == 1
    practical = db.session.get(Practical, practical.id)
    practical.overall_comment = "悄悄改掉"
    with pytest.raises(SignedPracticalImmutable):
        db.session.flush()
    db.session.rollback()
    score = db.session.scalars(select(PracticalScore)).first()
    score.points = 0
    with pytest.raises(SignedPracticalImmutable):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(services.AlreadySigned):
        services.cancel_practical(people["mentor"], db.session.get(Practical, practical.id), NOW)


def test_a_stale_second_sign_off_finds_nothing_to_sign(scenario, people):
    """Two taps on "sign": the second request loaded the practical before the first committed."""
    practical = opened(people, scenario)
    sign(people, scenario, practical)
    stale = db.session.get(Practical, practical.id)
    set_committed_value(stale, "status", "scheduled")  # what the second request had loaded
    with pytest.raises(services.AlreadySigned):
        services.sign_off(people["mentor"], stale, script_version_id=scenario.script.id,
                          rubric_version_id=scenario.rubric.id, marks=marks(scenario), comments={},
                          overall_comment="", work_on="", mood=None, now=NOW)
    assert db.session.scalar(select(func.count(RecordEntry.id))) == 1
    assert db.session.scalar(select(func.count(PracticalScore.id))) == 3


def test_later_edits_never_change_a_signed_result(scenario, people, course_root):
    practical = opened(people, scenario)
    entry = sign(people, scenario, practical, empathy=1)
    old_rubric = scenario.rubric.id
    write_scenario(course_root, text=SCENARIO.replace("weight: 2", "weight: 6").replace("pass_percent: 75",
                                                                                        "pass_percent: 90"))
    scripts.sync_scenarios(db.session, course_root, NOW)
    db.session.expire_all()
    assert scenario.rubric.id != old_rubric
    practical = services.load_practical_for(people["agent"], practical.id)
    assert practical.rubric_version_id == old_rubric and practical.rubric_version.pass_percent == 75.0
    assert (practical.current_entry.id, practical.current_entry.percent, practical.current_entry.passed) == (
        entry.id, 75.0, True)
    assert [mark.points for mark in services.marks_of_entry(practical.current_entry, practical.rubric_version)] == [1, 1, 1]
    # a new practical is scored against the new version
    second = sign(people, scenario, opened(people, scenario), empathy=1, work_on="开场")
    assert second.details["rubric_version_id"] == scenario.rubric.id
    assert (second.score, second.max_score, second.percent, second.passed) == (5.0, 8.0, 62.5, False)


# --- corrections and acknowledgements -----------------------------------------------------------

def test_a_correction_is_a_new_entry_that_references_the_old(scenario, people):
    practical = opened(people, scenario)
    original = sign(people, scenario, practical, empathy=2)
    with pytest.raises(services.ReasonRequired):
        services.correct_practical(people["mentor"], practical, marks=marks(scenario, verify=0), comments={},
                                   reason="  ", now=NOW)
    with pytest.raises(services.SelfSignoff):
        services.correct_practical(people["agent"], practical, marks=marks(scenario), comments={}, reason="x", now=NOW)
    with pytest.raises(services.NotYourMentee):
        services.correct_practical(people["other_mentor"], practical, marks=marks(scenario), comments={},
                                   reason="x", now=NOW)
    later = NOW + timedelta(days=1)
    first = services.correct_practical(people["trainer"], practical, marks=marks(scenario, verify=0), comments={},
                                       reason="录音复核：没有核实身份", now=later)
    corrected = first.record_entry
    assert corrected.corrects_id == original.id and corrected.reason == "录音复核：没有核实身份"
    assert corrected.recorded_by_id == people["trainer"].id and corrected.passed is False
    assert corrected.details["rubric_version_id"] == original.details["rubric_version_id"]
    db.session.expire_all()
    original = db.session.get(RecordEntry, original.id)
    assert original.passed is True and original.percent == 100.0  # untouched
    second = services.correct_practical(people["mentor"], practical, marks=marks(scenario), comments={},
                                        reason="复核后恢复", now=later)
    assert second.record_entry.corrects_id == corrected.id
    practical = services.load_practical_for(people["mentor"], practical.id)
    assert practical.current_entry.id == second.record_entry.id
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "practical.corrected")
                                .order_by(AuditEvent.id)).all()
    assert [(e.actor_id, e.details["corrects"], e.details["reason"]) for e in events] == [
        (people["trainer"].id, original.id, "录音复核：没有核实身份"), (people["mentor"].id, corrected.id, "复核后恢复")]


def test_the_agent_acknowledges_each_result_in_force_once(scenario, people):
    practical = opened(people, scenario)
    with pytest.raises(services.NotSigned):
        services.acknowledge(people["agent"], practical, "", NOW)
    entry = sign(people, scenario, practical)
    for other in ("mentor", "other_agent", "trainer"):
        with pytest.raises(services.NotYourPractical):
            services.acknowledge(people[other], practical, "", NOW)
    ack = services.acknowledge(people["agent"], practical, "  谢谢导师，下次注意开场  ", NOW)
    assert ack.record_entry_id == entry.id and ack.comment == "谢谢导师，下次注意开场"
    with pytest.raises(services.AlreadyAcknowledged):
        services.acknowledge(people["agent"], db.session.get(Practical, practical.id), "", NOW)
    services.correct_practical(people["mentor"], practical, marks=marks(scenario, empathy=1), comments={},
                               reason="分数填错", now=NOW)
    practical = services.load_practical_for(people["agent"], practical.id)
    assert practical.acknowledgement_of(practical.current_entry) is None  # the correction is new to the agent
    services.acknowledge(people["agent"], practical, "", NOW)
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "practical.acknowledged")).all()
    assert len(events) == 2 and {e.actor_id for e in events} == {people["agent"].id}


def test_a_fail_can_be_reobserved_once_and_both_stay_in_the_record(scenario, people):
    practical = opened(people, scenario)
    passed = sign(people, scenario, opened(people, scenario))
    with pytest.raises(services.NothingToReobserve):
        services.schedule_reobservation(people["mentor"], db.session.get(Practical, passed.source_id),
                                        scheduled_for=None, now=NOW)
    sign(people, scenario, practical, verify=0, work_on="核实身份")
    with pytest.raises(services.NotYourMentee):
        services.schedule_reobservation(people["other_mentor"], practical, scheduled_for=None, now=NOW)
    follow_up = services.schedule_reobservation(people["mentor"], practical, scheduled_for=date(2026, 12, 1), now=NOW)
    assert follow_up.reobservation_of_id == practical.id and follow_up.status == "scheduled"
    assert follow_up.scheduled_for == date(2026, 12, 1)
    with pytest.raises(services.ReobservationExists):
        services.schedule_reobservation(people["mentor"], practical, scheduled_for=None, now=NOW)
    sign(people, scenario, follow_up)
    entries = db.session.scalars(select(RecordEntry).where(RecordEntry.user_id == people["agent"].id)
                                 .order_by(RecordEntry.id)).all()
    assert [e.passed for e in entries] == [True, False, True]


def test_visibility_of_a_practical(scenario, people):
    practical = opened(people, scenario)
    for viewer in ("agent", "mentor", "trainer", "admin"):
        assert services.load_practical_for(people[viewer], practical.id).id == practical.id
    for viewer in ("other_agent", "other_mentor"):
        with pytest.raises(services.NotAllowed):
            services.load_practical_for(people[viewer], practical.id)
    with pytest.raises(services.PracticalNotFound):
        services.load_practical_for(people["agent"], practical.id + 1000)


# --- rehearsals ---------------------------------------------------------------------------------

def test_a_rehearsal_is_practice_and_never_a_record_entry(scenario, people):
    rehearsal = services.start_rehearsal(people["agent"], scenario, NOW)
    assert rehearsal.script_version_id == scenario.script.id and rehearsal.rubric_version_id == scenario.rubric.id
    services.save_reply(rehearsal, 0, "  非常抱歉让您久等了  ", "angry")
    assert rehearsal.replies == {"0": "非常抱歉让您久等了"} and rehearsal.mood == "angry"
    with pytest.raises(services.RehearsalNotFound):
        services.save_reply(rehearsal, 5, "x", "calm")
    result = services.rate_rehearsal(rehearsal, marks(scenario, empathy=1, verify=0), "开场太快", NOW)
    assert not result.passed
    db.session.expire_all()
    rehearsal = db.session.get(Rehearsal, rehearsal.id)
    assert rehearsal.self_marks == {"empathy": 1, "verify": 0, "escalate": 1} and rehearsal.self_percent == 50.0
    assert rehearsal.self_passed is False and rehearsal.completed_at == NOW
    assert db.session.scalar(select(func.count(RecordEntry.id))) == 0
    assert services.load_rehearsal_for(people["mentor"], rehearsal.id).id == rehearsal.id
    with pytest.raises(services.NotAllowed):
        services.load_rehearsal_for(people["other_agent"], rehearsal.id)
    with pytest.raises(services.NotAllowed):
        services.load_rehearsal_for(people["mentor"], rehearsal.id, to_write=True)


def test_rehearsing_a_higher_level_scenario_is_locked(scenario, people):
    scenario.star_level = 2
    db.session.commit()
    with pytest.raises(services.ScenarioLocked):
        services.start_rehearsal(people["agent"], scenario, NOW)
    assert services.start_rehearsal(people["trainer"], scenario, NOW).id


def test_mentor_powers_need_the_mentor_role_as_well_as_the_link(scenario, make_user):
    """An agent-only account set as someone's mentor, or a mentor whose role was removed, may
    neither see nor sign off the mentee's practicals."""
    linked = make_user(roles=("agent",), star_level=4, name="无导师角色")
    agent = make_user(star_level=0, mentor=linked)
    assert not services.may_view_work_of(linked, agent) and not services.may_observe(linked, agent)
    with pytest.raises(services.NotYourMentee):
        services.open_practical(linked, agent, scenario, scheduled_for=None, now=NOW)
    linked.roles = {"agent", "mentor"}
    db.session.commit()
    assert services.may_view_work_of(linked, agent) and services.may_observe(linked, agent)
