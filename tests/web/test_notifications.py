"""The inbox through HTTP: who may open what, only one's own notifications, opening follows only
links inside the site, the unread count, bounded queries, and a page never waiting on SMTP."""
import re
import socket
import time
from datetime import datetime, timedelta, timezone

import pytest
from flask import render_template_string
from sqlalchemy import select

from lms.extensions import db
from lms.models import User
from lms.models.notifications import Notification, OutgoingMail
from lms.notifications import mail
from lms.notifications.services import notify
from tests.conftest import assert_access, count_queries

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
EN = {"Accept-Language": "en"}
ROLES = ["anonymous", "agent", "mentor", "trainer", "admin"]
EVERYONE = {"agent", "mentor", "trainer", "admin"}


def add(user, count=1, **fields):
    made = []
    for number in range(count):
        made.append(notify(user.id, fields.get("kind", "survey_waiting"),
                           params=fields.get("params", {"title": f"问卷{number}"}), link=fields.get("link", "/"),
                           now=fields.get("now", T0 + timedelta(minutes=number))))
    db.session.commit()
    return made


# --- the role x route matrix ---------------------------------------------------------------------

ROUTES = [
    ("GET", "/inbox", EVERYONE),
    ("GET", "/inbox?page=2", EVERYONE),
    ("GET", "/inbox/unread.json", EVERYONE),
    ("POST", "/inbox/read-all", EVERYONE),
    ("POST", "/inbox/{own}/open", EVERYONE),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("method, path, allowed", ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_role_route_matrix(client, make_user, login_as, role, method, path, allowed):
    user = make_user(roles=(role,) if role != "anonymous" else ("agent",), star_level=0)
    (own,) = add(user)
    if role != "anonymous":
        login_as(user)
    response = client.open(path.format(own=own.id), method=method)
    assert_access(response, role, allowed)


@pytest.mark.parametrize("role", ["agent", "mentor", "trainer", "admin"])
def test_nobody_opens_someone_elses_notification(client, make_user, login_as, role):
    owner = make_user()
    (theirs,) = add(owner)
    login_as(make_user(roles=(role,)))
    assert client.post(f"/inbox/{theirs.id}/open").status_code == 404
    assert client.post("/inbox/999999/open").status_code == 404  # as for one that does not exist
    assert client.get(f"/inbox/{theirs.id}/open").status_code == 405
    db.session.expire_all()
    assert db.session.get(Notification, theirs.id).read_at is None
    assert "问卷0" not in client.get("/inbox").get_data(as_text=True)


# --- the page --------------------------------------------------------------------------------------

def test_inbox_lists_own_newest_first_with_unread_marked(client, make_user, login_as):
    agent = make_user(preferred_language="en")
    old, new = add(agent, 2)
    old.read_at = T0
    add(make_user(), params={"title": "别人的问卷"})
    login_as(agent)
    html = client.get("/inbox").get_data(as_text=True)
    assert html.index("问卷1") < html.index("问卷0") and "别人的问卷" not in html
    assert re.search(rf'class="inbox-item unread" id="notification-{new.id}"', html)
    assert re.search(rf'class="inbox-item" id="notification-{old.id}"', html)
    assert "A survey is waiting for you: 问卷1." in html and "1 unread notification." in html
    assert "Survey" in html  # the category


def test_an_empty_inbox(client, make_user, login_as):
    login_as(make_user(preferred_language="en"))
    html = client.get("/inbox").get_data(as_text=True)
    assert "No notifications yet." in html and "Mark all read" not in html


def test_pages_of_twenty(client, make_user, login_as):
    agent = make_user(preferred_language="en")
    add(agent, 25)
    login_as(agent)
    first = client.get("/inbox").get_data(as_text=True)
    second = client.get("/inbox?page=2").get_data(as_text=True)
    assert first.count('class="inbox-item') == 20 and second.count('class="inbox-item') == 5
    assert "Page 1 of 2" in first and "问卷24" in first and "问卷4" in second
    for odd in ("abc", "-1", "9" * 40, "３"):
        response = client.get(f"/inbox?page={odd}")
        assert response.status_code == 200


def test_the_page_runs_the_same_queries_for_few_and_many(client, make_user, login_as):
    agent = make_user()
    add(agent, 3)
    login_as(agent)
    few = count_queries(lambda: client.get("/inbox"))
    add(agent, 60)
    assert count_queries(lambda: client.get("/inbox")) == few


def test_opening_marks_read_and_follows_the_link(client, make_user, login_as):
    agent = make_user()
    (inside,) = add(agent, link="/records/me")
    (outside,) = add(agent, link="//evil.example/phish")
    (nowhere,) = add(agent, link="")
    login_as(agent)
    assert client.post(f"/inbox/{inside.id}/open").location == "/records/me"
    assert client.post(f"/inbox/{outside.id}/open").location == "/inbox"
    assert client.post(f"/inbox/{nowhere.id}/open").location == "/inbox"
    db.session.expire_all()
    assert all(db.session.get(Notification, n.id).read_at is not None for n in (inside, outside, nowhere))
    assert client.get("/inbox/unread.json").get_json() == {"count": 0}


def test_mark_all_read(client, make_user, login_as):
    agent, other = make_user(preferred_language="en"), make_user()
    add(agent, 3)
    add(other, 2)
    login_as(agent)
    assert client.get("/inbox/unread.json").get_json() == {"count": 3}
    response = client.post("/inbox/read-all", follow_redirects=True)
    assert "3 notifications marked read." in response.get_data(as_text=True)
    assert client.get("/inbox/unread.json").get_json() == {"count": 0}
    db.session.expire_all()
    assert db.session.scalar(select(Notification.id).where(Notification.user_id == other.id,
                                                           Notification.read_at.is_(None))) is not None


def test_the_menu_badge(app, client, make_user, login_as):
    agent = make_user(preferred_language="en")

    @app.route("/test-badge")
    def badge():
        return render_template_string('{% include "notifications/_badge.html" %}|{{ unread_notifications() }}')

    login_as(agent)
    assert client.get("/test-badge").get_data(as_text=True).strip().endswith("|0")
    add(agent, 4)
    html = client.get("/test-badge").get_data(as_text=True)
    assert 'class="badge inbox-count">4<' in html and "Inbox, 4 unread" in html
    # the include and the second call share one COUNT: the badge costs one query a page
    with_badge = count_queries(lambda: client.get("/test-badge"))
    add(agent, 1)
    assert count_queries(lambda: client.get("/test-badge")) == with_badge


class TestCsrf:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_posts_need_the_pages_token(self, client, make_user):
        agent = make_user()
        (one,) = add(agent)
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        client.post("/login", data={"employee_no": agent.employee_no, "password": "password123", "csrf_token": token})
        assert client.post(f"/inbox/{one.id}/open").status_code == 400
        assert client.post("/inbox/read-all").status_code == 400
        inbox = client.get("/inbox").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', inbox).group(1)
        assert client.post(f"/inbox/{one.id}/open", data={"csrf_token": token}).status_code == 302


# --- a page never waits on SMTP -------------------------------------------------------------------

@pytest.fixture
def silent_smtp():
    """A server that accepts connections and never answers: a sender talking to it hangs until its timeout."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    yield server.getsockname()[1]
    server.close()


def test_a_page_never_waits_on_smtp(app, client, make_user, login_as, silent_smtp):
    app.config.update(LMS_SMTP_URL=f"smtp://127.0.0.1:{silent_smtp}", LMS_MAIL_WORKER="thread", LMS_SMTP_TIMEOUT=3)
    agent = make_user(email="wait@example.com")
    user_id = agent.id

    @app.route("/test-notify", methods=["POST"])
    def notify_now():  # any operation that notifies and commits, as the exam or practical pages do
        notify(user_id, "welcome")
        db.session.commit()
        return "done"

    login_as(agent)
    try:
        started = time.monotonic()
        response = client.post("/test-notify")
        elapsed = time.monotonic() - started
        assert response.status_code == 200 and elapsed < 1.0, elapsed
        assert not mail.sender_for(app).idle()  # the sender is talking to the silent server meanwhile
        db.session.rollback()
        (row,) = db.session.scalars(select(OutgoingMail)).all()
        assert row.sent_at is None
    finally:
        mail.sender_for(app).stop(timeout=10)
    db.session.rollback()
    row = db.session.scalars(select(OutgoingMail).execution_options(populate_existing=True)).one()
    assert row.status == "queued" and row.attempts == 1 and "timed out" in row.last_error.lower()


# --- the email address on the account -------------------------------------------------------------

def admin_client(make_user, login_as):
    return login_as(make_user(roles=("admin",), preferred_language="en"))


def form_data(user, **changes):
    data = {"name": user.name, "team": user.team, "hire_date": "", "star_level": str(user.star_level),
            "roles": sorted(user.roles), "mentor_employee_no": "", "preferred_language": "", "active": "y",
            "password": "", "star_reason": "", "email": ""}
    data.update(changes)
    return data


def test_an_admin_sets_and_clears_an_email(client, make_user, login_as):
    agent = make_user()
    admin = admin_client(make_user, login_as)
    response = admin.post(f"/admin/users/{agent.id}/edit", data=form_data(agent, email=" zhang@example.com "))
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, agent.id).email == "zhang@example.com"
    assert 'value="zhang@example.com"' in admin.get(f"/admin/users/{agent.id}/edit").get_data(as_text=True)
    admin.post(f"/admin/users/{agent.id}/edit", data=form_data(agent, email=""))
    db.session.expire_all()
    assert db.session.get(User, agent.id).email is None


@pytest.mark.parametrize("bad", ["not-an-email", "a@b", "two words@example.com", "x" * 250 + "@example.com"])
def test_a_bad_email_re_renders_with_a_message(client, make_user, login_as, bad):
    agent = make_user()
    admin = admin_client(make_user, login_as)
    response = admin.post(f"/admin/users/{agent.id}/edit", data=form_data(agent, email=bad))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'class="field has-error"' in html and ("Enter an email address" in html or "characters" in html)
    db.session.expire_all()
    assert db.session.get(User, agent.id).email is None


def test_a_new_account_with_an_email(client, make_user, login_as):
    admin = admin_client(make_user, login_as)
    response = admin.post("/admin/users/new", data={
        "employee_no": "E3001", "name": "周敏", "team": "热线一组", "star_level": "0", "roles": ["agent"],
        "preferred_language": "", "password": "password123", "email": "zhoumin@example.com"})
    assert response.status_code == 302
    assert db.session.scalar(select(User.email).where(User.employee_no == "E3001")) == "zhoumin@example.com"
