"""Sessions that end: logout, a new password and deactivation end every earlier session (a copied
cookie is refused); an idle timeout and an absolute lifetime, never in the middle of an exam."""
from datetime import timedelta

import pytest

from lms import config
from lms.admin import services as admin
from lms.auth import sessions
from tests.exam_support import make_bank, make_exam, started_attempt_id

AUTO = ("single", "multi", "truefalse", "fill", "matching")


def logged_in(client) -> bool:
    return client.get("/").status_code == 200


def copy_of(app, client):
    """Another browser holding a copy of `client`'s session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def test_a_cookie_copied_before_logout_is_refused_after_it(app, client, make_user, login_as):
    login_as(make_user())
    thief = copy_of(app, client)
    assert logged_in(thief)
    client.post("/logout")
    response = thief.get("/")
    assert response.status_code == 302 and response.location.startswith("/login")


def test_logout_ends_the_sessions_on_other_devices(app, make_user, login_as):
    user = make_user()
    phone = app.test_client()
    phone.post("/login", data={"employee_no": user.employee_no, "password": "password123"})
    desk = login_as(user)
    desk.post("/logout")
    assert not logged_in(phone)


def test_an_admin_setting_a_new_password_ends_every_session(app, client, make_user, login_as):
    user = make_user()
    login_as(user)
    thief = copy_of(app, client)
    admin.update_user(user, name=user.name, team=user.team, hire_date=None, star_level=0, roles={"agent"},
                      mentor_employee_no=None, preferred_language=None, active=True, actor=None,
                      new_password="a-new-password")
    assert not logged_in(client) and not logged_in(thief)
    client.post("/login", data={"employee_no": user.employee_no, "password": "a-new-password"})
    assert logged_in(client)


def test_the_admin_edit_page_with_a_new_password_ends_the_users_sessions(app, client, make_user, login_as):
    user = make_user()
    victim = app.test_client()
    victim.post("/login", data={"employee_no": user.employee_no, "password": "password123"})
    login_as(make_user(roles=("admin",)))
    page = client.get(f"/admin/users/{user.id}/edit")
    assert page.status_code == 200
    version = user.session_version
    admin.update_user(user, name=user.name, team=user.team, hire_date=None, star_level=0, roles={"agent"},
                      mentor_employee_no=None, preferred_language=None, active=True, actor=None)
    assert user.session_version == version and logged_in(victim)  # an edit without a password keeps them
    admin.set_active(user, False, actor=None)
    assert user.session_version == version + 1 and not logged_in(victim)


def test_a_session_from_before_this_release_or_a_remember_cookie_is_refused(client, make_user):
    user = make_user()
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)  # what a remember-me cookie or an old session restores
        session["_fresh"] = True
    assert not logged_in(client)


def test_the_idle_timeout_ends_a_session_and_activity_keeps_it(client, make_user, login_as, frozen_now):
    start = frozen_now()
    login_as(make_user())
    for minutes in (50, 100, 150):  # a request every 50 minutes keeps it alive
        frozen_now(start + timedelta(minutes=minutes))
        assert logged_in(client)
    frozen_now(start + timedelta(minutes=150 + 61))
    assert not logged_in(client)
    frozen_now(start + timedelta(minutes=150 + 1))
    assert not logged_in(client)  # ended for good, even if the clock goes back


def test_the_absolute_lifetime_ends_even_an_active_session(client, make_user, login_as, frozen_now):
    start = frozen_now()
    login_as(make_user())
    for minutes in range(30, 8 * 60 + 1, 30):
        frozen_now(start + timedelta(minutes=minutes))
        assert logged_in(client), minutes
    frozen_now(start + timedelta(hours=8, seconds=1))
    assert not logged_in(client)


def test_last_seen_is_rewritten_at_most_once_a_minute(client, make_user, login_as, frozen_now):
    start = frozen_now()
    login_as(make_user())
    client.get("/")  # the first page adds the CSRF token to the session
    frozen_now(start + timedelta(seconds=30))
    assert "Set-Cookie" not in client.get("/").headers
    frozen_now(start + timedelta(seconds=61))
    assert "Set-Cookie" in client.get("/").headers
    with client.session_transaction() as session:
        assert session[sessions.SEEN_KEY] == (start + timedelta(seconds=61)).timestamp()


@pytest.fixture
def long_exam(app):
    bank = make_bank("kb", per_type=1, types=AUTO)
    return make_exam([(bank, 5)], time_limit_minutes=120)


def start_exam(client, exam):
    return started_attempt_id(client.post(f"/exams/{exam.slug}/start"))


def test_an_open_exam_outlasts_the_idle_timeout_and_the_lifetime(client, make_user, login_as, long_exam,
                                                                 frozen_now):
    start = frozen_now()
    login_as(make_user())
    for minutes in range(50, 7 * 60 + 31, 50):
        frozen_now(start + timedelta(minutes=minutes))
        assert logged_in(client)
    frozen_now(start + timedelta(hours=7, minutes=30))
    attempt_id = start_exam(client, long_exam)  # deadline at 9:30 after login
    frozen_now(start + timedelta(hours=8, minutes=45))  # 75 idle minutes, past the 8 hours
    saved = client.post(f"/exams/attempts/{attempt_id}/save", json={"slot": 1, "response": "x", "seq": 1})
    assert saved.status_code in (200, 400) and saved.status_code != 401
    assert client.get(f"/exams/attempts/{attempt_id}").status_code == 200
    # after the deadline (+ grace) the result page still opens for a few minutes, then the session ends
    frozen_now(start + timedelta(hours=9, minutes=35))
    assert client.get(f"/exams/attempts/{attempt_id}/result").status_code == 200
    frozen_now(start + timedelta(hours=9, minutes=30, seconds=30 + sessions.RESULT_MINUTES * 60 + 1))
    assert client.get(f"/exams/attempts/{attempt_id}/result").status_code == 302


def test_the_exam_heartbeat_keeps_the_session_and_tells_when_the_attempt_ended(client, make_user, login_as,
                                                                               long_exam, frozen_now):
    start = frozen_now()
    login_as(make_user())
    attempt_id = start_exam(client, long_exam)
    beat = client.post(f"/exams/attempts/{attempt_id}/heartbeat")
    assert beat.status_code == 200 and beat.get_json()["open"] is True
    frozen_now(start + timedelta(minutes=3))
    client.post(f"/exams/attempts/{attempt_id}/heartbeat")
    with client.session_transaction() as session:
        assert session[sessions.SEEN_KEY] == (start + timedelta(minutes=3)).timestamp()
    client.post(f"/exams/attempts/{attempt_id}/submit")
    ended = client.post(f"/exams/attempts/{attempt_id}/heartbeat")
    assert ended.status_code == 409 and ended.get_json()["result_url"].endswith("/result")
    client.post("/logout")
    assert client.post(f"/exams/attempts/{attempt_id}/heartbeat").status_code == 401


def test_someone_elses_attempt_has_no_heartbeat(app, client, make_user, login_as, long_exam):
    owner = app.test_client()
    first = make_user()
    owner.post("/login", data={"employee_no": first.employee_no, "password": "password123"})
    attempt_id = start_exam(owner, long_exam)
    login_as(make_user())
    assert client.post(f"/exams/attempts/{attempt_id}/heartbeat").status_code == 403
    assert client.post("/exams/attempts/999999/heartbeat").status_code == 404


@pytest.mark.parametrize("name, value", [("LMS_SESSION_IDLE_MINUTES", "0"), ("LMS_SESSION_IDLE_MINUTES", "ten"),
                                         ("LMS_SESSION_MAX_HOURS", "0"), ("LMS_SESSION_MAX_HOURS", "1000"),
                                         ("LMS_LOGIN_FAILURES_PER_ACCOUNT", "1")])
def test_bad_session_settings_stop_the_start(monkeypatch, tmp_path, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(RuntimeError, match=name):
        config.from_environment(tmp_path)


def test_session_settings_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("LMS_SESSION_IDLE_MINUTES", "15")
    monkeypatch.setenv("LMS_SESSION_MAX_HOURS", "10")
    settings = config.from_environment(tmp_path)
    assert (settings["LMS_SESSION_IDLE_MINUTES"], settings["LMS_SESSION_MAX_HOURS"]) == (15, 10)
    assert settings["LMS_RATELIMIT_STORAGE_URI"] == "lmsdb://"
