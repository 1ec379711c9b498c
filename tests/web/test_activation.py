"""Activating a bulk-created account with its one-time code: once, before it expires, throttled
like logins, and no password works before."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from lms.auth import activation
from lms.extensions import db
from lms.models import AuditEvent

START = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def pending(app, make_user, frozen_now):
    """A new account waiting for activation, and its code."""
    frozen_now(START)
    user = make_user(employee_no="N0001", preferred_language="en")
    code = activation.issue(user, START)
    db.session.commit()
    return user, activation.display(code)


def activate(client, code: str, password: str = "chosen-pw-1", employee_no: str = "N0001"):
    return client.post("/activate", data={"employee_no": employee_no, "code": code, "password": password,
                                          "confirm": password}, headers={"Accept-Language": "en"})


def login(client, password: str, employee_no: str = "N0001"):
    return client.post("/login", data={"employee_no": employee_no, "password": password})


def test_the_login_page_links_to_activation(client):
    assert 'href="/activate"' in client.get("/login").get_data(as_text=True)
    page = client.get("/activate")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"


def test_a_pending_account_cannot_log_in_until_activated_then_logs_in(client, pending):
    user, code = pending
    assert login(client, "password123").status_code == 200  # the password make_user set no longer works
    assert login(client, code).status_code == 200  # nor does the code as a password
    response = activate(client, code.lower().replace("-", " "))  # any case, any separators
    assert response.status_code == 302 and response.location == "/login"
    db.session.expire_all()
    assert user.activation_hash is None and user.check_password("chosen-pw-1")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "account.code_activated"))
    assert event.subject_id == user.id
    assert login(client, "chosen-pw-1").status_code == 302


def test_a_code_works_once(client, pending):
    _user, code = pending
    assert activate(client, code).status_code == 302
    again = activate(client, code, password="another-pw-2")
    assert again.status_code == 200 and "the code was used already" in again.get_data(as_text=True)
    assert login(client, "chosen-pw-1").status_code == 302


def test_an_expired_code_is_refused(client, pending, frozen_now):
    user, code = pending
    frozen_now(START + timedelta(days=activation.ACTIVATION_DAYS, seconds=1))
    response = activate(client, code)
    assert "has expired" in response.get_data(as_text=True)
    db.session.expire_all()
    assert user.activation_pending


@pytest.mark.parametrize("employee_no, code", [("N0001", "ABCD-EFGH-JKMN"), ("NOBODY", "ABCD-EFGH-JKMN"),
                                               ("N0001", "")])
def test_a_wrong_code_or_number_is_refused_alike(client, pending, employee_no, code):
    response = activate(client, code, employee_no=employee_no)
    assert response.status_code == 200
    db.session.expire_all()
    assert pending[0].activation_pending


def test_wrong_codes_are_throttled_like_logins(client, pending):
    _user, code = pending
    for _attempt in range(4):
        assert activate(client, "WRNG-WRNG-WRNG").status_code == 200
    locked = activate(client, "WRNG-WRNG-WRNG")
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    assert "Too many failed logins" in locked.get_data(as_text=True)
    assert activate(client, code).status_code == 429  # the right code waits too
    assert "auth.locked_out" in {event.action for event in db.session.scalars(select(AuditEvent))}


def test_an_admin_password_replaces_a_pending_code(app, pending, make_user, login_as):
    from lms.admin.services import update_user

    user, code = pending
    admin = make_user(roles=("admin",))
    update_user(user, name=user.name, team=user.team, hire_date=None, star_level=0, roles={"agent"},
                mentor_employee_no=None, preferred_language=None, active=True, actor=admin,
                new_password="set-by-admin")
    db.session.expire_all()
    assert not user.activation_pending
    assert login(app.test_client(), "set-by-admin").status_code == 302


def test_codes_are_random_and_stored_hashed(app, pending):
    user, code = pending
    assert code.replace("-", "") not in user.activation_hash
    assert len({activation.new_code() for _n in range(1000)}) == 1000
    assert all(len(c) == 12 and set(c) <= set(activation.ALPHABET) for c in (activation.new_code(),))
