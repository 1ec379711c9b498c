"""Survey pages: who may open what, the answer form on a phone (bad input re-renders with
messages), the template editor, and results that never show a single answer."""
from __future__ import annotations

import re

import pytest
from flask import render_template
from sqlalchemy import func, select

from lms.extensions import db
from lms.models.surveys import SurveyAnswer, SurveyResponse, SurveyTemplate
from lms.surveys import authoring, services
from tests.conftest import assert_access
from tests.unit.test_surveys import NOW, answer, attend, complete, course_of, make_session, make_templates

ROLE_USERS = {"agent": ("agent",), "mentor": ("mentor", "agent"), "trainer": ("trainer",), "admin": ("admin",)}
ALL = {"agent", "mentor", "trainer", "admin"}
STAFF = {"trainer", "admin"}

# (method, path with {course}/{session}/{template}/{instructor}, roles allowed)
ROUTES = [
    ("GET", "/surveys/", ALL),
    ("GET", "/surveys/course/{course}", ALL),  # the user completed the course
    ("POST", "/surveys/course/{course}", ALL),
    ("GET", "/surveys/session/{session}", ALL),  # the user attended the session
    ("GET", "/surveys/course/{other_course}", set()),  # not completed: nobody
    ("GET", "/surveys/templates", STAFF),
    ("GET", "/surveys/templates/new", STAFF),
    ("POST", "/surveys/templates/new", STAFF),
    ("GET", "/surveys/templates/{template}", STAFF),
    ("POST", "/surveys/templates/{template}", STAFF),
    ("POST", "/surveys/templates/{template}/duplicate", STAFF),
    ("POST", "/surveys/templates/{template}/default", STAFF),
    ("GET", "/surveys/results", STAFF),
    ("GET", "/surveys/results/course/{course}", STAFF),
    ("GET", "/surveys/results/session/{session}", STAFF),
    ("GET", "/surveys/results/instructor/{instructor}", STAFF),
]
POSTS = {
    "/surveys/course/{course}": {"course_rating": "4", "answer_q1": "5"},
    "/surveys/templates/new": {"name": "新问卷", "applies_to": "course", "questions-0-kind": "rating",
                               "questions-0-prompt": "相关度"},
    "/surveys/templates/{template}": {"name": "改名", "applies_to": "course"},
}


@pytest.fixture
def setup(catalog, make_user, frozen_now):
    frozen_now(NOW)
    trainer = make_user(roles=("trainer",), name="李静")
    course_template, session_template = make_templates(trainer)
    session = make_session(trainer, course_of("basics-a"))
    return {"trainer": trainer, "course": course_of("basics-a"), "other_course": course_of("basics-b"),
            "session": session, "course_template": course_template, "session_template": session_template}


def _ids(setup) -> dict:
    return {"course": setup["course"].id, "other_course": setup["other_course"].id,
            "session": setup["session"].id, "template": setup["course_template"].id,
            "instructor": setup["trainer"].id}


@pytest.mark.parametrize("role", ["anonymous", "agent", "mentor", "trainer", "admin"])
@pytest.mark.parametrize("method, path, allowed", ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_role_route_matrix(setup, client, make_user, login_as, role, method, path, allowed):
    if role != "anonymous":
        user = make_user(roles=ROLE_USERS[role])
        complete(user, setup["course"])
        attend(user, setup["session"])
        login_as(user)
    response = client.open(path.format(**_ids(setup)), method=method, data=POSTS.get(path))
    assert_access(response, role, allowed)


# --- the agent ------------------------------------------------------------------------------------------

@pytest.fixture
def agent_client(setup, make_user, login_as):
    agent = make_user(name="张晓")
    complete(agent, setup["course"])
    attend(agent, setup["session"])
    login_as(agent)
    return agent


def _page(client, path, **kwargs) -> str:
    return client.get(path, headers={"Accept-Language": "en"}, **kwargs).get_data(as_text=True)


def test_the_list_and_the_form_use_real_radio_inputs(setup, client, agent_client):
    html = _page(client, "/surveys/")
    assert f'/surveys/course/{setup["course"].id}' in html and f'/surveys/session/{setup["session"].id}' in html
    html = _page(client, f'/surveys/session/{setup["session"].id}?next=/courses/basics-a')
    assert len(re.findall(r'<input[^>]*name="course_rating"[^>]*type="radio"', html)) == 5
    assert len(re.findall(r'<input[^>]*name="instructor_rating"[^>]*type="radio"', html)) == 5
    assert "讲师讲解是否清楚" in html and "李静" in html
    assert re.findall(r'<a class="button" href="([^"]*)">Later</a>', html) == ["/courses/basics-a"]  # back


def test_later_never_leaves_the_site(setup, client, agent_client):
    html = _page(client, f'/surveys/course/{setup["course"].id}?next=https://evil.example/')
    assert re.findall(r'<a class="button" href="([^"]*)">Later</a>', html) == ["/"]


def _post(client, path, data):
    return client.post(path, data=data, headers={"Accept-Language": "en"})


@pytest.mark.parametrize("data, message", [
    ({"course_rating": "6", "answer_q1": "4"}, "Choose a rating from 1 to 5."),
    ({"course_rating": "x", "answer_q1": "4"}, "Choose a rating from 1 to 5."),
    ({"answer_q1": "4"}, "Choose a rating from 1 to 5."),
    ({"course_rating": "4"}, "Choose a rating from 1 to 5."),  # q1 (a required rating) missing
    ({"course_rating": "4", "answer_q1": "4", "answer_q2": "7"}, "Choose one of the options offered."),
    ({"course_rating": "4", "answer_q1": "4", "answer_q2": "合适"}, "Choose one of the options offered."),
    ({"course_rating": "4", "answer_q1": "4", "comment": "长" * 2001}, "2000"),
])
def test_bad_input_re_renders_with_messages(setup, client, agent_client, data, message):
    response = _post(client, f'/surveys/course/{setup["course"].id}', data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in html and 'class="error"' in html
    assert db.session.scalar(select(func.count()).select_from(SurveyAnswer)) == 0


def test_a_missing_required_text_is_named(setup, client, agent_client):
    response = _post(client, f'/surveys/session/{setup["session"].id}',
                     {"course_rating": "4", "instructor_rating": "5", "answer_q1": "4"})
    assert response.status_code == 200 and "Answer this question." in response.get_data(as_text=True)


def test_answering_goes_home_with_thanks_and_only_once(setup, client, agent_client):
    path = f'/surveys/course/{setup["course"].id}'
    data = {"course_rating": "5", "answer_q1": "4", "answer_q2": "1", "answer_q3": "投诉安抚话术", "comment": "很好"}
    response = _post(client, path, data)
    assert response.status_code == 302 and response.location == "/"
    assert "Thank you" in _page(client, "/surveys/")
    again = _post(client, path, data)  # a second tap, or the back button
    assert again.status_code == 302 and "already answered" in _page(client, "/surveys/")
    stored = db.session.scalars(select(SurveyAnswer)).one()
    assert (stored.course_rating, stored.answers, stored.comment) == (5, {"q1": 4, "q2": 1, "q3": "投诉安抚话术"}, "很好")
    assert db.session.scalar(select(func.count()).select_from(SurveyResponse)) == 1
    assert f'/surveys/course/{setup["course"].id}' not in _page(client, "/surveys/")


def test_the_home_partial(setup, app, agent_client):
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        empty = render_template("surveys/_home.html", surveys=[])
        html = render_template("surveys/_home.html", surveys=services.waiting_surveys(agent_client, NOW))
    assert empty.strip() == ""
    assert "What did you think of" in html and setup["session"].title in html
    assert f'/surveys/course/{setup["course"].id}?next=' in html and "Later" in html


# --- templates -------------------------------------------------------------------------------------------

@pytest.fixture
def staff_client(setup, client, login_as):
    login_as(setup["trainer"])
    return client


def test_the_editor_refuses_bad_questions_with_messages(setup, staff_client):
    data = {"name": "新问卷", "applies_to": "course",
            "questions-0-kind": "choice", "questions-0-prompt": "只有一个选项", "questions-0-options": "好",
            "questions-1-kind": "rating", "questions-1-prompt": "", "questions-1-options": "",
            "questions-2-kind": "choice", "questions-2-prompt": "", "questions-2-options": "甲\n乙"}
    response = _post(staff_client, "/surveys/templates/new", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "A choice question needs at least 2 options" in html and "Write the question." in html
    assert db.session.scalar(select(func.count()).select_from(SurveyTemplate)) == 2


def test_the_editor_refuses_more_than_ten_questions(setup, staff_client):
    data = {"name": "太长", "applies_to": "session"}
    for n in range(11):
        data.update({f"questions-{n}-kind": "rating", f"questions-{n}-prompt": f"问题{n}"})
    html = _post(staff_client, "/surveys/templates/new", data).get_data(as_text=True)
    assert "At most 10 questions." in html
    assert db.session.scalar(select(func.count()).select_from(SurveyTemplate)) == 2


def test_the_editor_saves_and_offers_empty_rows(setup, staff_client):
    response = _post(staff_client, "/surveys/templates/new", {
        "name": "新问卷", "applies_to": "session", "make_default": "y",
        "questions-0-kind": "choice", "questions-0-prompt": "节奏", "questions-0-options": "太快\n合适\n太慢",
        "questions-0-required": "y"})
    assert response.status_code == 302
    template = db.session.scalar(select(SurveyTemplate).where(SurveyTemplate.name == "新问卷"))
    assert template.is_default and template.questions[0]["options"] == ["太快", "合适", "太慢"]
    assert not db.session.get(SurveyTemplate, setup["session_template"].id).is_default
    html = _page(staff_client, response.location)
    assert html.count('name="questions-') and 'name="questions-3-prompt"' in html  # 1 question + 3 empty rows


def test_a_template_with_answers_is_locked_and_can_be_copied(setup, staff_client, make_user):
    agent = make_user()
    complete(agent, setup["course"])
    answer(agent, "course", setup["course"].id)
    template = setup["course_template"]
    questions = list(template.questions)
    html = _page(staff_client, f"/surveys/templates/{template.id}")
    assert "cannot change" in html or "can no longer change" in html
    assert 'name="questions-0-prompt"' not in html
    response = _post(staff_client, f"/surveys/templates/{template.id}", {
        "name": "课程评估（旧）", "applies_to": "session", "questions-0-kind": "text", "questions-0-prompt": "伪造"})
    assert response.status_code == 302
    db.session.expire_all()
    assert (template.name, template.applies_to, template.questions) == ("课程评估（旧）", "course", questions)
    response = _post(staff_client, f"/surveys/templates/{template.id}/duplicate", {})
    copy = db.session.get(SurveyTemplate, int(response.location.rsplit("/", 1)[1]))
    assert copy.questions == questions and copy.name.startswith("Copy of")


def test_the_templates_list_and_make_default(setup, staff_client, make_user):
    other = authoring.save_template(setup["trainer"], None, name="备用课程问卷", applies_to="course", rows=[], now=NOW)
    html = _page(staff_client, "/surveys/templates")
    assert "备用课程问卷" in html and "Default" in html
    assert _post(staff_client, f"/surveys/templates/{other.id}/default", {}).status_code == 302
    db.session.expire_all()
    assert other.is_default and not setup["course_template"].is_default


# --- results: anonymity ----------------------------------------------------------------------------------

def _session_answers(setup, make_user, comments):
    for index, comment in enumerate(comments):
        agent = make_user(name=f"答卷人{index}")
        attend(agent, setup["session"])
        answer(agent, "session", setup["session"].id, course_rating=5 - index, instructor_rating=4,
               answers={"q1": 3, "q2": f"想学{index}"}, comment=comment)


PAGES = ["/surveys/results", "/surveys/results/session/{session}", "/surveys/results/instructor/{instructor}",
         "/surveys/results/course/{course}"]


def test_fewer_than_three_answers_show_nothing_to_anyone(setup, app, make_user):
    _session_answers(setup, make_user, ["第一条独特评论", "第二条独特评论"])
    for viewer in (setup["trainer"], make_user(roles=("admin",))):
        client = app.test_client()
        login = {"employee_no": viewer.employee_no, "password": "password123"}
        assert client.post("/login", data=login).status_code == 302
        for path in PAGES:
            html = _page(client, path.format(**_ids(setup)))
            assert "独特评论" not in html and "想学" not in html and "答卷人" not in html
        html = _page(client, f'/surveys/results/session/{setup["session"].id}')
        assert "fewer than 3 answers: not shown" in html.lower()


def test_three_answers_show_aggregates_but_no_single_answer(setup, client, make_user, login_as):
    _session_answers(setup, make_user, ["B：节奏好", "A：例子多", ""])
    login_as(setup["trainer"])  # the instructor
    html = _page(client, f'/surveys/results/session/{setup["session"].id}')
    assert html.index("A：例子多") < html.index("B：节奏好")  # sorted, not in the order given
    assert "4</strong>" in html  # the session's average (5 + 4 + 3) / 3
    assert "想学0" in html and "想学2" in html
    assert "答卷人" not in html  # no name, ever
    overview = _page(client, "/surveys/results")
    assert setup["session"].title in overview and "答卷人" not in overview


def test_an_instructor_sees_their_sessions_only(setup, client, make_user, login_as):
    teacher = make_user(roles=("mentor", "agent"), name="陈刚")
    own = make_session(teacher, setup["other_course"], title="陈刚的分享会")
    login_as(teacher)
    assert client.get("/surveys/results").status_code == 200
    assert client.get(f"/surveys/results/session/{own.id}").status_code == 200
    assert client.get(f"/surveys/results/instructor/{teacher.id}").status_code == 200
    assert client.get(f'/surveys/results/course/{setup["other_course"].id}').status_code == 200
    assert client.get(f'/surveys/results/session/{setup["session"].id}').status_code == 403
    assert client.get(f'/surveys/results/instructor/{setup["trainer"].id}').status_code == 403
    assert client.get(f'/surveys/results/course/{setup["course"].id}').status_code == 403
    html = _page(client, "/surveys/results")
    assert "陈刚的分享会" in html and setup["session"].title not in html
    assert client.get("/surveys/templates").status_code == 403


def test_unknown_ids_are_404(setup, app, client, agent_client):
    for path in ("/surveys/course/999999", "/surveys/session/999999"):
        assert client.get(path).status_code == 404
    client = app.test_client()
    client.post("/login", data={"employee_no": setup["trainer"].employee_no, "password": "password123"})
    for path in ("/surveys/templates/999999", "/surveys/results/course/999999", "/surveys/results/session/999999",
                 "/surveys/results/instructor/999999"):
        assert client.get(path).status_code == 404


def test_the_results_page_runs_a_fixed_number_of_queries(setup, client, login_as, make_user):
    from tests.conftest import count_queries
    from tests.unit.test_surveys import _agents_with_completions

    login_as(make_user(roles=("admin",)))
    client.get("/surveys/results")
    _agents_with_completions(10, setup["course"])
    small = count_queries(lambda: client.get("/surveys/results"))
    _agents_with_completions(1000, setup["other_course"])
    large = count_queries(lambda: client.get("/surveys/results"))
    assert small == large
