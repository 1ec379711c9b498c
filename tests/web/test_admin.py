import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import event, func, select

from lms.admin.services import find_by_employee_no
from lms.admin.staff_import import IMPORT_COLUMNS
from lms.extensions import db
from lms.models import User

ROLE_USERS = {"agent": ("agent",), "mentor": ("mentor", "agent"), "trainer": ("trainer",), "admin": ("admin",)}


def user_count() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def upload(text: str, filename: str = "staff.csv") -> dict:
    return {"file": (io.BytesIO(text.encode("utf-8")), filename)}


def account_form(**changes) -> dict:
    data = {"employee_no": "E3001", "name": "周婷", "team": "热线三组", "hire_date": "2026-02-01",
            "star_level": "1", "roles": ["agent"], "mentor_employee_no": "", "preferred_language": "",
            "active": "y", "password": "first-password"}
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture
def admin(make_user):
    # English pages, so the assertions can read the English source strings.
    return make_user(roles=("admin",), employee_no="A0001", name="王敏", preferred_language="en")


@pytest.fixture
def admin_client(admin, login_as):
    return login_as(admin)


# --- Permissions: every route x every role --------------------------------------------------------

def _routes():
    """(method, url with {id} for the target user, form data an admin would send, admin's status)."""
    return [
        ("GET", "/admin/users", None, 200),
        ("GET", "/admin/users?q=E&page=2", None, 200),
        ("GET", "/admin/users/new", None, 200),
        ("POST", "/admin/users/new", lambda: account_form(), 302),
        ("GET", "/admin/users/{id}/edit", None, 200),
        ("POST", "/admin/users/{id}/edit", lambda: account_form(employee_no=None, password=""), 302),
        ("POST", "/admin/users/{id}/active", lambda: {"active": "0", "confirm": "yes"}, 302),
        ("GET", "/admin/users/import", None, 200),
        ("POST", "/admin/users/import", lambda: upload("employee_no,name\nE3999,新人\n"), 200),
        ("GET", "/admin/users/import/template.csv", None, 200),
        ("GET", "/admin/users/import/template.xlsx", None, 200),
    ]


@pytest.mark.parametrize("role", ["anonymous", "agent", "mentor", "trainer", "admin"])
@pytest.mark.parametrize("method, url, data, admin_status", _routes(),
                         ids=[f"{method} {url}" for method, url, _data, _status in _routes()])
def test_only_admins_may_use_staff_administration(app, client, make_user, login_as, role, method, url, data,
                                                  admin_status):
    target = make_user(employee_no="T0001")
    if role != "anonymous":
        login_as(make_user(roles=ROLE_USERS[role]))
    url = url.format(id=target.id)
    if method == "GET":
        response = client.get(url)
    else:
        response = client.post(url, data=data(), content_type="multipart/form-data")

    if role == "anonymous":
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")
    elif role != "admin":
        assert response.status_code == 403
    else:
        assert response.status_code == admin_status
    if method == "POST" and role != "admin":
        assert find_by_employee_no("E3001") is None and find_by_employee_no("E3999") is None
        db.session.expire_all()
        assert db.session.get(User, target.id).active


def test_unknown_user_ids_are_404(admin_client):
    assert admin_client.get("/admin/users/99999/edit").status_code == 404
    assert admin_client.post("/admin/users/99999/edit", data=account_form()).status_code == 404
    assert admin_client.post("/admin/users/99999/active", data={"active": "0"}).status_code == 404


# --- Listing and search ---------------------------------------------------------------------------

def listed(client, url) -> list[str]:
    """The employee numbers in the staff table, in order."""
    response = client.get(url)
    assert response.status_code == 200
    return re.findall(r'/edit">([^<]+)</a></td>', response.get_data(as_text=True))


def test_admin_lists_and_searches_users(admin_client, make_user):
    mentor = make_user(roles=("mentor",), employee_no="M0001", name="陈刚", team="热线一组")
    make_user(employee_no="E1001", name="张晓", team="热线一组", mentor=mentor, star_level=2)
    make_user(employee_no="E1002", name="刘洋", team="热线二组")
    make_user(employee_no="X_1", name="下划线", team="质检组", active=False)

    assert listed(admin_client, "/admin/users") == ["A0001", "E1001", "E1002", "M0001", "X_1"]
    page = admin_client.get("/admin/users").get_data(as_text=True)
    assert "陈刚 (M0001)" in page  # the mentor column
    assert '<td class="inactive"><a class="row-title" href="/admin/users/' in page  # the deactivated account is marked
    assert page.count('class="inactive"') == 2  # its number and name, nobody else's

    assert listed(admin_client, "/admin/users?q=二组") == ["E1002"]
    assert listed(admin_client, "/admin/users?q=e100") == ["E1001", "E1002"]  # any case
    assert listed(admin_client, "/admin/users?q=张") == ["E1001"]
    assert listed(admin_client, "/admin/users?q=_") == ["X_1"]  # a literal, not a LIKE wildcard
    assert listed(admin_client, "/admin/users?q=nobody") == []


def test_user_list_is_paginated(app, admin_client, make_user):
    app.config["USERS_PER_PAGE"] = 2
    for number in range(1, 5):
        make_user(employee_no=f"E00{number}")  # with A0001 that sorts A0001, E001 | E002, E003 | E004
    assert listed(admin_client, "/admin/users") == ["A0001", "E001"]
    assert listed(admin_client, "/admin/users?page=2") == ["E002", "E003"]
    assert listed(admin_client, "/admin/users?page=3") == ["E004"]
    second = admin_client.get("/admin/users?page=2").get_data(as_text=True)
    assert "page=3" in second and "page=1" in second  # links to the next and previous pages


def _queries_for(client, url) -> int:
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return len(statements)


def test_user_list_runs_the_same_number_of_queries_whatever_the_number_of_users(admin_client, make_user):
    mentor = make_user(roles=("mentor",))
    make_user(mentor=mentor)
    few = _queries_for(admin_client, "/admin/users")
    for _number in range(20):
        make_user(mentor=mentor, roles=("agent", "mentor"))
    assert _queries_for(admin_client, "/admin/users") == few


# --- Create and edit ------------------------------------------------------------------------------

def test_admin_creates_an_account_that_can_log_in(app, admin_client, make_user):
    make_user(roles=("mentor",), employee_no="M0001", star_level=4)
    response = admin_client.post("/admin/users/new", data=account_form(
        roles=["agent", "mentor"], mentor_employee_no="M0001", preferred_language="en"))
    assert response.status_code == 302
    user = find_by_employee_no("E3001")
    assert user.name == "周婷" and user.team == "热线三组" and user.star_level == 1
    assert user.roles == {"agent", "mentor"}
    assert user.mentor.employee_no == "M0001"
    assert user.preferred_language == "en"
    fresh = app.test_client()
    assert fresh.post("/login", data={"employee_no": "E3001", "password": "first-password"}).status_code == 302


@pytest.mark.parametrize("changes, message", [
    ({"name": ""}, "This field is required"),
    ({"password": ""}, "This field is required"),
    ({"password": "short"}, "Use 8 to 200 characters"),
    ({"employee_no": "bad number!"}, "letters, digits"),
    ({"roles": None}, "Choose at least one role"),
    ({"star_level": "9"}, "Not a valid choice"),
    ({"hire_date": "01/02/2026"}, "Not a valid date"),
    ({"mentor_employee_no": "NOBODY"}, "Mentor NOBODY does not exist"),
    ({"mentor_employee_no": "E3001"}, "own mentor"),
    ({"employee_no": "A0001"}, "A0001 is taken"),
])
def test_bad_new_account_form_is_shown_again_with_the_problem(admin_client, changes, message):
    before = user_count()
    response = admin_client.post("/admin/users/new", data=account_form(**changes))
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert user_count() == before


def test_admin_edits_roles_and_details_and_a_blank_password_keeps_the_old_one(admin_client, make_user):
    user = make_user(roles=("agent",), employee_no="E1001", password="old-password")
    make_user(roles=("mentor",), employee_no="M0001", star_level=4)
    page = admin_client.get(f"/admin/users/{user.id}/edit").get_data(as_text=True)
    assert "E1001" in page and user.name in page

    response = admin_client.post(f"/admin/users/{user.id}/edit", data=account_form(
        employee_no="CHANGED", name="新名字", star_level="3", roles=["mentor", "trainer"],
        mentor_employee_no="M0001", password=""))
    assert response.status_code == 302
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert user.employee_no == "E1001"  # not editable
    assert (user.name, user.star_level, user.roles) == ("新名字", 3, {"mentor", "trainer"})
    assert user.mentor.employee_no == "M0001"
    assert user.check_password("old-password")

    admin_client.post(f"/admin/users/{user.id}/edit", data=account_form(password="brand-new-pw", star_level="3"))
    db.session.expire_all()
    assert db.session.get(User, user.id).check_password("brand-new-pw")


def test_a_star_change_by_hand_is_in_the_history_and_a_demotion_needs_a_reason(admin_client, make_user):
    from lms.models import AuditEvent, StarChange

    user = make_user(roles=("agent",), star_level=2, employee_no="E1001")
    response = admin_client.post(f"/admin/users/{user.id}/edit", data=account_form(star_level="1", password=""),
                                 headers={"Accept-Language": "en"})
    assert response.status_code == 200 and "Say why the star level is lowered." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).star_level == 2 and db.session.scalar(select(StarChange.id)) is None

    admin_client.post(f"/admin/users/{user.id}/edit",
                      data=account_form(star_level="1", password="", star_reason="连续两月质检不合格"))
    admin_client.post(f"/admin/users/{user.id}/edit", data=account_form(star_level="2", password=""))
    changes = [(c.kind, c.from_level, c.to_level, c.reason, c.changed_by.employee_no)
               for c in db.session.scalars(select(StarChange).order_by(StarChange.id))]
    assert [c[:4] for c in changes] == [("demotion", 2, 1, "连续两月质检不合格"), ("edit", 1, 2, "")]
    assert {a.action for a in db.session.scalars(select(AuditEvent))} == {"star.demotion", "star.edit",
                                                                          "account.updated"}


def test_a_mentor_needs_the_role_and_a_higher_star_level(admin_client, make_user):
    user = make_user(roles=("agent",), star_level=2, employee_no="E1001")
    make_user(roles=("agent",), star_level=4, employee_no="A0009")
    make_user(roles=("mentor",), star_level=2, employee_no="M0002")
    for mentor_no, message in (("A0009", "must hold the mentor role"), ("M0002", "higher star level")):
        response = admin_client.post(f"/admin/users/{user.id}/edit", headers={"Accept-Language": "en"},
                                     data=account_form(star_level="2", password="", mentor_employee_no=mentor_no))
        assert response.status_code == 200 and message in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).mentor_id is None


def test_bad_edit_is_shown_again_and_changes_nothing(admin_client, make_user):
    user = make_user(employee_no="E1001", name="原名")
    response = admin_client.post(f"/admin/users/{user.id}/edit", data=account_form(
        name="新名字", mentor_employee_no="E1001", password=""))
    assert response.status_code == 200
    assert "own mentor" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).name == "原名"


def test_admin_cannot_lock_themself_out_through_the_edit_form(admin, admin_client):
    no_admin = admin_client.post(f"/admin/users/{admin.id}/edit", data=account_form(roles=["agent"], password=""))
    assert no_admin.status_code == 200
    assert "your own admin role" in no_admin.get_data(as_text=True)
    inactive = admin_client.post(f"/admin/users/{admin.id}/edit",
                                 data=account_form(roles=["admin"], active=None, password=""))
    assert inactive.status_code == 200
    assert "deactivate your own account" in inactive.get_data(as_text=True)
    db.session.expire_all()
    admin = db.session.get(User, admin.id)
    assert admin.active and admin.roles == {"admin"}


# --- Activate and deactivate ----------------------------------------------------------------------

def test_deactivated_user_can_no_longer_log_in_and_is_logged_out(app, admin_client, make_user):
    agent = make_user(employee_no="E1001")
    agent_client = app.test_client()
    assert agent_client.post("/login", data={"employee_no": "E1001", "password": "password123"}).status_code == 302

    response = admin_client.post(f"/admin/users/{agent.id}/active", data={"active": "0", "confirm": "yes", "next": "/admin/users?q=E"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/users?q=E"
    db.session.expire_all()
    assert not db.session.get(User, agent.id).active
    assert agent_client.get("/").status_code == 302  # the open session ended
    assert app.test_client().post("/login", data={"employee_no": "E1001", "password": "password123"}).status_code == 200

    admin_client.post(f"/admin/users/{agent.id}/active", data={"active": "1"})
    assert app.test_client().post("/login", data={"employee_no": "E1001", "password": "password123"}).status_code == 302


def test_admin_cannot_deactivate_themself(admin, admin_client):
    response = admin_client.post(f"/admin/users/{admin.id}/active", data={"active": "0", "confirm": "yes"}, follow_redirects=True)
    assert response.status_code == 200
    assert "cannot deactivate your own account" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, admin.id).active


def test_set_active_refuses_other_values_and_foreign_next_urls(admin_client, make_user):
    agent = make_user()
    assert admin_client.post(f"/admin/users/{agent.id}/active", data={"active": "maybe"}).status_code == 400
    response = admin_client.post(f"/admin/users/{agent.id}/active", data={"active": "0", "confirm": "yes", "next": "https://evil.example/"})
    assert response.headers["Location"] == "/admin/users"


# --- Import ---------------------------------------------------------------------------------------

def test_import_with_errors_lists_every_row_and_imports_nothing(admin_client):
    before = user_count()
    response = admin_client.post("/admin/users/import", content_type="multipart/form-data", data=upload(
        "employee_no,name,star_level\nE1,甲,1\n,乙,2\nE3,丙,9\n"))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Nothing was imported" in html
    assert "Row 3: employee_no is required." in html
    assert "Row 4: star_level 9" in html
    assert user_count() == before


def test_import_success_shows_counts_and_activation_codes_once(app, admin_client, make_user):
    # Changed with issue 8: new accounts get one-time activation codes, not temporary passwords.
    make_user(employee_no="E1", name="旧名")
    response = admin_client.post("/admin/users/import", content_type="multipart/form-data", data=upload(
        "employee_no,name,roles\nE1,新名,\nE2,新人,agent\n"))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert "1 accounts created, 1 updated." in html
    db.session.expire_all()
    assert find_by_employee_no("E1").name == "新名"
    code = re.search(r"<td>E2</td><td>新人</td><td><code>([0-9A-Z-]{14})</code>", html).group(1)
    visitor = app.test_client()
    assert visitor.post("/activate", data={"employee_no": "E2", "code": code, "password": "chosen-pw-1",
                                           "confirm": "chosen-pw-1"}).status_code == 302
    assert visitor.post("/login", data={"employee_no": "E2", "password": "chosen-pw-1"}).status_code == 302
    assert code not in admin_client.get("/admin/users/import").get_data(as_text=True)


@pytest.mark.parametrize("filename, body, message", [
    ("staff.txt", "employee_no,name\n", "Use a .csv or .xlsx file"),
    ("staff.csv", "", "The file is empty"),
    ("staff.xlsx", "not a workbook", "cannot be read as an Excel workbook"),
])
def test_import_of_an_unreadable_file_says_why(admin_client, filename, body, message):
    response = admin_client.post("/admin/users/import", content_type="multipart/form-data",
                                 data=upload(body, filename))
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)


def test_import_without_a_file_asks_for_one(admin_client):
    response = admin_client.post("/admin/users/import", content_type="multipart/form-data", data={})
    assert response.status_code == 200
    assert "Choose a file" in response.get_data(as_text=True)


def test_csv_template_download(admin_client):
    response = admin_client.get("/admin/users/import/template.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "staff-template.csv" in response.headers["Content-Disposition"]
    assert response.data.decode("utf-8-sig").strip() == ",".join(IMPORT_COLUMNS)


def test_xlsx_template_download(admin_client):
    response = admin_client.get("/admin/users/import/template.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "staff-template.xlsx" in response.headers["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.data))
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    assert rows == [tuple(IMPORT_COLUMNS)]
    assert "说明 Instructions" in workbook.sheetnames


def test_unknown_template_format_is_404(admin_client):
    assert admin_client.get("/admin/users/import/template.pdf").status_code == 404


def test_deactivating_asks_first_and_changes_nothing_until_confirmed(admin_client, make_user):
    agent = make_user(name="待停用")
    page = admin_client.post(f"/admin/users/{agent.id}/active", data={"active": "0", "next": "/admin/users?q=E"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="confirm" value="yes"' in html and 'href="/admin/users?q=E"' in html  # "No" goes back
    db.session.refresh(agent)
    assert agent.active  # nothing happened yet
    done = admin_client.post(f"/admin/users/{agent.id}/active", data={"active": "0", "confirm": "yes"})
    assert done.status_code == 302
    db.session.refresh(agent)
    assert not agent.active
    # reactivating needs no second step
    assert admin_client.post(f"/admin/users/{agent.id}/active", data={"active": "1"}).status_code == 302
    db.session.refresh(agent)
    assert agent.active
