"""Exam and item analysis pages: who may see them, what they show, bad input, exports."""
from __future__ import annotations

import re
from io import BytesIO

import pytest
from openpyxl import load_workbook

from lms.reports import items
from tests.conftest import assert_access
from tests.exam_support import make_bank, make_exam
from tests.unit.test_item_analysis import MATRIX, make_agents, seed_attempts

ROUTES = ["/reports/exams/", "/reports/exams/ia-exam", "/reports/exams/ia-exam?sort=facility",
          "/reports/exams/export.csv?exam=ia-exam", "/reports/exams/export.xlsx?table=exam-summary"]


@pytest.fixture
def guttman(app, frozen_now):
    frozen_now()
    bank = make_bank("ia", per_type=3, types=("truefalse",))
    exam = make_exam([(bank, 3)], slug="ia-exam", shuffle_questions=False)
    questions = list(bank.questions)
    seed_attempts(exam, make_agents(4), [[(q, float(s)) for q, s in zip(questions, row)] for row in MATRIX])
    return exam, questions


@pytest.mark.parametrize("path", ROUTES)
@pytest.mark.parametrize("role", ["anonymous", "agent", "mentor", "trainer", "admin"])
def test_permission_matrix(client, make_user, login_as, guttman, role, path):
    if role != "anonymous":
        roles = ("agent", "mentor") if role == "mentor" else (role,)
        login_as(make_user(roles=roles))
    assert_access(client.get(path), role, {"trainer", "admin"})


@pytest.fixture
def trainer(client, make_user, login_as):
    user = make_user(roles=("trainer",), preferred_language="en")  # the English msgids, whatever is translated
    login_as(user)
    return user


def test_list_shows_counts_mean_alpha_and_flags(client, guttman, trainer):
    html = client.get("/reports/exams/").get_data(as_text=True)
    row = re.search(r'<tr>\s*<td><a href="/reports/exams/ia-exam[^"]*">.*?</tr>', html, re.S).group(0)
    cells = re.findall(r'<td class="(?:int|percent|number)">(.*?)</td>', row, re.S)
    assert [re.sub(r"<[^>]+>", "", c).strip() for c in cells] == ["4", "50%", "75", "0"]
    assert "export.xlsx" in html


def test_exam_page_summary_chart_items_and_glossary(client, guttman, trainer):
    exam, questions = guttman
    html = client.get("/reports/exams/ia-exam?period=2026-11").get_data(as_text=True)
    assert 'data-chart="' in html and "echarts.min.js" in html
    assert "<dd>43</dd>" in html and "<dd>75</dd>" in html  # sd and alpha
    rows = re.findall(r'<tr id="item-\d+".*?</tr>', html, re.S)
    assert len(rows) == 3
    facilities = [re.search(r'<td class="percent">(.*?)</td>', r, re.S).group(1).strip() for r in rows]
    assert facilities == ["75%", "50%", "25%"]
    assert "Discrimination index" in html and "rest of the exam" in html


def test_items_sort_by_column(client, guttman, trainer):
    html = client.get("/reports/exams/ia-exam?sort=facility").get_data(as_text=True)
    rows = re.findall(r'<tr id="item-\d+".*?</tr>', html, re.S)
    facilities = [re.search(r'<td class="percent">(.*?)</td>', r, re.S).group(1).strip() for r in rows]
    assert facilities == ["25%", "50%", "75%"]
    assert 'aria-sort="ascending"' in html
    # An unknown sort keeps the slot order instead of failing.
    assert client.get("/reports/exams/ia-exam?sort=__class__").status_code == 200


def test_flagged_question_opens_in_the_bank_editor(client, trainer, app):
    bank = make_bank("fl", per_type=1, types=("single",))
    exam = make_exam([(bank, 1)], slug="fl-exam")
    (question,) = bank.questions
    right = question.current.data["options"][0]["id"]
    agents = make_agents(items.MIN_TAKERS, "FL")
    seed_attempts(exam, agents, [[(question, 1.0)]] * items.MIN_TAKERS, responses=[[right]] * items.MIN_TAKERS)
    html = client.get("/reports/exams/fl-exam").get_data(as_text=True)
    assert "Too easy (facility above 95%)" in html and "A distractor nobody picks" in html
    link = f"/banks/fl/questions/{question.key}/edit"
    assert f'href="{link}"' in html
    assert client.get(link).status_code == 200
    assert "unused-distractor" in html  # the option table marks it
    listing = client.get("/reports/exams/").get_data(as_text=True)
    assert '<span class="badge fail">1</span>' in listing


def test_one_attempt_shows_dashes(client, trainer, app):
    bank = make_bank("one", per_type=2, types=("truefalse",))
    exam = make_exam([(bank, 2)], slug="one-exam")
    seed_attempts(exam, make_agents(1, "ONE"), [[(q, 1.0) for q in bank.questions]])
    html = client.get("/reports/exams/one-exam").get_data(as_text=True)
    assert "No alpha: fewer than two first attempts." in html
    assert html.count("—</span>") >= 4  # sd, alpha, and per item sd and discrimination


def test_no_attempts_and_unknown_exam(client, trainer, app):
    make_exam([(make_bank("em", per_type=1, types=("truefalse",)), 1)], slug="em-exam")
    html = client.get("/reports/exams/em-exam").get_data(as_text=True)
    assert "No graded first attempt in this period." in html
    assert client.get("/reports/exams/nope").status_code == 404
    assert client.get("/reports/exams/export.csv?exam=nope").status_code == 404
    assert client.get("/reports/exams/export.pdf").status_code == 404
    assert client.get("/reports/exams/export.csv?table=nope").status_code == 404


@pytest.mark.parametrize("bad", ["2026-13", "yesterday", "2026-06..2026-01", "x" * 30])
def test_bad_period_is_explained_not_a_500(client, guttman, trainer, bad):
    for path in ("/reports/exams/", "/reports/exams/ia-exam"):
        response = client.get(path, query_string={"period": bad})
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert 'class="error"' in html
    assert client.get("/reports/exams/export.csv", query_string={"period": bad}).status_code == 200


def test_period_excludes_other_months(client, guttman, trainer):
    html = client.get("/reports/exams/ia-exam?period=2026-10").get_data(as_text=True)
    assert "No graded first attempt in this period." in html


def test_exports_cell_by_cell(client, guttman, trainer):
    exam, questions = guttman
    response = client.get("/reports/exams/export.csv?exam=ia-exam&period=2026-11")
    assert response.status_code == 200
    assert 'attachment; filename=ia-exam-exam-items.csv' in response.headers["Content-Disposition"]
    lines = response.get_data().decode("utf-8-sig").splitlines()
    assert len(lines) == 4
    assert [line.split(",")[8] for line in lines[1:]] == ["75.0", "50.0", "25.0"]
    assert [line.split(",")[10] for line in lines[1:]] == ["52.2", "70.7", "52.2"]

    response = client.get("/reports/exams/export.xlsx?exam=ia-exam&period=2026-11&table=exam-distribution")
    assert response.status_code == 200 and "spreadsheetml" in response.mimetype
    rows = [[c.value for c in row] for row in load_workbook(BytesIO(response.get_data())).active.iter_rows()]
    assert rows[0] == ["Score", "First attempts"]
    assert rows[1:] == [["0–10", 1], ["10–20", 0], ["20–30", 0], ["30–40", 1], ["40–50", 0], ["50–60", 0],
                        ["60–70", 1], ["70–80", 0], ["80–90", 0], ["90–100", 1]]


def test_list_page_queries_do_not_grow(client, trainer, app):
    from tests.conftest import count_queries

    bank = make_bank("bq", per_type=3, types=("truefalse",))
    exam = make_exam([(bank, 3)], slug="bq-exam")
    questions = list(bank.questions)
    agents = make_agents(1000, "BQ")
    rows = [[(q, float((n * 7 + i) % 3 > 0)) for i, q in enumerate(questions)] for n in range(1000)]
    seed_attempts(exam, agents[:10], rows[:10])
    small = [count_queries(lambda p=path: client.get(p)) for path in ("/reports/exams/", "/reports/exams/bq-exam")]
    seed_attempts(exam, agents[10:], rows[10:])
    large = [count_queries(lambda p=path: client.get(p)) for path in ("/reports/exams/", "/reports/exams/bq-exam")]
    assert small == large
    assert "1000" in client.get("/reports/exams/").get_data(as_text=True)
