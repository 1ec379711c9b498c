"""Login throttling: failed logins per account and per client address lead to a growing wait
(never a permanent lock), shared by every worker through the database, audited when a wait starts."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms import create_app
from lms.auth import throttle
from lms.config import ratelimit_storage_uri
from lms.extensions import db
from lms.models import AuditEvent
from tests.conftest import TEST_CONFIG

EN = {"Accept-Language": "en"}


def attempt(client, employee_no, password="wrong-password", address="10.0.0.1"):
    return client.post("/login", data={"employee_no": employee_no, "password": password}, headers=EN,
                       environ_base={"REMOTE_ADDR": address})


def fail(client, employee_no, times, address="10.0.0.1"):
    return [attempt(client, employee_no, address=address) for _ in range(times)]


def lockouts():
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.locked_out")
                                   .order_by(AuditEvent.id)))


def test_the_fifth_failure_starts_a_wait_that_refuses_even_the_right_password(client, make_user, frozen_now):
    start = frozen_now()
    user = make_user()
    responses = fail(client, user.employee_no, 5)
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 429]
    locked = responses[-1]
    assert locked.headers["Retry-After"] == "60"
    assert "Too many failed logins. Try again in 1 minute." in locked.get_data(as_text=True)

    frozen_now(start + timedelta(seconds=59))
    refused = attempt(client, user.employee_no, "password123")
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    assert client.get("/").status_code == 302  # not logged in

    frozen_now(start + timedelta(seconds=60))
    assert attempt(client, user.employee_no, "password123").status_code == 302


def test_unknown_numbers_are_throttled_exactly_like_real_ones(client, make_user, frozen_now):
    frozen_now()
    user = make_user()
    known = [(r.status_code, r.headers.get("Retry-After")) for r in fail(client, user.employee_no, 6)]
    unknown = [(r.status_code, r.headers.get("Retry-After")) for r in fail(client, "U-nobody", 6, address="10.0.0.2")]
    assert known == unknown == [(200, None)] * 4 + [(429, "60")] * 2


def test_the_wait_grows_to_at_most_fifteen_minutes_and_never_locks_for_good(client, make_user, frozen_now):
    now = frozen_now()
    user = make_user()
    waits = []
    for _ in range(7):
        waits.append(int(fail(client, user.employee_no, 5)[-1].headers["Retry-After"]))
        now = frozen_now(now + timedelta(seconds=waits[-1]))
    assert waits == [60, 120, 240, 480, 900, 900, 900]
    assert attempt(client, user.employee_no, "password123").status_code == 302


def test_refused_attempts_do_not_stretch_the_wait(client, make_user, frozen_now):
    start = frozen_now()
    user = make_user()
    fail(client, user.employee_no, 5)
    frozen_now(start + timedelta(seconds=30))
    assert all(r.headers["Retry-After"] == "30" for r in fail(client, user.employee_no, 20))
    frozen_now(start + timedelta(seconds=60))
    assert attempt(client, user.employee_no, "password123").status_code == 302


def test_a_lockout_is_audited_once_when_it_starts(client, make_user, frozen_now):
    frozen_now()
    user = make_user()
    fail(client, user.employee_no, 9)  # 5th starts a wait, the next 4 are refused during it
    events = lockouts()
    assert len(events) == 1
    event = events[0]
    assert (event.subject_type, event.subject_id) == ("user", user.id)
    assert event.details["scope"] == "account" and event.details["wait_seconds"] == 60
    assert event.details["address"] == "10.0.0.1" and event.details["employee_no"] == user.employee_no


def test_a_successful_login_resets_the_account_count(client, make_user, frozen_now):
    frozen_now()
    user = make_user()
    fail(client, user.employee_no, 4)
    assert attempt(client, user.employee_no, "password123").status_code == 302
    client.post("/logout")
    assert [r.status_code for r in fail(client, user.employee_no, 4)] == [200] * 4
    assert lockouts() == []


def test_an_address_guessing_at_many_accounts_waits_others_do_not(client, make_user, frozen_now):
    frozen_now()
    user = make_user()
    statuses = [attempt(client, f"U-guess-{n}").status_code for n in range(30)]
    assert statuses == [200] * 29 + [429]
    assert attempt(client, user.employee_no, "password123").status_code == 429  # same address
    assert attempt(client, user.employee_no, "password123", address="10.0.0.9").status_code == 302
    assert [e.details["scope"] for e in lockouts()] == ["address"]
    assert lockouts()[0].subject_type == "login"


def test_the_count_is_shared_by_every_worker(app, make_user, frozen_now, database_url):
    # Two app objects on one database stand for two gunicorn workers (or two app servers).
    frozen_now()
    user = make_user()
    other_worker = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url})
    fail(app.test_client(), user.employee_no, 3)
    with other_worker.app_context():
        responses = fail(other_worker.test_client(), user.employee_no, 2)
        db.session.remove()
    assert responses[-1].status_code == 429
    assert attempt(app.test_client(), user.employee_no, "password123").status_code == 429


def test_ordinary_logins_do_not_trip_the_throttle(client, make_user, login_as):
    users = [make_user() for _ in range(40)]
    for user in users:
        login_as(user)
        client.post("/logout")


def test_the_database_storage_counts_and_expires_on_the_app_clock(app, frozen_now):
    from limits.storage import storage_from_string

    start = frozen_now()
    storage = storage_from_string("lmsdb://")
    assert isinstance(storage, throttle.DatabaseStorage) and storage.check()
    assert [storage.incr("k", 60) for _ in range(3)] == [1, 2, 3]
    assert storage.get("k") == 3 and storage.get_expiry("k") == start.timestamp() + 60
    frozen_now(start + timedelta(seconds=60))
    assert storage.get("k") == 0
    assert storage.incr("k", 60) == 1  # an expired count starts again
    storage.clear("k")
    assert storage.get("k") == 0


@pytest.mark.parametrize("uri", ["", "lmsdb://", "redis://cache:6379/0", "memcached://cache:11211"])
def test_storage_settings_that_start(uri):
    assert ratelimit_storage_uri(uri) == (uri or "lmsdb://")


@pytest.mark.parametrize("uri", ["cache", "sqlite:///x", "http://cache"])
def test_storage_settings_that_refuse_to_start(uri):
    with pytest.raises(RuntimeError, match="LMS_RATELIMIT_STORAGE_URI"):
        ratelimit_storage_uri(uri)
