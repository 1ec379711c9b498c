"""A session that ends under an open page (logged out in another tab, a new password, a lost cookie):
the exam's JSON endpoints answer 401 `{"saved": false, "error": "login"}`, never a CSRF 400; an
ordinary form sends the person to the login page with a message and back to the page they were on;
after a new login the exam page takes a fresh token from GET /auth/token and its saves work again."""
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from lms.extensions import db
from lms.models import ExamAttempt, User
from tests.exam_support import make_bank, make_exam, sheet_url

EN = {"Accept-Language": "en"}
LESSON = "/courses/basics-a/lessons/one"
COMPLETE = LESSON + "/complete"


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


def token_in(html: str) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)


def log_in(client, user) -> None:
    token = token_in(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"employee_no": user.employee_no, "password": "password123",
                                           "csrf_token": token})
    assert response.status_code == 302 and not response.location.startswith("/login")


def log_out(client) -> None:
    token = token_in(client.get(LESSON).get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302


def sent_to_login(response) -> str | None:
    """The `next` of a redirect to the login page (None: not such a redirect)."""
    parts = urlsplit(response.location or "")
    if response.status_code != 302 or parts.path != "/login":
        return None
    return parse_qs(parts.query).get("next", [""])[0]


def referer(path: str) -> dict:
    return {"Referer": f"http://localhost{path}", **EN}


@pytest.fixture
def sitting(client, make_user, app):
    """An agent logged in with an open attempt: (agent, attempt, the exam page's header token)."""
    agent = make_user(name="坐席乙")
    exam = make_exam([(make_bank("kb", per_type=2, types=("truefalse",)), 2)], attempts_allowed=2)
    log_in(client, agent)
    landing = client.get(f"/exams/{exam.slug}").get_data(as_text=True)
    started = client.post(f"/exams/{exam.slug}/start", data={"csrf_token": token_in(landing)})
    attempt = db.session.scalar(select(ExamAttempt).where(ExamAttempt.user_id == agent.id))
    page = client.get(sheet_url(started)).get_data(as_text=True)
    return agent, attempt, re.search(r'data-csrf="([^"]+)"', page).group(1)


def save(client, attempt, token, seq, response="true"):
    return client.post(f"/exams/attempts/{attempt.id}/save", json={"slot": 0, "response": response, "seq": seq},
                       headers={"X-CSRFToken": token} if token else {})


# --- the exam's JSON endpoints ----------------------------------------------------------------------

@pytest.mark.parametrize("endpoint", ["save", "heartbeat"])
@pytest.mark.parametrize("how", ["logged out in another tab", "session ended everywhere", "cookie lost"])
def test_a_lost_login_is_401_not_a_csrf_error(client, sitting, endpoint, how):
    agent, attempt, token = sitting
    if how == "logged out in another tab":
        log_out(client)  # a new session: the page's token no longer matches it
    elif how == "session ended everywhere":
        agent.end_sessions()  # a password change elsewhere: the token still matches, the login does not
        db.session.commit()
    else:
        client.delete_cookie("session")
    path = f"/exams/attempts/{attempt.id}/{endpoint}"
    body = {"slot": 0, "response": "true", "seq": 5} if endpoint == "save" else None
    for headers in ({"X-CSRFToken": token}, {}):  # with the page's old token, and with none
        reply = client.post(path, json=body, headers=headers)
        assert reply.status_code == 401, (how, reply.status_code, reply.get_data(as_text=True)[:200])
        assert reply.get_json() == {"saved": False, "error": "login"}


def test_after_a_new_login_the_page_takes_a_fresh_token_and_saves_again(client, sitting):
    agent, attempt, old_token = sitting
    assert save(client, attempt, old_token, 5).status_code == 200
    log_out(client)
    assert save(client, attempt, old_token, 6).status_code == 401
    log_in(client, agent)  # in another tab: a new session, a new token
    stale = save(client, attempt, old_token, 7, "false")
    # Logged in, the old token refused: the page is told it is the token (it fetches a fresh one),
    # not that the answer is wrong (which would make it drop the answer).
    assert stale.status_code == 400 and stale.get_json()["csrf"] is True
    fresh = client.get("/auth/token")
    assert fresh.status_code == 200 and fresh.headers["Cache-Control"] == "no-store"
    assert fresh.get_json()["user"] == agent.id
    saved = save(client, attempt, fresh.get_json()["csrf"], 7, "false")
    assert saved.status_code == 200 and saved.get_json()["seq"] == 7
    db.session.expire_all()
    answer = next(aq.answer for aq in db.session.get(ExamAttempt, attempt.id).questions if aq.position == 0)
    assert answer.response is False and answer.seq == 7


def test_the_token_endpoint_when_logged_out_and_as_someone_else(client, make_user, sitting):
    agent, _attempt, _token = sitting
    log_out(client)
    reply = client.get("/auth/token")
    assert reply.status_code == 401 and reply.get_json() == {"csrf": None, "user": None}
    assert reply.headers["Cache-Control"] == "no-store"
    other = make_user(name="另一个人")
    log_in(client, other)
    reply = client.get("/auth/token")
    assert reply.status_code == 200 and reply.get_json()["user"] == other.id != agent.id


# --- ordinary forms ------------------------------------------------------------------------------

def test_mark_complete_after_a_logout_in_another_tab_goes_to_login_and_back(client, make_user, catalog):
    user = make_user()
    log_in(client, user)
    token = token_in(client.get(LESSON).get_data(as_text=True))
    log_out(client)  # another tab
    response = client.post(COMPLETE, data={"csrf_token": token}, headers=referer(LESSON))
    assert sent_to_login(response) == LESSON  # not "400 Bad Request"
    page = client.get(response.location, headers=EN).get_data(as_text=True)
    assert "Your session ended. Log in again to continue." in page
    assert "What you sent was not saved" in page
    assert f'value="{LESSON}"' in page  # the login form's `next`
    login = client.post("/login", data={"employee_no": user.employee_no, "password": "password123",
                                        "csrf_token": token_in(page), "next": LESSON})
    assert login.location == LESSON


def test_mark_complete_after_the_session_ended_with_a_valid_token_comes_back_to_the_lesson(client, make_user, catalog):
    """The CSRF token still matches (same cookie), the login does not: login_required answers, and
    `next` is the lesson, not the POST-only address (which would answer 405 after login)."""
    user = make_user()
    log_in(client, user)
    token = token_in(client.get(LESSON).get_data(as_text=True))
    db.session.get(User, user.id).end_sessions()
    db.session.commit()
    response = client.post(COMPLETE, data={"csrf_token": token}, headers=referer(LESSON))
    assert sent_to_login(response) == LESSON
    assert "Your session ended" in client.get(response.location, headers=EN).get_data(as_text=True)


@pytest.mark.parametrize("sent_from", [None, "https://evil.example/courses/basics-a",
                                       "http://localhost//evil.example/"])
def test_without_a_page_of_this_site_to_return_to_the_login_leads_home(client, make_user, catalog, sent_from):
    user = make_user()
    log_in(client, user)
    log_out(client)
    response = client.post(COMPLETE, data={}, headers={"Referer": sent_from} if sent_from else {})
    assert sent_to_login(response) == "/"


def test_a_page_left_open_across_a_new_login_is_sent_again_not_refused(client, make_user, catalog):
    """Logged in, with a token from before the latest login: back to the page with a message.
    Without a same-origin Referer (a post from another site) it stays a plain 400."""
    user = make_user()
    log_in(client, user)
    old_token = token_in(client.get(LESSON).get_data(as_text=True))
    log_out(client)
    log_in(client, user)
    response = client.post(COMPLETE, data={"csrf_token": old_token}, headers=referer(LESSON))
    assert response.status_code == 302 and response.location == LESSON
    assert "This page had expired" in client.get(LESSON, headers=EN).get_data(as_text=True)
    refused = client.post(COMPLETE, data={"csrf_token": old_token}, headers=EN)
    assert refused.status_code == 400 and "The form had expired" in refused.get_data(as_text=True)


def test_a_page_opened_when_logged_out_still_says_please_log_in(client, catalog):
    response = client.get("/courses/basics-a?tab=x", headers=EN)
    assert sent_to_login(response) == "/courses/basics-a?tab=x"
    assert "Please log in to continue." in client.get(response.location, headers=EN).get_data(as_text=True)
