"""The demo's inboxes: the story's hooks fill them; seed_demo makes them look lived in."""
from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from lms.clock import utcnow
from lms.config import PROJECT_ROOT
from lms.content.sync import sync_content
from lms.demo import ensure_demo_accounts
from lms.extensions import db
from lms.models import User
from lms.models.notifications import Notification
from lms.notifications.demo import seed_demo
from lms.notifications.messages import render

PEOPLE = ("A0001", "T0001", "M0001", "E1001", "E1002", "E1003", "E1004")


@pytest.fixture
def app_config():
    return {"LMS_COURSES_DIR": str(PROJECT_ROOT / "courses"), "LMS_BANKS_DIR": str(PROJECT_ROOT / "question_banks")}


def test_every_demo_person_has_read_and_unread_notifications(app):
    sync_content(db.session, app.config, utcnow())
    ensure_demo_accounts()
    users = {user.employee_no: user for user in db.session.scalars(select(User))}
    now = utcnow()
    seed_demo(users, now)
    seed_demo(users, now)  # twice: nothing is added twice
    rows = list(db.session.scalars(select(Notification)))
    by_person = {number: [n for n in rows if n.user_id == users[number].id] for number in PEOPLE}
    for number, notifications in by_person.items():
        assert notifications, number
        assert any(n.read_at is None for n in notifications), number
        assert Counter(n.key for n in notifications).most_common(1)[0][1] == 1
    for number in ("E1002", "E1003", "E1004"):  # agents with a history: old news is read, new is not
        assert any(n.read_at is not None for n in by_person[number]), number
    kinds = {n.kind for n in rows}
    assert {"exam_result", "certificate_earned", "practical_waiting", "welcome"} <= kinds, kinds
    assert all(users[number].email for number in PEOPLE)
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert all(render(n.kind, n.params) and "%(" not in render(n.kind, n.params) for n in rows)
