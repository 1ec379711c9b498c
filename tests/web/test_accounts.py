"""Accounts: everyone changes their own password (other sessions end, this one stays); an admin resets
a person's password to a temporary one shown once, which forces a new password at the next login."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from lms.extensions import db
from lms.models import AuditEvent, User
from tests.conftest import assert_access

EN = {"Accept-Language": "en"}
ROLES = ["anonymous", "agent", "mentor", "trainer", "admin"]


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def logged_in(client) -> bool:
    response = client.get("/learn")
    return response.status_code == 200


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def change(client, current="password123", new="a-new-password", confirm=None):
    return client.post("/account/password", headers=EN,
                       data={"current": current, "password": new, "confirm": new if confirm is None else confirm})


# --- changing one's own password ----------------------------------------------------------------

@pytest.mark.parametrize("current, new, confirm, message", [
    ("wrong-password", "a-new-password", None, "This is not your current password."),
    ("password123", "a-new-password", "another-password", "The two passwords differ."),
    ("password123", "short", None, "At least 8 characters."),
    ("", "a-new-password", None, "This field is required."),
    ("password123", "password123", None, "Choose a password different from the current one."),
])
def test_a_wrong_change_shows_the_form_again_with_the_reason(client, make_user, login_as, current, new, confirm,
                                                            message):
    user = make_user()
    login_as(user)
    response = change(client, current, new, confirm)
    assert response.status_code == 200 and message in text_of(response)
    assert response.headers["Cache-Control"] == "no-store"
    db.session.expire_all()
    assert db.session.get(User, user.id).check_password("password123")
    assert events("account.password_changed") == []


def test_changing_the_password_ends_the_other_sessions_and_keeps_this_one(app, client, make_user, login_as):
    user = make_user(roles=("agent",))
    phone = app.test_client()
    phone.post("/login", data={"employee_no": user.employee_no, "password": "password123"})
    assert logged_in(phone)
    login_as(user)
    response = change(client)
    assert response.status_code == 302 and response.location == "/"
    assert "Your password is changed." in text_of(client.get("/", headers=EN))
    assert logged_in(client) and not logged_in(phone)  # the other device must log in again
    fresh = app.test_client()
    assert fresh.post("/login", data={"employee_no": user.employee_no, "password": "password123"}).status_code == 200
    assert fresh.post("/login", data={"employee_no": user.employee_no, "password": "a-new-password"}).status_code == 302
    [event] = events("account.password_changed")
    assert event.actor_id == user.id and event.subject_id == user.id and event.details == {"forced": False}


def test_guessing_the_current_password_is_throttled_like_a_login(client, make_user, login_as):
    user = make_user()
    login_as(user)
    for _attempt in range(4):
        assert change(client, current="guess-again").status_code == 200
    locked = change(client, current="guess-again")
    assert locked.status_code == 429 and "Too many failed logins" in text_of(locked)
    assert change(client).status_code == 429  # the right password waits too
    assert [event.details["scope"] for event in events("auth.locked_out")] == ["account"]


@pytest.mark.parametrize("role", ROLES)
def test_everyone_logged_in_may_change_their_password(client, make_user, login_as, role):
    if role != "anonymous":
        login_as(make_user(roles=(role,), star_level=4))
    assert_access(client.get("/account/password"), role, {"agent", "mentor", "trainer", "admin"})
    assert_access(change(client, current="wrong"), role, {"agent", "mentor", "trainer", "admin"})


# --- an admin's reset ------------------------------------------------------------------------------

@pytest.fixture
def admin(make_user):
    return make_user(roles=("admin",), name="王敏", employee_no="A9001", star_level=5)


def reset(client, user):
    response = client.post(f"/admin/users/{user.id}/password", headers=EN)
    match = re.search(r'id="temporary-password"><code>([^<]+)</code>', response.get_data(as_text=True))
    return response, match.group(1) if match else None


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("role", ROLES)
def test_only_admins_reset_passwords(client, make_user, login_as, role, method):
    person = make_user(employee_no="E1002")
    if role != "anonymous":
        login_as(make_user(roles=(role,), star_level=4))
    response = client.open(f"/admin/users/{person.id}/password", method=method)
    assert_access(response, role, {"admin"})
    db.session.expire_all()
    assert db.session.get(User, person.id).check_password("password123") == (role != "admin" or method == "GET")
    assert client.get("/admin/users/99999/password").status_code in ((404,) if role == "admin" else (302, 403))


def test_a_reset_forces_a_new_password_at_the_next_login(app, client, make_user, login_as, admin):
    person = make_user(roles=("agent",), name="刘洋", employee_no="E1002")
    victim = app.test_client()
    victim.post("/login", data={"employee_no": "E1002", "password": "password123"})
    login_as(admin)
    edit = client.get(f"/admin/users/{person.id}/edit", headers=EN).get_data(as_text=True)
    assert f'href="/admin/users/{person.id}/password"' in edit
    confirm = client.get(f"/admin/users/{person.id}/password", headers=EN)
    assert "Their current password stops working at once" in text_of(confirm)

    response, temporary = reset(client, person)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert re.fullmatch(r"[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}", temporary)
    assert "It is shown only now" in text_of(response)
    [event] = events("account.password_reset")
    assert event.actor_id == admin.id and event.subject_id == person.id and temporary not in str(event.details)
    assert not logged_in(victim)  # reset ends their sessions
    assert "Temporary password" in text_of(client.get(f"/admin/users/{person.id}/edit", headers=EN))

    person_client = app.test_client()
    old = person_client.post("/login", data={"employee_no": "E1002", "password": "password123"})
    assert old.status_code == 200  # the old password no longer works
    assert person_client.post("/login", data={"employee_no": "E1002", "password": temporary}).status_code == 302
    for path in ("/", "/learn", "/records/mine", "/practicals/mine", "/inbox"):
        response = person_client.get(path)
        assert response.status_code == 302 and response.location == "/account/password", path
    page = person_client.get("/account/password", headers=EN)
    assert page.status_code == 200 and "Your administrator reset your password" in text_of(page)
    assert person_client.get("/static/css/app.css").status_code == 200
    assert person_client.post("/language", data={"language": "en", "next": "/account/password"}).status_code == 302

    done = change(person_client, current=temporary, new="my-own-password")
    assert done.status_code == 302 and done.location == "/"
    assert person_client.get("/learn").status_code == 200  # free again
    db.session.expire_all()
    assert not db.session.get(User, person.id).must_change_password
    assert events("account.password_changed")[0].details == {"forced": True}


def test_logging_out_stays_open_while_a_change_is_due(app, make_user, login_as, client, admin):
    person = make_user(employee_no="E1002")
    login_as(admin)
    _response, temporary = reset(client, person)
    person_client = app.test_client()
    person_client.post("/login", data={"employee_no": "E1002", "password": temporary})
    response = person_client.post("/logout")
    assert response.status_code == 302 and response.location == "/login"


def test_an_admin_cannot_reset_their_own_or_an_inactive_password(client, make_user, login_as, admin):
    login_as(admin)
    response = client.post(f"/admin/users/{admin.id}/password", headers=EN, follow_redirects=True)
    assert "To change your own password, use Change password." in text_of(response)
    inactive = make_user(active=False)
    response = client.post(f"/admin/users/{inactive.id}/password", headers=EN, follow_redirects=True)
    assert "This account is inactive" in text_of(response)
    assert events("account.password_reset") == []
    assert f'href="/admin/users/{admin.id}/password"' not in client.get(f"/admin/users/{admin.id}/edit").get_data(
        as_text=True)


# --- CSRF ------------------------------------------------------------------------------------------

def token_of(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def test_the_password_forms_need_their_csrf_token(app, client, make_user, admin):
    app.config["WTF_CSRF_ENABLED"] = True
    person = make_user(employee_no="E1002")
    client.post("/login", data={"employee_no": admin.employee_no, "password": "password123",
                                "csrf_token": token_of(client.get("/login").get_data(as_text=True))})
    form = client.get(f"/admin/users/{person.id}/password").get_data(as_text=True)
    assert client.post(f"/admin/users/{person.id}/password").status_code == 400  # no token: refused
    own = client.get("/account/password").get_data(as_text=True)
    assert change(client, new="a-new-password").status_code == 400
    assert events("account.password_reset") == [] and events("account.password_changed") == []

    response = client.post(f"/admin/users/{person.id}/password", data={"csrf_token": token_of(form)})
    assert response.status_code == 200 and 'id="temporary-password"' in response.get_data(as_text=True)
    response = client.post("/account/password", data={"csrf_token": token_of(own), "current": "password123",
                                                      "password": "a-new-password", "confirm": "a-new-password"})
    assert response.status_code == 302
    assert len(events("account.password_reset")) == 1 and len(events("account.password_changed")) == 1
