"""The customer evaluation import page: who may use it, what it reports, the templates."""
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from lms.evaluations.services import COLUMNS
from lms.extensions import db
from lms.models import RecordEntry
from tests.conftest import assert_access

ROLE_USERS = {"agent": ("agent",), "mentor": ("mentor", "agent"), "trainer": ("trainer",), "admin": ("admin",)}


def upload(text: str, filename: str = "evaluations.csv") -> dict:
    return {"file": (io.BytesIO(text.encode("utf-8")), filename)}


def evaluation_count() -> int:
    return db.session.scalar(select(func.count()).select_from(RecordEntry).where(RecordEntry.kind == "evaluation"))


def routes():
    return [
        ("GET", "/evaluations/import", None),
        ("POST", "/evaluations/import", lambda: upload("employee_no,month,satisfaction\nE1,2026-10,92\n")),
        ("GET", "/evaluations/template.csv", None),
        ("GET", "/evaluations/template.xlsx", None),
    ]


@pytest.mark.parametrize("role", ["anonymous", "agent", "mentor", "trainer", "admin"])
@pytest.mark.parametrize("method, url, data", routes(), ids=[f"{m} {u}" for m, u, _d in routes()])
def test_only_trainers_and_admins_import_evaluations(client, make_user, login_as, frozen_now, role, method, url,
                                                     data):
    frozen_now()
    make_user(employee_no="E1")
    if role != "anonymous":
        login_as(make_user(roles=ROLE_USERS[role]))
    response = client.get(url) if method == "GET" else client.post(url, data=data(),
                                                                   content_type="multipart/form-data")
    assert_access(response, role, {"trainer", "admin"})
    assert evaluation_count() == (1 if method == "POST" and role in ("trainer", "admin") else 0)


@pytest.fixture
def trainer_client(make_user, login_as, frozen_now):
    frozen_now()
    return login_as(make_user(roles=("trainer",), preferred_language="en"))


def test_errors_are_listed_by_row_and_nothing_is_imported(trainer_client, make_user):
    make_user(employee_no="E1")
    response = trainer_client.post("/evaluations/import", content_type="multipart/form-data", data=upload(
        "employee_no,month,satisfaction\nE1,2026-10,92\nE9,2026-10,92\nE1,2026-10,93\nE1,2099-01,101\n"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Nothing was imported" in html
    assert "Row 3: employee_no E9: no such account." in html
    assert "Row 4: E1 already has month 2026-10 on row 2." in html
    assert "Row 5: month 2099-01 is in the future." in html
    assert "Row 5: satisfaction 101: use a percentage from 0 to 100" in html
    assert evaluation_count() == 0


def test_the_result_page_counts_created_corrected_and_unchanged(trainer_client, make_user):
    make_user(employee_no="E1")
    make_user(employee_no="E2")
    first = trainer_client.post("/evaluations/import", content_type="multipart/form-data", data=upload(
        "employee_no,month,satisfaction\nE1,2026-10,92\nE2,2026-10,85\n"))
    assert "New evaluations: 2, corrected: 0, unchanged: 0." in first.get_data(as_text=True)
    second = trainer_client.post("/evaluations/import", content_type="multipart/form-data", data=upload(
        "employee_no,month,satisfaction\nE1,2026-10,92\nE2,2026-10,87\nE2,2026-09,90\n"))
    html = second.get_data(as_text=True)
    assert "New evaluations: 1, corrected: 1, unchanged: 1." in html
    assert re.search(r"Corrected .*E2 2026-10", html, re.S)
    assert evaluation_count() == 4


@pytest.mark.parametrize("filename, body, message", [
    ("e.txt", "employee_no,month,satisfaction\n", "Use a .csv or .xlsx file"),
    ("e.csv", "", "The file is empty"),
    ("e.xlsx", "not a workbook", "cannot be read as an Excel workbook"),
])
def test_an_unreadable_file_says_why(trainer_client, filename, body, message):
    response = trainer_client.post("/evaluations/import", content_type="multipart/form-data",
                                   data=upload(body, filename))
    assert response.status_code == 200 and message in response.get_data(as_text=True)


def test_templates_download_with_their_columns(trainer_client):
    csv = trainer_client.get("/evaluations/template.csv")
    assert csv.mimetype == "text/csv" and "evaluations-template.csv" in csv.headers["Content-Disposition"]
    assert csv.data.decode("utf-8-sig").strip() == ",".join(COLUMNS)
    xlsx = trainer_client.get("/evaluations/template.xlsx")
    workbook = load_workbook(io.BytesIO(xlsx.data))
    assert list(workbook.worksheets[0].iter_rows(values_only=True)) == [tuple(COLUMNS)]
    assert "说明 Instructions" in workbook.sheetnames
    assert trainer_client.get("/evaluations/template.pdf").status_code == 404


def test_the_page_links_the_templates_and_states_the_pass_line(trainer_client):
    html = trainer_client.get("/evaluations/import").get_data(as_text=True)
    assert "/evaluations/template.xlsx" in html and "/evaluations/template.csv" in html
    assert "a satisfaction of 90% or more passes" in html


class TestCsrf:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_an_import_without_the_page_token_is_refused(self, client, make_user, login_as):
        trainer = make_user(roles=("trainer",))
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        assert client.post("/login", data={"employee_no": trainer.employee_no, "password": "password123",
                                           "csrf_token": token}).status_code == 302
        # logged in, a post that carries no token (from no page of this site) is refused
        response = client.post("/evaluations/import", content_type="multipart/form-data",
                               data=upload("employee_no,month,satisfaction\n"))
        assert response.status_code == 400
