"""Every route that changes state is either audited or says why not; the audited ones really write
their audit event. A new state-changing route fails here until it is classified."""
from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from lms.extensions import db
from lms.lessons.services import complete_lesson
from lms.models import AuditEvent, Course, User

# endpoint -> the audit action(s) it writes
AUDITED = {
    "admin.new_user": {"account.created", "star.initial"},
    "admin.edit_user": {"account.updated"},
    "admin.set_active": {"account.deactivated"},
    "admin.import_users": {"staff.imported", "account.created"},
    "banks.confirm_upload": {"bank.imported"},
    "evaluations.import_form": {"evaluations.imported"},
    "promotions.confirm": {"star.promotion"},
    "promotions.decline": {"star.declined"},
    "exams.new_exam": {"exam_created"}, "exams.edit_exam": {"exam_updated"},
    "exams.mark": {"exam_answer_marked"},
    "practicals.new": {"practical.scheduled"}, "practicals.reobserve": {"practical.scheduled"},
    "practicals.sign": {"practical.signed"}, "practicals.correct": {"practical.corrected"},
    "practicals.acknowledge": {"practical.acknowledged"}, "practicals.cancel": {"practical.cancelled"},
    "auth.activate": {"account.code_activated"},  # tests/web/test_activation.py
    "auth.change_password": {"account.password_changed"},  # tests/web/test_accounts.py
    "admin.reset_password": {"account.password_reset"},  # tests/web/test_accounts.py
    "jobs.codes": {"activation.codes_exported"},  # tests/web/test_jobs.py
    "exams.grant": {"attempts_granted"},  # tests/web/test_makeup.py
    # tests/web/test_classroom.py
    "classroom.new": {"class_session_created"}, "classroom.edit": {"class_session_updated"},
    "classroom.cancel": {"class_session_cancelled"}, "classroom.mark": {"attendance_marked"},
    "classroom.close": {"attendance_closed"},
    # tests/web/test_reports_people.py
    "people_reports.recognition_award": {"recognition.awarded"},
    "people_reports.recognition_me": {"recognition.opt_out_changed"},
    # tests/web/test_surveys.py
    "surveys.new_template": {"survey_template_saved"}, "surveys.edit_template": {"survey_template_saved"},
    "surveys.duplicate_template": {"survey_template_duplicated"}, "surveys.make_default": {"survey_template_default"},
    # tests/web/test_plans.py
    "plans.new_plan": {"plan.created"}, "plans.edit_plan": {"plan.updated", "plan.archived", "plan.restored"},
    "plans.add_assignment": {"assignment.created"}, "plans.cancel_assignment": {"assignment.cancelled"},
    "plans.import_assignments": {"assignments.imported"}, "plans.remind": {"plan.reminded"},
    "plans.remind_onboarding": {"plan.reminded"}, "plans.cohorts": {"cohort.created"},
    "plans.cohort": {"cohort.members_added"}, "plans.remove_member": {"cohort.member_removed"},
    # tests/web/test_authoring.py
    "authoring.new_course": {"course.created"}, "authoring.course": {"course.edited"},
    "authoring.publish": {"course.published", "course.hidden"}, "authoring.upload": {"media.uploaded"},
    "authoring.new_lesson": {"lesson.created"}, "authoring.lesson": {"lesson.saved"},
    "authoring.move": {"lesson.moved"}, "authoring.restore": {"lesson.restored", "lesson.saved"},
}
# endpoint -> why it writes no audit event
NOT_AUDITED = {
    "auth.login": "a lockout is audited (auth.locked_out); an ordinary login changes no record",
    "auth.logout": "ends the person's own sessions",
    "auth.language": "a display preference",
    "banks.upload": "stages a preview; nothing is imported until banks.confirm_upload",
    "banks.new_bank": "content: a bank holds no one's results",
    "banks.new_question": "content: each version keeps its author and time",
    "banks.edit_question": "content: each version keeps its author and time",
    "banks.set_retired": "content: retiring keeps every version and result",
    "practicals.new_scenario": "content: each script and rubric version keeps its author and time",
    "practicals.edit_scenario": "content: each script and rubric version keeps its author and time",
    "practicals.rehearse": "practice, never in the record",
    "practicals.rehearsal_step": "practice, never in the record",
    "practicals.rate_rehearsal": "practice, never in the record",
    "exams.start": "the agent's own attempt: its rows are the trail",
    "exams.save": "the agent's own attempt: its rows are the trail",
    "exams.heartbeat": "keeps the session alive; writes nothing",
    "exams.finish": "the agent's own attempt: its rows are the trail",
    "exams.submit": "the agent's own attempt: the graded attempt and its record entry are the trail",
    "lessons.complete": "the agent's own reading progress",
    "classroom.signup": "the agent's own sign-up: the registration row keeps its times",
    "classroom.withdraw": "the agent's own sign-up: the registration row keeps its times",
    "classroom.checkin": "the agent's own check-in: the attendance row keeps time and method",
    "surveys.answer": "anonymous by design: an audit event would say who answered and when",
    "notifications.open_": "marks the person's own notification read",
    "notifications.read_all": "marks the person's own notifications read",
    "authoring.preview": "renders the text it is sent; writes nothing",
}


def state_changing_endpoints(app) -> set[str]:
    return {rule.endpoint for rule in app.url_map.iter_rules()
            if rule.methods - {"GET", "HEAD", "OPTIONS"} and rule.endpoint != "static"}


def test_every_state_changing_route_is_classified(app):
    endpoints = state_changing_endpoints(app)
    assert endpoints - AUDITED.keys() - NOT_AUDITED.keys() == set(), "classify these routes above"
    assert (AUDITED.keys() | NOT_AUDITED.keys()) - endpoints == set(), "these routes are gone: remove them"
    assert AUDITED.keys() & NOT_AUDITED.keys() == set()


def actions() -> set[str]:
    return {event.action for event in db.session.scalars(select(AuditEvent))}


def upload(text: str, filename: str, **fields) -> dict:
    return {"file": (io.BytesIO(text.encode("utf-8")), filename), **fields}


@pytest.fixture
def admin(client, make_user, login_as):
    user = make_user(roles=("admin", "trainer"), star_level=5, employee_no="A9001")
    login_as(user)
    db.session.execute(db.delete(AuditEvent))
    db.session.commit()
    return user


def account(**changes) -> dict:
    data = {"name": "周婷", "team": "热线三组", "hire_date": "2026-02-01", "star_level": "1", "roles": ["agent"],
            "mentor_employee_no": "", "preferred_language": "", "active": "y", "password": ""}
    return {**data, **changes}


def test_account_routes_write_their_events(admin, client, make_user):
    response = client.post("/admin/users/new", data=account(employee_no="E3001", password="first-password"))
    assert response.status_code == 302 and AUDITED["admin.new_user"] <= actions()
    user = db.session.scalar(select(User).where(User.employee_no == "E3001"))
    mentor = make_user(roles=("mentor",), star_level=4, employee_no="M3001")

    form = account()
    for field, value, logged in (("roles", ["agent", "mentor"], "roles"), ("mentor_employee_no", "M3001", "mentor"),
                                 ("password", "brand-new-pw", "password")):
        db.session.execute(db.delete(AuditEvent))
        db.session.commit()
        form = {**form, field: value}
        client.post(f"/admin/users/{user.id}/edit", data=form)
        [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "account.updated"))
        assert event.actor_id == admin.id and event.subject_id == user.id
        assert set(event.details["changes"]) == {logged}
        assert "brand-new-pw" not in str(event.details)  # never the password itself
        form["password"] = ""  # a blank password keeps the current one

    client.post(f"/admin/users/{user.id}/active", data={"active": "0", "confirm": "yes"})
    assert "account.deactivated" in actions()
    assert mentor.id  # used as a mentor above


def test_removing_the_mentor_role_counts_the_mentees_it_blocks(admin, client, make_user):
    mentor = make_user(roles=("mentor", "agent"), star_level=4, employee_no="M3002", name="导师")
    make_user(star_level=0, mentor=mentor)
    client.post(f"/admin/users/{mentor.id}/edit", data=account(name="导师", team=mentor.team, hire_date="",
                                                              star_level="4", roles=["agent"]))
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "account.updated"))
    assert event.details["changes"]["roles"] == [["agent", "mentor"], ["agent"]]
    assert event.details["mentees_blocked"] == 1


def test_imports_write_their_events(admin, client, catalog):
    client.post("/admin/users/import", data=upload("employee_no,name\nE3999,新人\n", "staff.csv"),
                content_type="multipart/form-data")
    assert AUDITED["admin.import_users"] <= actions()

    preview = client.post("/banks/import", data=upload("::q1::可以挂断。{FALSE}\n", "drill.gift", bank="drill"),
                          content_type="multipart/form-data").get_data(as_text=True)
    assert "bank.imported" not in actions()  # a preview imports nothing
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', preview).group(1)
    client.post("/banks/import/confirm", data={"token": token})
    assert "bank.imported" in actions()

    client.post("/evaluations/import", data=upload("employee_no,month,satisfaction\nE3999,2026-10,92\n",
                                                   "evaluations.csv"), content_type="multipart/form-data")
    assert "evaluations.imported" in actions()


def test_promotion_routes_write_their_events(admin, client, catalog, make_user):
    agent = make_user(star_level=0, employee_no="E3100")
    for course in db.session.scalars(select(Course).where(Course.star_level == 0, Course.kind == "required")):
        for lesson in course.live_lessons:
            complete_lesson(agent, lesson)
    client.post("/promotions/E3100/decline", data={"reason": "下季度再评"})
    client.post("/promotions/E3100/confirm", data={})
    assert {"star.declined", "star.promotion"} <= actions()


def test_course_editor_routes_write_their_events(admin, client, catalog):
    from PIL import Image

    picture = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 20, 30)).save(picture, format="PNG")
    picture.seek(0)
    steps = [
        ("authoring.new_course", "/author/courses/new",
         {"slug": "made-here", "title": "网页课程", "star_level": "0", "kind": "elective", "track": "in-service",
          "course_type": "skills", "summary": "", "valid_months": "", "intro_md": "介绍。"}),
        ("authoring.course", "/author/courses/made-here",
         {"title": "网页课程（改）", "star_level": "0", "kind": "elective", "track": "in-service",
          "course_type": "skills", "summary": "", "valid_months": "", "intro_md": "介绍。"}),
        ("authoring.new_lesson", "/author/courses/made-here/lessons/new",
         {"slug": "first", "title": "第一课", "minutes": "3", "body": "第一课正文。"}),
        ("authoring.new_lesson", "/author/courses/made-here/lessons/new",
         {"slug": "second", "title": "第二课", "minutes": "3", "body": "第二课正文。"}),
        ("authoring.lesson", "/author/courses/made-here/lessons/first",
         {"title": "第一课", "minutes": "3", "body": "改过的正文。"}),
        ("authoring.move", "/author/courses/made-here/lessons/second/move", {"direction": "up"}),
        ("authoring.restore", "/author/courses/made-here/lessons/first/versions/1/restore", {}),
        ("authoring.publish", "/author/courses/made-here/publish", {"visible": "1"}),
        ("authoring.upload", "/author/courses/made-here/media", {"file": (picture, "chart.png")}),
    ]
    for endpoint, path, data in steps:
        db.session.execute(db.delete(AuditEvent))
        db.session.commit()
        response = client.post(path, data=data, content_type="multipart/form-data")
        assert response.status_code in (200, 302), (endpoint, response.status_code)
        written = actions()
        assert written and written <= AUDITED[endpoint], (endpoint, written)
