"""Trainers' question banks in the browser: permissions, authoring, search, upload with preview and
confirmation, templates and exports, and a bank page whose query count does not grow with the bank."""
import io
import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask import g
from openpyxl import load_workbook
from sqlalchemy import event, func, select

from lms.banks.services import import_file
from lms.content.banks import parse_bank
from lms.content.gift import parse_gift
from lms.extensions import db
from lms.models import Question, QuestionBank, QuestionVersion
from lms.models.uploads import StagedUpload

ROLE_USERS = {"agent": ("agent",), "mentor": ("mentor", "agent"), "trainer": ("trainer",), "admin": ("admin",)}

BANK = """\
slug: complaints
title: 投诉处理题库
questions:
  - id: ch-001
    type: single
    tags: [流程, 首问负责]
    stem: 客户第三次来电，坐席首先应该做什么？
    options:
      - {text: 道歉并复述问题, correct: true, feedback: 先确认问题。}
      - {text: 直接转接}
  - id: ch-002
    type: multi
    tags: [流程]
    stem: 处理投诉时哪些做法正确？
    options:
      - {text: 记录诉求, weight: 60}
      - {text: 按时回访, weight: 40}
      - {text: 超权限承诺, weight: -100}
  - id: ch-003
    type: truefalse
    tags: [礼仪]
    stem: 可以挂断。
    answer: false
"""


@pytest.fixture
def app_config(tmp_path):
    return {"LMS_BANKS_DIR": str(tmp_path / "question_banks")}


@pytest.fixture(autouse=True)
def fresh_globals_per_request(app):
    """Each served request gets a fresh `g`; so do these (see tests/web/test_admin.py)."""
    @app.teardown_request
    def forget_request_globals(_error):
        for name in list(g):
            g.pop(name)


@pytest.fixture
def trainer(make_user):
    return make_user(roles=("trainer",), employee_no="T0001", preferred_language="en")


@pytest.fixture
def trainer_client(trainer, login_as):
    return login_as(trainer)


@pytest.fixture
def bank(app):
    import_file(BANK.encode(), "complaints.yaml")
    return db.session.scalar(select(QuestionBank).where(QuestionBank.slug == "complaints"))


def question(key: str) -> Question:
    db.session.expire_all()
    return db.session.scalar(select(Question).where(Question.key == key))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def upload(text: str | bytes, filename: str, **fields) -> dict:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return {"file": (io.BytesIO(data), filename), **fields}


def page(response) -> str:
    return response.get_data(as_text=True)


# --- Permissions: every route x every role ------------------------------------------------------------

def _routes():
    """(method, url, form data, status for trainers and admins)."""
    single = {"stem": "新题", "right": "0", "options-0-text": "对", "options-1-text": "错"}
    return [
        ("GET", "/banks/", None, 200),
        ("GET", "/banks/new", None, 200),
        ("POST", "/banks/new", lambda: {"slug": "fresh-bank", "title": "新题库"}, 302),
        ("GET", "/banks/complaints", None, 200),
        ("GET", "/banks/complaints?q=客户&tag=流程&type=single&status=all&page=1", None, 200),
        ("GET", "/banks/complaints/questions/new", None, 200),
        ("GET", "/banks/complaints/questions/new?type=matching", None, 200),
        ("POST", "/banks/complaints/questions/new?type=single", lambda: {**single, "key": "ch-100", "save": "1"}, 302),
        ("GET", "/banks/complaints/questions/ch-001/edit", None, 200),
        ("POST", "/banks/complaints/questions/ch-003/edit", lambda: {"stem": "改了", "answer": "true", "save": "1"},
         302),
        ("POST", "/banks/complaints/questions/ch-001/retire", lambda: {}, 302),
        ("POST", "/banks/complaints/questions/ch-001/restore", lambda: {}, 302),
        ("GET", "/banks/complaints/export.gift", None, 200),
        ("GET", "/banks/complaints/export.yaml", None, 200),
        ("GET", "/banks/import", None, 200),
        ("POST", "/banks/import", lambda: upload("新题？{T}", "drill.gift"), 200),
        ("POST", "/banks/import/confirm", lambda: {"token": "x" * 43}, 302),
        ("GET", "/banks/import/template.xlsx", None, 200),
        ("GET", "/banks/import/template.csv", None, 200),
    ]


@pytest.mark.parametrize("role", ["anonymous", "agent", "mentor", "trainer", "admin"])
@pytest.mark.parametrize("method, url, data, status", _routes(), ids=[f"{m} {u}" for m, u, _d, _s in _routes()])
def test_only_trainers_and_admins_use_question_banks(client, bank, make_user, login_as, role, method, url, data,
                                                     status):
    if role != "anonymous":
        login_as(make_user(roles=ROLE_USERS[role]))
    if method == "GET":
        response = client.get(url)
    else:
        response = client.post(url, data=data(), content_type="multipart/form-data")
    if role == "anonymous":
        assert response.status_code == 302 and response.location.startswith("/login")
    elif role in ("agent", "mentor"):
        assert response.status_code == 403
    else:
        assert response.status_code == status, page(response)[:2000]
    if method == "POST" and role not in ("trainer", "admin"):
        assert count(QuestionBank) == 1 and question("ch-100") is None
        assert question("ch-003").version == 1 and question("ch-001").retired_at is None


def test_unknown_banks_and_questions_are_404(trainer_client, bank):
    for url in ("/banks/nothing", "/banks/nothing/questions/new", "/banks/complaints/questions/none/edit",
                "/banks/complaints/export.pdf", "/banks/import/template.pdf"):
        assert trainer_client.get(url).status_code == 404, url
    assert trainer_client.post("/banks/complaints/questions/none/retire").status_code == 404


def test_nav_shows_question_banks_to_trainers_only(app, bank, make_user, login_as, trainer_client):
    assert 'href="/banks/"' in page(trainer_client.get("/banks/"))
    agent_client = app.test_client()
    agent_client.post("/login", data={"employee_no": make_user().employee_no, "password": "password123"})
    assert 'href="/banks/"' not in page(agent_client.get("/"))


# --- Banks ----------------------------------------------------------------------------------------------

def test_trainer_creates_a_bank_and_sees_it_listed(trainer_client, bank):
    response = trainer_client.post("/banks/new", data={"slug": "phone-etiquette", "title": "电话礼仪题库",
                                                       "description": "礼仪"})
    assert response.status_code == 302 and response.location == "/banks/phone-etiquette"
    listing = page(trainer_client.get("/banks/"))
    assert "电话礼仪题库" in listing and "投诉处理题库" in listing
    assert re.search(r"投诉处理题库</a>.*?<span class=\"count\">3 questions</span>", listing, re.S)


@pytest.mark.parametrize("slug, message", [
    ("complaints", "already exists"), ("Bad Slug", "Use lowercase letters"), ("import", "is reserved")])
def test_bank_form_shows_problems(trainer_client, bank, slug, message):
    response = trainer_client.post("/banks/new", data={"slug": slug, "title": "x"})
    assert response.status_code == 200 and message in page(response)
    assert count(QuestionBank) == 1


# --- Questions: create, preview, edit, retire -------------------------------------------------------

def new_question(client, kind, **fields):
    return client.post(f"/banks/complaints/questions/new?type={kind}", data={"save": "1", **fields})


def test_new_question_form_suggests_the_next_id_in_the_banks_style(trainer_client, bank):
    form = page(trainer_client.get("/banks/complaints/questions/new?type=single"))
    assert 'value="c-001"' in form  # "complaints" -> c; its ids are ch-..., so c-001 is free
    import_file(b"// [id:c-004]\n::A::A?{T}", "x.gift", bank_slug="complaints")
    assert 'value="c-005"' in page(trainer_client.get("/banks/complaints/questions/new?type=single"))
    chooser = page(trainer_client.get("/banks/complaints/questions/new"))
    for label in ("Single choice", "Multiple choice", "True/false", "Fill in the blank", "Matching", "Essay"):
        assert label in chooser


@pytest.mark.parametrize("kind, fields, data", [
    ("single", {"right": "1", "options-0-text": "直接转接", "options-0-feedback": "不对",
                "options-1-text": "道歉并复述", "options-2-text": ""},
     {"options": [{"id": "o1", "text": "直接转接", "weight": 0.0, "feedback": "不对"},
                  {"id": "o2", "text": "道歉并复述", "weight": 1.0, "feedback": ""}]}),
    ("multi", {"options-0-text": "甲", "options-0-correct": "y", "options-1-text": "乙", "options-1-correct": "y",
               "options-2-text": "丙"},
     {"options": [{"id": "o1", "text": "甲", "weight": 0.5, "feedback": ""},
                  {"id": "o2", "text": "乙", "weight": 0.5, "feedback": ""},
                  {"id": "o3", "text": "丙", "weight": -1.0, "feedback": ""}]}),
    ("multi", {"options-0-text": "甲", "options-0-weight": "70", "options-1-text": "乙", "options-1-weight": "30%",
               "options-2-text": "丙", "options-2-weight": "-50"},
     {"options": [{"id": "o1", "text": "甲", "weight": 0.7, "feedback": ""},
                  {"id": "o2", "text": "乙", "weight": 0.3, "feedback": ""},
                  {"id": "o3", "text": "丙", "weight": -0.5, "feedback": ""}]}),
    ("truefalse", {"answer": "true"}, {"answer": True}),
    ("fill", {"answers": "24\n二十四\n\n"}, {"answers": ["24", "二十四"]}),
    ("fill", {"answers": "84.15", "tolerance": "0.5"}, {"answers": [84.15], "tolerance": 0.5}),
    ("matching", {"pairs-0-left": "一级", "pairs-0-right": "2 小时", "pairs-1-left": "二级", "pairs-1-right": "24 小时",
                  "distractors": "一周"},
     {"pairs": [{"id": "p1", "left": "一级", "right": "2 小时"}, {"id": "p2", "left": "二级", "right": "24 小时"}],
      "distractors": [{"id": "d1", "text": "一周"}]}),
    ("essay", {"guidance": "要点"}, {"guidance": "要点"}),
])
def test_trainer_creates_every_type(trainer_client, trainer, bank, kind, fields, data):
    response = new_question(trainer_client, kind, key="ch-100", stem="新的 **题目**", explanation="解析",
                            points="2", difficulty="3", tags="流程，新", **fields)
    assert response.status_code == 302, page(response)
    created = question("ch-100")
    assert (created.type, created.version, created.tags, created.difficulty) == (kind, 1, ["流程", "新"], 3)
    version = created.current
    assert version.data == data
    assert (version.points, version.stem_html, version.explanation_html) == (2.0, "<p>新的 <strong>题目</strong></p>",
                                                                             "<p>解析</p>")
    assert version.created_by_id == trainer.id


@pytest.mark.parametrize("kind, fields, message", [
    ("single", {"options-0-text": "a", "options-1-text": "b"}, "at least one option must be fully right"),
    ("single", {"right": "0", "options-0-text": "a"}, "at least two options"),
    ("multi", {"options-0-text": "a", "options-0-weight": "50", "options-1-text": "b", "options-1-weight": "20"},
     "the positive weights add up to 70%, not 100%"),
    ("multi", {"options-0-text": "a", "options-0-weight": "lots", "options-1-text": "b"}, "is a percent"),
    ("truefalse", {}, "the answer must be true or false"),
    ("fill", {"answers": ""}, "give at least one accepted answer"),
    ("fill", {"answers": "二十四", "tolerance": "0.5"}, "with a tolerance every answer must be a number"),
    ("matching", {"pairs-0-left": "a", "pairs-0-right": "b"}, "at least two pairs"),
    ("matching", {"pairs-0-left": "a", "pairs-1-left": "c", "pairs-1-right": "d"}, "pair 1 must be [item, match]"),
    ("essay", {"stem": ""}, "This field is required"),
    ("essay", {"points": "0"}, "the points must be a number above 0"),
    ("essay", {"key": "ch-001"}, "the id ch-001 is already used in this bank"),
    ("essay", {"key": "Bad Key"}, "Use lowercase letters, digits and single hyphens"),
])
def test_bad_question_is_shown_again_with_the_problem(trainer_client, bank, kind, fields, message):
    data = {"key": "ch-100", "stem": "题目", **fields}
    response = new_question(trainer_client, kind, **data)
    assert response.status_code == 200
    html = page(response)
    assert message in html and 'class="error"' in html
    if "stem" not in fields:
        assert "题目</textarea>" in html  # what the trainer typed is kept
    assert count(Question) == 3


def test_preview_renders_markdown_safely_and_saves_nothing(trainer_client, bank):
    response = trainer_client.post("/banks/complaints/questions/new?type=single", data={
        "preview": "1", "key": "ch-100", "stem": "客户说：**我要投诉**<script>alert(1)</script>",
        "explanation": "- 先安抚\n- 再确认", "right": "0", "options-0-text": "道歉", "options-1-text": "转接"})
    html = page(response)
    assert response.status_code == 200
    assert "<strong>我要投诉</strong>" in html and "<script>alert" not in html
    assert "<li>先安抚</li>" in html
    assert re.search(r'<li class="right">道歉\s*<span class="meta">100%</span>', html)
    assert "Not saved yet." in html
    assert count(Question) == 3


def test_preview_lists_problems_beside_the_rendered_text(trainer_client, bank):
    html = page(trainer_client.post("/banks/complaints/questions/new?type=single", data={
        "preview": "1", "stem": "**题**", "options-0-text": "a", "options-1-text": "b"}))
    assert "<strong>题</strong>" in html and "at least one option must be fully right" in html
    assert "Correct the problems marked below before saving." in html


def test_more_rows_adds_empty_options_without_complaining(trainer_client, bank):
    html = page(trainer_client.post("/banks/complaints/questions/new?type=multi", data={
        "more": "1", "stem": "题", "options-0-text": "甲", "options-3-text": "丁"}))
    assert 'name="options-5-text"' in html and 'name="options-6-text"' not in html
    assert 'value="甲"' in html and 'value="丁"' in html
    assert 'class="error"' not in html and count(Question) == 3


def test_edit_form_starts_from_the_current_version(trainer_client, bank):
    single = page(trainer_client.get("/banks/complaints/questions/ch-001/edit"))
    assert "Edit question ch-001" in single and "version 1" in single
    assert 'value="道歉并复述问题"' in single and 'value="先确认问题。"' in single
    assert re.search(r'name="right" value="0" checked', single)
    assert 'name="base_version" type="hidden" value="1"' in single
    multi = page(trainer_client.get("/banks/complaints/questions/ch-002/edit"))
    assert 'name="options-0-weight" type="text" value="60"' in multi
    assert 'name="options-2-weight" type="text" value="-100"' in multi


def test_saving_an_edit_makes_a_new_version_and_keeps_the_old(trainer_client, bank):
    response = trainer_client.post("/banks/complaints/questions/ch-003/edit", data={
        "save": "1", "base_version": "1", "stem": "可以先挂断再回拨。", "answer": "false", "tags": "礼仪"})
    assert response.status_code == 302
    assert "Question ch-003 saved (version 2)." in page(trainer_client.get(response.location))
    edited = question("ch-003")
    assert edited.version == 2 and edited.current.stem == "可以先挂断再回拨。"
    assert [v.stem for v in edited.versions] == ["可以挂断。", "可以先挂断再回拨。"]
    # Saving the same content again makes no version.
    trainer_client.post("/banks/complaints/questions/ch-003/edit", data={
        "save": "1", "base_version": "2", "stem": "可以先挂断再回拨。", "answer": "false", "tags": "礼仪"})
    assert question("ch-003").version == 2 and count(QuestionVersion) == 4


def test_an_edit_based_on_an_old_version_is_not_saved_over_a_newer_one(trainer_client, bank):
    import_file(BANK.replace("可以挂断。", "别人改过。").encode(), "complaints.yaml")  # version 2 by someone else
    response = trainer_client.post("/banks/complaints/questions/ch-003/edit", data={
        "save": "1", "base_version": "1", "stem": "我的修改", "answer": "true"})
    html = page(response)
    assert response.status_code == 200 and "Someone else saved this question meanwhile (now version 2)" in html
    assert 'name="base_version" type="hidden" value="2"' in html and "我的修改" in html
    assert question("ch-003").current.stem == "别人改过。"


def test_retire_and_restore(trainer_client, bank):
    response = trainer_client.post("/banks/complaints/questions/ch-002/retire?q=投诉&page=1")
    assert response.status_code == 302 and response.location == "/banks/complaints?q=%E6%8A%95%E8%AF%89&page=1"
    assert question("ch-002").retired_at is not None
    assert listed(trainer_client, "/banks/complaints") == ["ch-001", "ch-003"]
    assert listed(trainer_client, "/banks/complaints?status=retired") == ["ch-002"]
    assert "Restore" in page(trainer_client.get("/banks/complaints?status=retired"))
    assert "2 questions</span> (1 retired)" in page(trainer_client.get("/banks/"))
    trainer_client.post("/banks/complaints/questions/ch-002/restore")
    assert question("ch-002").retired_at is None


# --- The bank page: search, pagination, bounded queries -------------------------------------------------

def listed(client, url) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200
    return re.findall(r'class="question-key" href="[^"]+">([^<]+)</a>', page(response))


@pytest.mark.parametrize("query, keys", [
    ("", ["ch-001", "ch-002", "ch-003"]),
    ("?q=投诉", ["ch-002"]),
    ("?q=CH-003", ["ch-003"]),
    ("?q=%25", []),  # a literal %, not a wildcard
    ("?tag=流程", ["ch-001", "ch-002"]),
    ("?tag=首问负责", ["ch-001"]),
    ("?tag=流", []),  # whole tags only
    ("?type=truefalse", ["ch-003"]),
    ("?tag=流程&type=multi&q=做法", ["ch-002"]),
    ("?status=retired", []),
])
def test_search_by_text_tag_and_type(trainer_client, bank, query, keys):
    assert listed(trainer_client, f"/banks/complaints{query}") == keys


def test_bank_page_is_paginated_keeping_the_filters(app, trainer_client, bank):
    app.config["QUESTIONS_PER_PAGE"] = 2
    assert listed(trainer_client, "/banks/complaints") == ["ch-001", "ch-002"]
    assert listed(trainer_client, "/banks/complaints?page=2") == ["ch-003"]
    first = page(trainer_client.get("/banks/complaints"))
    assert "Page 1 of 2" in first and 'href="/banks/complaints?page=2"' in first
    app.config["QUESTIONS_PER_PAGE"] = 1
    filtered = page(trainer_client.get("/banks/complaints?tag=流程&status=all"))
    next_link = re.search(r'href="(/banks/complaints\?[^"]*page=2[^"]*)">Next', filtered).group(1)
    assert "tag=%E6%B5%81%E7%A8%8B" in next_link and "status=all" in next_link
    assert listed(trainer_client, next_link.replace("&amp;", "&")) == ["ch-002"]


def _queries(client, url) -> int:
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return len(statements)


def test_bank_pages_run_the_same_number_of_queries_whatever_the_bank_size(app, trainer_client, bank):
    app.config["QUESTIONS_PER_PAGE"] = 25
    urls = ("/banks/", "/banks/complaints", "/banks/complaints?tag=流程&q=客户", "/banks/complaints/questions/ch-001/edit")
    few = {url: _queries(trainer_client, url) for url in urls}
    many = "".join(f"::bulk-{n:03d}::客户问题 {n}{{=对 ~错}}\n\n// [tag:流程]\n::tag-{n:03d}::客户{{T}}\n\n"
                   for n in range(40))
    import_file(many.encode(), "bulk.gift", bank_slug="complaints")
    import_file(b"::x::A?{T}", "other.gift", bank_slug="other-bank")
    for version in range(3):  # more versions of a question change nothing either
        import_file(BANK.replace("可以挂断。", f"可以挂断 {version}。").encode(), "complaints.yaml")
    assert {url: _queries(trainer_client, url) for url in urls} == few


# --- Upload, preview, confirm -----------------------------------------------------------------------

GIFT = """\
// [id:ch-003] [tag:新]
[markdown]可以挂断。{FALSE#不行#对}

// [id:ch-010]
::回访时限::一级投诉 ____ 小时内回访。{=24 =%50%48 #快}

// [id:ch-011]
::配对::配对{=一级 -> 2 小时 =二级 -> 24 小时}
"""


def test_upload_shows_a_preview_and_imports_on_confirmation(app, trainer_client, bank):
    response = trainer_client.post("/banks/import", data=upload(GIFT, "drill.gift", bank="complaints"),
                                   content_type="multipart/form-data")
    html = page(response)
    assert response.status_code == 200
    assert "Into the existing bank 投诉处理题库 (complaints)." in html
    assert re.findall(r"<code>(ch-\d+)</code>", html) == ["ch-003", "ch-010", "ch-011"]
    assert re.findall(r'class="badge action-([a-z-]+)"', html) == ["updated", "new", "new"]
    assert "drill.gift, line 2: true/false feedback has no place here" in html  # warnings, with their line
    assert "drill.gift, line 5: feedback on a fill-in answer has no place here" in html
    assert count(Question) == 3  # nothing imported yet
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', html).group(1)
    staged = db.session.scalar(select(StagedUpload).where(StagedUpload.token == token))
    assert staged.data == GIFT.encode("utf-8") and staged.params["bank"] == "complaints"  # in the database
    assert not list(Path(app.instance_path).rglob(f"{token}*"))  # not on this app server's disk

    done = trainer_client.post("/banks/import/confirm", data={"token": token})
    assert done.status_code == 302 and done.location == "/banks/complaints"
    assert "Imported into complaints: 2 new questions, 0 new versions, 1 updated" in page(trainer_client.get(
        done.location))
    assert count(Question) == 5 and question("ch-003").tags == ["新"] and question("ch-003").version == 1
    again = trainer_client.post("/banks/import/confirm", data={"token": token})
    assert again.location == "/banks/import"  # the upload is used up
    assert count(Question) == 5


def test_a_token_is_only_good_for_the_trainer_who_uploaded(app, trainer_client, bank, make_user):
    html = page(trainer_client.post("/banks/import", data=upload(GIFT, "drill.gift", bank="complaints"),
                                    content_type="multipart/form-data"))
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', html).group(1)
    other = app.test_client()
    other.post("/login", data={"employee_no": make_user(roles=("trainer",)).employee_no, "password": "password123"})
    response = other.post("/banks/import/confirm", data={"token": token})
    assert response.location == "/banks/import" and count(Question) == 3
    for forged in ("../../secret_key", "short", ""):
        assert trainer_client.post("/banks/import/confirm", data={"token": forged}).status_code in (302, 400)


def test_upload_with_errors_lists_every_one_and_offers_no_import(trainer_client, bank):
    bad = "Good?{T}\n\nBad?{=a ~b\n\n::x:: Nothing right?{~a ~b}\n"
    html = page(trainer_client.post("/banks/import", data=upload(bad, "bad.gift", bank="complaints"),
                                    content_type="multipart/form-data"))
    assert "Nothing can be imported" in html
    assert "bad.gift, line 3: the &#39;{&#39; on line 3 is never closed" in html
    assert "bad.gift, line 5: the positive weights add up to 0%, not 100%" in html
    assert 'name="token"' not in html and count(Question) == 3


@pytest.mark.parametrize("filename, content, fmt, expected_keys", [
    ("drill.txt", "新题？\nA. 对\nB. 错\nANSWER: A\n", "", 1),
    ("drill.aiken", "新题？\nA. 对\nB. 错\nANSWER: A\n", "aiken", 1),
    ("drill.csv", "id,type,stem,correct\nx-1,truefalse,对吗？,true\n", "", 1),
    ("drill.yaml", "slug: drill\ntitle: 演练\nquestions:\n  - id: a\n    type: truefalse\n    stem: s\n    answer: true\n",
     "", 1),
])
def test_upload_accepts_every_format(trainer_client, filename, content, fmt, expected_keys):
    html = page(trainer_client.post("/banks/import", data=upload(content, filename, format=fmt),
                                    content_type="multipart/form-data"))
    assert "Into a new bank" in html and "(drill)" in html, html[:3000]
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', html).group(1)
    trainer_client.post("/banks/import/confirm", data={"token": token})
    created = db.session.scalar(select(QuestionBank).where(QuestionBank.slug == "drill"))
    assert created is not None and len(created.questions) == expected_keys


def test_upload_of_a_spreadsheet_names_bad_rows(trainer_client, bank):
    html = page(trainer_client.post("/banks/import", data=upload(
        "id,type,stem,correct\nx-1,truefalse,对吗？,true\nx-2,truefalse,错吗？,perhaps\n", "drill.csv",
        bank="complaints"), content_type="multipart/form-data"))
    assert "drill.csv, row 3: the right-answer mark (&#39;correct&#39;) must be true or false" in html
    assert 'name="token"' not in html


def test_upload_form_requires_a_file(trainer_client):
    html = page(trainer_client.post("/banks/import", data={"bank": "x"}, content_type="multipart/form-data"))
    assert "Choose a file." in html


# --- Templates and exports ----------------------------------------------------------------------------

def test_templates_download(trainer_client):
    xlsx = trainer_client.get("/banks/import/template.xlsx")
    assert xlsx.headers["Content-Disposition"].startswith("attachment; filename=question-bank-template.xlsx")
    workbook = load_workbook(io.BytesIO(xlsx.data))
    header = [cell.value for cell in workbook.worksheets[0][1]]
    assert header[:5] == ["id", "title", "type", "format", "stem"] and len(workbook.worksheets) == 2
    csv_file = trainer_client.get("/banks/import/template.csv")
    assert csv_file.data.decode("utf-8-sig").startswith("id,title,type,format,stem,option_a")


def test_exports_import_back_to_the_same_questions(trainer_client, bank):
    gift = trainer_client.get("/banks/complaints/export.gift")
    assert gift.headers["Content-Disposition"].startswith("attachment; filename=complaints.gift")
    native = trainer_client.get("/banks/complaints/export.yaml")
    original = parse_bank(BANK, "complaints.yaml").questions
    assert parse_gift(gift.data.decode("utf-8"), "complaints.gift").questions == original
    assert parse_bank(native.data.decode("utf-8"), "complaints.yaml").questions == original
    trainer_client.post("/banks/complaints/questions/ch-002/retire")
    exported = parse_gift(trainer_client.get("/banks/complaints/export.gift").data.decode("utf-8"), "x").questions
    assert [spec.key for spec in exported] == ["ch-001", "ch-003"]  # retired questions stay out


# --- Forms carry the CSRF token -----------------------------------------------------------------------

def test_every_post_form_carries_the_csrf_token(app, trainer_client, bank):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        pages = [trainer_client.get(url) for url in (
            "/banks/new", "/banks/complaints", "/banks/complaints/questions/new?type=single",
            "/banks/complaints/questions/ch-001/edit", "/banks/import")]
        for response in pages:
            for form in re.findall(r'<form method="post".*?</form>', page(response), re.S):
                assert 'name="csrf_token"' in form, form[:300]
        assert trainer_client.post("/banks/complaints/questions/ch-001/retire").status_code == 400
        assert trainer_client.post("/banks/import/confirm", data={"token": "x" * 43}).status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert question("ch-001").retired_at is None


@pytest.mark.parametrize("kind, field_name", [
    ("single", 'name="right"'), ("multi", 'name="options-0-correct"'), ("truefalse", 'name="answer"'),
    ("fill", 'name="tolerance"'), ("matching", 'name="pairs-2-right"'), ("essay", 'name="guidance"')])
def test_each_type_has_its_own_fields(trainer_client, bank, kind, field_name):
    html = page(trainer_client.get(f"/banks/complaints/questions/new?type={kind}"))
    assert field_name in html
    others = {'name="right"', 'name="options-0-correct"', 'name="answer"', 'name="tolerance"',
              'name="pairs-2-right"', 'name="guidance"'} - {field_name}
    assert not [other for other in others if other in html]


def test_stale_uploads_are_cleaned_up(app, trainer, trainer_client, bank, frozen_now):
    now = frozen_now()
    for token, age in (("o" * 43, timedelta(days=2)), ("r" * 43, timedelta(hours=1))):
        db.session.add(StagedUpload(token=token, user_id=trainer.id, kind="bank", filename="x.gift", params={},
                                    data=b"x", created_at=now - age))
    db.session.commit()
    trainer_client.post("/banks/import", data=upload(GIFT, "drill.gift", bank="complaints"),
                        content_type="multipart/form-data")
    tokens = set(db.session.scalars(select(StagedUpload.token)))
    assert "o" * 43 not in tokens and "r" * 43 in tokens and len(tokens) == 2
    # a token more than a day old is refused even before a sweep deletes it
    frozen_now(now + timedelta(days=1, minutes=1))
    db.session.add(StagedUpload(token="s" * 43, user_id=trainer.id, kind="bank", filename="x.gift", params={},
                                data=b"x", created_at=now))
    db.session.commit()
    assert trainer_client.post("/banks/import/confirm", data={"token": "s" * 43}).location == "/banks/import"


# --- Names, text formats and partial credit in the editor --------------------------------------------------

class _FormReader(HTMLParser):
    """The question form's fields as a browser would send them back unchanged: inputs' values, ticked
    boxes, the selected options, textareas' text (without the newline after <textarea>, lines as CRLF)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.fields: dict[str, str] = {}
        self._textarea: str | None = None
        self._select: str | None = None
        self._first_option: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "button"):
            if attrs.get("type") in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.fields[name] = attrs.get("value", "on")
            else:
                self.fields[name] = attrs.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields[name] = ""
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select:
            self._first_option.setdefault(self._select, attrs.get("value", ""))
            if "selected" in attrs:
                self.fields[self._select] = attrs.get("value", "")

    def handle_endtag(self, tag):
        if tag == "textarea" and self._textarea:
            text = self.fields[self._textarea]
            text = text[1:] if text.startswith("\n") else text[2:] if text.startswith("\r\n") else text
            self.fields[self._textarea] = text.replace("\r\n", "\n").replace("\n", "\r\n")
            self._textarea = None
        elif tag == "select" and self._select:
            self.fields.setdefault(self._select, self._first_option.get(self._select, ""))
            self._select = None

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea] += data


def form_fields(html: str) -> dict[str, str]:
    form = re.search(r'<form method="post" novalidate class="question-form">.*?</form>', html, re.S).group(0)
    reader = _FormReader()
    reader.feed(form)
    return reader.fields


def save_unchanged(client, key: str) -> tuple[dict, str]:
    """Open question `key` in the editor and save it without touching anything."""
    fields = form_fields(page(client.get(f"/banks/complaints/questions/{key}/edit")))
    response = client.post(f"/banks/complaints/questions/{key}/edit", data={**fields, "save": "1"})
    assert response.status_code == 302, page(response)[:3000]
    return fields, page(client.get(response.location))


PARTIAL = """\
slug: complaints
title: 投诉处理题库
questions:
  - id: pc-fill
    type: fill
    stem: 一级投诉 ____ 小时内回访。
    answers: ["24", {answer: 二十四, weight: 50}, {answer: "%5%", weight: 33.33333}, "%100%"]
  - id: pc-number
    type: fill
    stem: 月费 ____ 元。
    tolerance: 0.5
    answers: [84.15, {answer: 84, weight: 50, tolerance: 1}, {answer: 80, weight: 10, tolerance: 0}, 90]
  - id: pc-single
    type: single
    stem: 哪个说法对？
    options:
      - {text: 甲, correct: true}
      - {text: 乙, correct: true, feedback: 也对}
      - {text: 丙}
"""


def test_fill_lines_with_a_percent_are_worth_that_much(trainer_client, bank):
    response = new_question(trainer_client, "fill", key="ch-100", stem="____ 小时",
                            answers="24\r\n%50% 二十四\r\n%33.3333%一天\r\n\r\n%100% %5%")
    assert response.status_code == 302, page(response)
    assert question("ch-100").current.data == {"answers": ["24", "二十四", "一天", "%5%"],
                                               "weights": [1.0, 0.5, 0.333333, 1.0]}


def test_numeric_answers_take_their_own_margin_after_a_colon(trainer_client, bank):
    response = new_question(trainer_client, "fill", key="ch-100", stem="月费 ____ 元", tolerance="0.5",
                            answers="84.15\n%50% 84:1\n3.5：0.25\n%10% 80:0")
    assert response.status_code == 302, page(response)
    assert question("ch-100").current.data == {
        "answers": [84.15, 84, 3.5, 80], "tolerance": 0.5, "tolerances": [0.5, 1, 0.25, 0],
        "weights": [1.0, 0.5, 1.0, 0.1]}


def test_a_colon_in_a_text_answer_is_text(trainer_client, bank):
    new_question(trainer_client, "fill", key="ch-100", stem="____ 开门", answers="10:30\n%50% 十点半")
    assert question("ch-100").current.data == {"answers": ["10:30", "十点半"], "weights": [1.0, 0.5]}


@pytest.mark.parametrize("answers, tolerance, message", [
    ("24\n%half% 二十四", "", "the weight of an answer is a percent above 0 and at most 100, not &#39;half&#39;"),
    ("24\n%150% 二十四", "", "not &#39;150&#39;"),
    ("24\n%0% 二十四", "", "not &#39;0&#39;"),
    ("%50% 二十四", "", "at least one accepted answer must be worth 100%"),
    ("24\n%50%", "", "item 2 of the accepted answers must be non-empty text"),
    ("84\n80:wide", "0.5", "the tolerance must be a number of at least 0, not &#39;wide&#39;"),
])
def test_a_malformed_weight_or_margin_is_reported_beside_the_answers(trainer_client, bank, answers, tolerance,
                                                                    message):
    html = page(new_question(trainer_client, "fill", key="ch-100", stem="____", answers=answers, tolerance=tolerance))
    assert message in html, re.findall(r'class="error"[^>]*>([^<]*)', html)
    assert re.search(r'name="answers"[^>]*>.*?</textarea>\s*<p class="hint">.*?</p>\s*<p class="error"', html, re.S)
    assert count(Question) == 3


def test_editor_shows_weights_and_margins_and_saving_unchanged_makes_no_version(trainer_client, bank):
    import_file(PARTIAL.encode(), "complaints.yaml", bank_slug="complaints")
    versions = count(QuestionVersion)
    fill = form_fields(page(trainer_client.get("/banks/complaints/questions/pc-fill/edit")))
    assert fill["answers"] == "24\r\n%50% 二十四\r\n%33.33333% %5%\r\n%100% %100%" and fill["tolerance"] == ""
    number = form_fields(page(trainer_client.get("/banks/complaints/questions/pc-number/edit")))
    assert number["answers"] == "84.15\r\n%50% 84:1\r\n%10% 80:0\r\n90" and number["tolerance"] == "0.5"
    single = form_fields(page(trainer_client.get("/banks/complaints/questions/pc-single/edit")))
    assert (single["options-0-weight"], single["options-1-weight"], single["options-2-weight"]) == ("100", "100", "0")
    assert "right" not in single  # the weights say it: no radio button would hold two right options
    before = {key: question(key).current.data for key in ("pc-fill", "pc-number", "pc-single")}
    for key in before:
        _fields, shown = save_unchanged(trainer_client, key)
        assert f"Nothing changed in question {key}." in shown
        assert question(key).version == 1 and question(key).current.data == before[key]
    assert count(QuestionVersion) == versions


def test_single_choice_with_two_right_options_keeps_both_when_edited(trainer_client, bank):
    import_file(PARTIAL.encode(), "complaints.yaml", bank_slug="complaints")
    fields = form_fields(page(trainer_client.get("/banks/complaints/questions/pc-single/edit")))
    response = trainer_client.post("/banks/complaints/questions/pc-single/edit",
                                   data={**fields, "stem": "哪些说法对？", "save": "1"})
    assert response.status_code == 302
    edited = question("pc-single")
    assert edited.version == 2 and [o["weight"] for o in edited.current.data["options"]] == [1.0, 1.0, 0.0]


def test_preview_shows_the_name_and_each_answers_worth_and_margin(trainer_client, bank):
    html = page(trainer_client.post("/banks/complaints/questions/new?type=fill", data={
        "preview": "1", "title": "  月费  计算 ", "stem": "月费 ____ 元", "tolerance": "0.5",
        "answers": "84.15\n%50% 84:1"}))
    assert '<p class="question-title">月费 计算</p>' in html
    assert re.search(r"<code>84.15</code> ± 0.5 <span class=\"meta\">100%</span>,\s*"
                     r"<code>84</code> ± 1 <span class=\"meta\">50%</span>", html), html
    text = page(trainer_client.post("/banks/complaints/questions/new?type=fill", data={
        "preview": "1", "stem": "____", "answers": "24\n二十四"}))
    assert re.search(r"<code>24</code>,\s*<code>二十四</code>\s*</p>", text)  # all worth 100%: no percents


def test_line_breaks_from_the_browser_are_saved_as_in_files(trainer_client, bank):
    new_question(trainer_client, "essay", key="ch-100", stem="第一行\r\n第二行", explanation="甲\r\n乙",
                 guidance="要点\r\n一")
    version = question("ch-100").current
    assert (version.stem, version.explanation, version.data) == ("第一行\n第二行", "甲\n乙", {"guidance": "要点\n一"})


def test_format_choices_are_the_text_formats():
    from lms.banks.forms import TEXT_FORMAT_CHOICES
    from lms.content.banks import TEXT_FORMATS
    assert [choice.value for choice in TEXT_FORMAT_CHOICES] == list(TEXT_FORMATS)


def test_an_unknown_text_format_is_refused(trainer_client, bank):
    html = page(new_question(trainer_client, "essay", key="ch-100", stem="题", format="rtf"))
    assert "Not a valid choice" in html and count(Question) == 3


# These need Question.title and QuestionVersion.text_format stored by lms.banks.services, and the
# text rendered with lms.rendering.render_text in its format.

def test_name_and_format_are_saved_through_the_editor_and_shown(trainer_client, bank):
    response = new_question(trainer_client, "single", key="ch-100", title="首问负责（一）", format="plain",
                            stem="请输入 <客户姓名> 和 <name>\n2*3*4", right="0", **{"options-0-text": "对",
                                                                                  "options-1-text": "错"})
    assert response.status_code == 302, page(response)
    created = question("ch-100")
    assert created.title == "首问负责（一）" and created.current.text_format == "plain"
    assert created.current.stem_html == "<p>请输入 &lt;客户姓名&gt; 和 &lt;name&gt;<br>\n2*3*4</p>"
    listing = page(trainer_client.get("/banks/complaints"))
    assert '<p class="question-title">首问负责（一）</p>' in listing
    assert "请输入 &lt;客户姓名&gt; 和 &lt;name&gt;" in listing
    fields = form_fields(page(trainer_client.get("/banks/complaints/questions/ch-100/edit")))
    assert (fields["title"], fields["format"]) == ("首问负责（一）", "plain")
    _fields, shown = save_unchanged(trainer_client, "ch-100")
    assert "Nothing changed in question ch-100." in shown


def test_changing_only_the_name_makes_no_version_but_is_saved(trainer_client, bank):
    fields = form_fields(page(trainer_client.get("/banks/complaints/questions/ch-003/edit")))
    assert fields["title"] == "" and fields["format"] == "markdown"
    trainer_client.post("/banks/complaints/questions/ch-003/edit", data={**fields, "title": "挂断", "save": "1"})
    edited = question("ch-003")
    assert edited.title == "挂断" and edited.version == 1


def test_changing_the_format_makes_a_version_rendered_in_it(trainer_client, bank):
    fields = form_fields(page(trainer_client.get("/banks/complaints/questions/ch-003/edit")))
    trainer_client.post("/banks/complaints/questions/ch-003/edit", data={
        **fields, "format": "html", "stem": "可以<b>挂断</b><script>x</script>。", "save": "1"})
    edited = question("ch-003")
    assert edited.version == 2 and edited.current.text_format == "html"
    assert edited.current.stem_html == "可以<b>挂断</b>。"


def test_plain_format_question_shows_placeholders_literally(trainer_client, bank):
    new_question(trainer_client, "essay", key="ch-100", format="plain", stem="回复模板：您好 <name>，订单 <订单号>。",
                 explanation="<b>不是粗体</b>")
    version = question("ch-100").current
    assert version.stem_html == "<p>回复模板：您好 &lt;name&gt;，订单 &lt;订单号&gt;。</p>"
    assert version.explanation_html == "<p>&lt;b&gt;不是粗体&lt;/b&gt;</p>"


def test_a_gift_question_opens_and_saves_unchanged(trainer_client, bank):
    gift = ("// [id:gift-fill]\n::回访时限::[moodle]一级投诉 <b>____</b> 小时内回访。{=24 =%50%二十四}\n\n"
            "// [id:gift-number]\n::月费::月费多少元？{#=84.15:0.5 =%50%84:1}\n\n"
            "// [id:gift-single]\n::两个都对::[plain]哪个对？ <name>{=甲 =乙 ~丙}\n")
    import_file(gift.encode(), "drill.gift", bank_slug="complaints")
    versions = count(QuestionVersion)
    for key, text_format in (("gift-fill", "moodle"), ("gift-number", "moodle"), ("gift-single", "plain")):
        before = question(key).current.data
        fields, shown = save_unchanged(trainer_client, key)
        assert fields["format"] == text_format and fields["title"]
        assert f"Nothing changed in question {key}." in shown, shown
        assert question(key).current.data == before and question(key).version == 1
    assert count(QuestionVersion) == versions
