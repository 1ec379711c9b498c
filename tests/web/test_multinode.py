"""Two app servers on one database (PostgreSQL when LMS_TEST_DATABASE_URL is set, else one SQLite
file): a person's requests may reach either, in any order, and nothing may depend on which.

Node A is the `app` fixture; node B is a second create_app() on the same database, with its own
instance folder (so nothing can pass between them on disk) and the same LMS_SECRET_KEY. CSRF is on,
as in production: every form and JSON save carries the token a page of the other node gave.
"""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lms import create_app
from lms.extensions import db
from lms.models import ExamAttempt, Question, QuestionBank, RecordEntry
from lms.models.uploads import StagedUpload
from tests.conftest import TEST_CONFIG
from tests.exam_support import answers_for, make_bank, make_exam, right_raw, sheet_url, started_attempt_id

EN = {"Accept-Language": "en"}
CSRF_ON = {"WTF_CSRF_ENABLED": True, "LMS_LOGIN_FAILURES_PER_ACCOUNT": 5}
GIFT = ("// [id:mn-001]\n::mn-001::客户来电先做什么？{=问候 ~挂断}\n\n"
        "// [id:mn-002]\n::mn-002::投诉要记录吗？{T}\n")


@pytest.fixture
def app_config(tmp_path, monkeypatch):
    monkeypatch.setenv("LMS_INSTANCE_PATH", str(tmp_path / "node-a"))
    return CSRF_ON


@pytest.fixture
def node_b(app, database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("LMS_INSTANCE_PATH", str(tmp_path / "node-b"))
    other = create_app({**TEST_CONFIG, **CSRF_ON, "SQLALCHEMY_DATABASE_URI": database_url,
                        "LMS_COURSES_DIR": str(tmp_path / "node-b" / "courses"),
                        "LMS_BANKS_DIR": str(tmp_path / "node-b" / "question_banks"),
                        "LMS_MEDIA_CACHE_DIR": str(tmp_path / "node-b" / "media-cache")})
    assert other.instance_path != app.instance_path
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def csrf_of(client) -> str:
    """The CSRF token of the session this client holds, as a page of its node gives it."""
    token = client.get("/auth/token").get_json()["csrf"]
    assert token
    return token


def login(client, user, password="password123"):
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    response = client.post("/login", data={"employee_no": user.employee_no, "password": password,
                                           "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


def move_to(source, target):
    """The browser's cookies, now sent to the other node (the load balancer chose it)."""
    for name in ("session",):
        cookie = source.get_cookie(name)
        assert cookie is not None, f"no {name} cookie"
        target.set_cookie(name, cookie.value)
    return target


def test_a_login_on_a_continues_on_b_with_the_same_session_and_csrf_token(app, node_b, make_user):
    agent = make_user(preferred_language="en")
    name = agent.name
    a = login(app.test_client(), agent)
    token = csrf_of(a)  # a page of node A gave this token
    b = move_to(a, node_b.test_client())

    home = b.get("/", headers=EN)
    assert home.status_code == 200 and name in home.get_data(as_text=True)  # logged in on B too
    assert b.post("/logout").status_code == 400  # B still checks CSRF ...
    assert b.post("/logout", data={"csrf_token": token}).status_code == 302  # ... and accepts A's token
    # Logging out on B ends the session everywhere: A refuses the same cookie now.
    assert a.get("/", headers=EN).status_code == 302


def test_a_bank_previewed_on_a_is_confirmed_on_b_once(app, node_b, make_user):
    trainer = make_user(roles=("trainer",), preferred_language="en")
    a = login(app.test_client(), trainer)
    preview = a.post("/banks/import", data={"file": (io.BytesIO(GIFT.encode()), "drill.gift"),
                                            "format": "", "bank": "", "csrf_token": csrf_of(a)},
                     content_type="multipart/form-data", headers=EN)
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200, html[:500]
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', html).group(1)
    assert not list(Path(app.instance_path).rglob(f"{token}*"))  # not on A's disk
    assert db.session.scalar(select(func.count()).select_from(Question)) == 0

    b = move_to(a, node_b.test_client())
    done = b.post("/banks/import/confirm", data={"token": token, "csrf_token": csrf_of(a)}, headers=EN)
    assert done.status_code == 302 and done.location.startswith("/banks/"), done.get_data(as_text=True)[:500]
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Question)) == 2
    assert db.session.scalar(select(func.count()).select_from(StagedUpload)) == 0

    again = a.post("/banks/import/confirm", data={"token": token, "csrf_token": csrf_of(a)}, headers=EN)
    assert again.location == "/banks/import"  # used up, whichever node is asked
    assert db.session.scalar(select(func.count()).select_from(QuestionBank)) == 1


def test_an_exam_started_on_a_is_saved_and_finished_on_b(app, node_b, make_user):
    agent = make_user(preferred_language="en")
    exam = make_exam([(make_bank("mn", per_type=2, types=("single", "truefalse", "fill")), 6)])
    a = login(app.test_client(), agent)
    started = a.post(f"/exams/{exam.slug}/start", data={"csrf_token": csrf_of(a)})
    attempt_id = started_attempt_id(started)  # the sheet, from A
    assert a.get(sheet_url(started)).status_code == 200  # and again at its own address

    b = move_to(a, node_b.test_client())
    token = csrf_of(a)
    attempt = db.session.get(ExamAttempt, attempt_id)
    for slot, raw in answers_for(attempt, right_raw).items():
        client = b if slot % 2 else a  # the balancer alternates
        reply = client.post(f"/exams/attempts/{attempt_id}/save", json={"slot": slot, "response": raw, "seq": 1 + slot},
                            headers={"X-CSRFToken": token})
        assert reply.status_code == 200 and reply.get_json()["saved"], reply.get_data(as_text=True)
    # a second start on B (a double tap that reached the other node) gives the same attempt
    again = b.post(f"/exams/{exam.slug}/start", data={"csrf_token": token})
    assert started_attempt_id(again) == attempt_id
    submitted = b.post(f"/exams/attempts/{attempt_id}/submit", data={"csrf_token": token})
    assert submitted.location.endswith(f"/exams/attempts/{attempt_id}/result")
    result = b.get(submitted.location, headers=EN).get_data(as_text=True)
    assert "Passed" in result and "100%" in result
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(ExamAttempt)) == 1
    assert db.session.scalars(select(RecordEntry.percent)).all() == [100.0]


def test_the_login_throttle_counts_failures_made_on_both_nodes(app, node_b, make_user):
    agent = make_user()
    clients = [app.test_client(), node_b.test_client()]

    def attempt(client, password):
        html = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
        return client.post("/login", data={"employee_no": agent.employee_no, "password": password,
                                           "csrf_token": token}, headers=EN)

    codes = [attempt(clients[n % 2], "wrong-password").status_code for n in range(5)]
    assert codes == [200, 200, 200, 200, 429]  # 3 failures on A and 2 on B make the five of one account
    for client in clients:  # the wait holds on both nodes, for the right password too
        refused = attempt(client, "password123")
        assert refused.status_code == 429 and "Too many failed logins" in refused.get_data(as_text=True)


def test_each_node_reports_its_health(app, node_b, tmp_path):
    for node in (app, node_b):
        response = node.test_client().get("/healthz")
        assert (response.status_code, response.get_json()) == (200, {"status": "ok"})
        assert response.headers["Cache-Control"] == "no-store" and "Set-Cookie" not in response.headers
    # A node whose code expects a migration the database has not had is taken out of the rotation ...
    node_b.extensions["lms.health.heads"] = {"9999_not_applied_yet"}
    response = node_b.test_client().get("/healthz")
    assert (response.status_code, response.get_json()) == (503, {"status": "migrations pending"})
    # ... and so is one that cannot reach its database.
    cut_off = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing/dir/x.db"})
    response = cut_off.test_client().get("/healthz")
    assert (response.status_code, response.get_json()) == (503, {"status": "database unavailable"})
