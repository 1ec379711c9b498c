"""Hostile input against exams, marking, lists, question banks and editors: every request gets a
clear 4xx (JSON from the exam save endpoint, whatever goes wrong), never a 500, and a refused
request changes nothing in the database."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from lms.content.aiken import parse_aiken
from lms.content.bank_sheets import parse_sheet
from lms.content.banks import parse_bank
from lms.content.gift import parse_gift
from lms.exams import saving, services
from lms.extensions import db
from lms.models import (AttemptAnswer, AttemptQuestion, AuditEvent, Exam, ExamAttempt, Question, QuestionBank,
                        QuestionVersion, RecordEntry, Scenario, User)

from lms.questions.types import MAX_OPTIONS, MAX_PAIRS
from tests.exam_support import answers_for, make_bank, make_exam, right_raw, started_attempt_id

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
T0_MS = int(T0.timestamp() * 1000)
EN = {"Accept-Language": "en"}
DIGITS = "9" * 5000
HUGE = [str(2 ** 31), str(2 ** 63), str(2 ** 64), "99999999999999999999"]  # ids are 32-bit on PostgreSQL


def counts() -> dict[str, int]:
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (AttemptAnswer, ExamAttempt, RecordEntry, AuditEvent, Question, QuestionVersion,
                          QuestionBank, Exam, Scenario, User)}


def answers(attempt_id: int) -> list[tuple]:
    """Every stored answer of the attempt: what a refused save must leave as it was."""
    db.session.expire_all()
    return [tuple(row) for row in db.session.execute(
        select(AttemptQuestion.position, AttemptAnswer.response, AttemptAnswer.seq, AttemptAnswer.points)
        .join(AttemptAnswer, AttemptAnswer.attempt_question_id == AttemptQuestion.id)
        .where(AttemptQuestion.attempt_id == attempt_id).order_by(AttemptQuestion.position))]


@pytest.fixture
def agent(make_user):
    return make_user(roles=("agent",), name="坐席甲")


@pytest.fixture
def sitting(client, login_as, agent, frozen_now):
    """An open attempt of one question of each type, every slot answered once with seq 5."""
    frozen_now(T0)
    bank = make_bank("kb", per_type=1)
    exam = make_exam([(bank, 6)], shuffle_questions=False)
    login_as(agent)
    attempt = db.session.get(ExamAttempt, started_attempt_id(client.post(f"/exams/{exam.slug}/start")))
    for slot, raw in answers_for(attempt, right_raw).items():
        assert save(client, attempt.id, {"slot": slot, "response": raw, "seq": 5}).status_code == 200
    slots = {aq.question_type: aq.position for aq in attempt.questions}
    return attempt, slots


def save(client, attempt_id, payload=None, *, body=None, content_type="application/json"):
    if body is None:
        body = json.dumps(payload)
    return client.post(f"/exams/attempts/{attempt_id}/save", data=body, content_type=content_type)


def assert_json_refusal(response, status: int = 400) -> None:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:300])
    assert response.is_json, response.get_data(as_text=True)[:300]
    body = response.get_json()
    assert body["saved"] is False and isinstance(body["error"], str) and body["error"]


# --- the JSON save endpoint -----------------------------------------------------------------------

RESPONSES = [
    ("single", "²"), ("single", "①"), ("single", "١"), ("single", DIGITS), ("single", "-1"), ("single", " 0 0"),
    ("single", 2 ** 64), ("single", 1.5), ("single", {"0": "0"}), ("single", ["0", "1"]), ("single", "0\x00"),
    ("multi", ["²"]), ("multi", [DIGITS]), ("multi", ["0"] * 1000), ("multi", [[["0"]]]), ("multi", {"a": 1}),
    ("truefalse", "yes"), ("truefalse", 1), ("truefalse", ["true"]), ("truefalse", {"true": True}),
    ("fill", 5), ("fill", ["a"]), ("fill", "x" * 501), ("fill", "a\x00b"), ("fill", True),
    ("matching", {"²": "0"}), ("matching", {"①": "0"}), ("matching", {DIGITS: "0"}), ("matching", {"0": "²"}),
    ("matching", {"0": DIGITS}), ("matching", {str(i): "0" for i in range(1000)}), ("matching", ["0"]),
    ("matching", {"0": {"0": "0"}}), ("matching", {"0\x00": "0"}),
    ("essay", ["text"]), ("essay", {"t": "x"}), ("essay", 12), ("essay", "x" * 20_001), ("essay", "正文\x00"),
]


@pytest.mark.parametrize("kind, response", RESPONSES, ids=[f"{k}-{i}" for i, (k, _r) in enumerate(RESPONSES)])
def test_a_response_that_does_not_fit_is_refused_as_json(client, sitting, kind, response):
    attempt, slots = sitting
    before, stored = counts(), answers(attempt.id)
    reply = save(client, attempt.id, {"slot": slots[kind], "response": response, "seq": 10})
    assert_json_refusal(reply)
    assert answers(attempt.id) == stored and counts() == before


RAW_BODIES = [
    ('{"slot": 0, "response": NaN, "seq": 10}', "application/json"),
    ('{"slot": 0, "response": Infinity, "seq": 10}', "application/json"),
    ('{"slot": 0, "response": "0", "seq": NaN}', "application/json"),
    ('{"slot": 0, "response": 1e309, "seq": 10}', "application/json"),
    ('{"slot": 0, "response": "0", "seq": 1e309}', "application/json"),
    ('{"slot": 0, "response": "0", "seq": -1e309}', "application/json"),
    ('{"slot": 1e309, "response": "0", "seq": 10}', "application/json"),
    ('{"slot": 0, "response": "0", "seq": ' + DIGITS + '}', "application/json"),
    ('{"slot": ' + DIGITS + ', "response": "0", "seq": 10}', "application/json"),
    ('{"slot": 0, "response": ' + DIGITS + ', "seq": 10}', "application/json"),
    ('{"slot": 0, "response": ' + "[" * 100_000 + "]" * 100_000 + ', "seq": 10}', "application/json"),
    ("[" * 100_000 + "]" * 100_000, "application/json"),
    ('{"a": ' * 30_000 + "1" + "}" * 30_000, "application/json"),
    ('{"slot": 0, "response": "0", "seq": 10', "application/json"),
    ("not json", "application/json"),
    ('{"slot": 0, "response": "0", "seq": 10}', "text/plain"),
    ("slot=0&response=0&seq=10", "application/x-www-form-urlencoded"),
    ("", "application/json"),
    ("\xff\xfe", "application/json"),
    ("null", "application/json"),
    ("[]", "application/json"),
    ('"slot"', "application/json"),
    ("12", "application/json"),
    ('{"slot": 0, "seq": 10}', "application/json"),
    ('{"slot": 0, "response": "0"}', "application/json"),
    ('{"response": "0", "seq": 10}', "application/json"),
    ('{"slot": 0, "response": "0", "seq": 10, "\\u0000": 1}', "application/json"),
    ('{"slot": 0, "response": "\\u0000", "seq": 10}', "application/json"),
]


@pytest.mark.parametrize("body, content_type", RAW_BODIES, ids=[str(i) for i in range(len(RAW_BODIES))])
def test_a_body_that_cannot_be_read_is_refused_as_json(client, sitting, body, content_type):
    attempt, _slots = sitting
    before, stored = counts(), answers(attempt.id)
    assert_json_refusal(save(client, attempt.id, body=body, content_type=content_type))
    assert answers(attempt.id) == stored and counts() == before


@pytest.mark.parametrize("field, value", [
    ("slot", 2 ** 63), ("slot", 2 ** 64), ("slot", 2 ** 31), ("slot", -1), ("slot", "0"), ("slot", 0.0), ("slot", True),
    ("slot", None), ("slot", [0]), ("slot", {"0": 0}),
    ("seq", 2 ** 63), ("seq", 2 ** 63 - 1), ("seq", 2 ** 64), ("seq", 2 ** 53), ("seq", 2 ** 53 + 1), ("seq", 0),
    ("seq", -1), ("seq", -(2 ** 63)), ("seq", "10"), ("seq", 10.0), ("seq", True), ("seq", None), ("seq", [10]),
    ("seq", T0_MS + services.SEQ_AHEAD_MS + 1), ("seq", T0_MS + 24 * 3600 * 1000),
])
def test_absurd_slots_and_seqs_are_refused_as_json(client, sitting, field, value):
    attempt, slots = sitting
    before, stored = counts(), answers(attempt.id)
    payload = {"slot": slots["single"], "response": "1", "seq": 10, field: value}
    assert_json_refusal(save(client, attempt.id, payload))
    assert answers(attempt.id) == stored and counts() == before


def test_a_seq_cannot_pin_a_slot(client, sitting, frozen_now):
    """The seq a browser sends follows the server's clock (static/js/exam.js); one far ahead of it
    would make every later save of the slot be acknowledged and dropped, so it is refused."""
    attempt, slots = sitting
    slot = slots["truefalse"]
    assert_json_refusal(save(client, attempt.id, {"slot": slot, "response": "false", "seq": 2 ** 62}))
    # A seq a little ahead of the server's clock (latency, several answers in one millisecond) is fine.
    ahead = save(client, attempt.id, {"slot": slot, "response": "false", "seq": T0_MS + 2000})
    assert ahead.status_code == 200 and ahead.get_json()["seq"] == T0_MS + 2000
    frozen_now(T0 + timedelta(seconds=3))
    later = save(client, attempt.id, {"slot": slot, "response": "true", "seq": T0_MS + 3000})
    assert later.status_code == 200 and later.get_json()["seq"] == T0_MS + 3000
    assert dict((p, r) for p, r, _s, _pts in answers(attempt.id))[slot] is True
    refused = save(client, attempt.id, {"slot": slot, "response": "false", "seq": 2 ** 53})
    assert refused.get_json()["server_now"] == T0_MS + 3000  # so a client can fix its clock


def test_a_5_mb_body_is_refused_as_json(client, sitting):
    attempt, slots = sitting
    before, stored = counts(), answers(attempt.id)
    body = json.dumps({"slot": slots["essay"], "response": "长" * (5 * 1024 * 1024 // 3), "seq": 10})
    assert_json_refusal(save(client, attempt.id, body=body), 413)
    assert answers(attempt.id) == stored and counts() == before


@pytest.mark.parametrize("attempt_part", ["99999999999999999999", str(2 ** 63), "-1", "abc", "1.5", "%00", "0"])
def test_the_save_address_always_answers_json(client, sitting, attempt_part):
    attempt, _slots = sitting
    response = client.post(f"/exams/attempts/{attempt_part}/save", json={"slot": 0, "response": "0", "seq": 10})
    assert_json_refusal(response, 404)


def test_the_save_endpoint_answers_json_for_a_wrong_method_a_missing_token_and_a_crash(
        app, client, sitting, monkeypatch):
    attempt, _slots = sitting
    assert_json_refusal(client.get(f"/exams/attempts/{attempt.id}/save"), 405)
    app.config["WTF_CSRF_ENABLED"] = True
    assert_json_refusal(save(client, attempt.id, {"slot": 0, "response": "0", "seq": 10}), 400)
    app.config["WTF_CSRF_ENABLED"] = False

    def crash(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(saving, "save_answer", crash)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert_json_refusal(save(client, attempt.id, {"slot": 0, "response": "0", "seq": 10}), 500)


# --- the plain form, finish and submit ------------------------------------------------------------

@pytest.mark.parametrize("field, value", [
    ("single", "²"), ("single", "①"), ("single", DIGITS), ("single", "-1"), ("truefalse", "maybe"),
    ("fill", "x" * 501), ("matching-0", "²"), ("matching-0", DIGITS), ("multi", "①"),
])
def test_the_plain_form_keeps_answers_it_cannot_read(client, sitting, field, value):
    attempt, slots = sitting
    before, stored = counts(), answers(attempt.id)
    kind, _dash, item = field.partition("-")
    name = f"q{slots[kind]}" + (f"-{item}" if item else "")
    response = client.post(f"/exams/attempts/{attempt.id}/finish", data={name: value, "action": "save"}, headers=EN)
    assert response.status_code == 302
    kept = dict((p, (r, s)) for p, r, s, _pts in answers(attempt.id))
    assert kept[slots[kind]] == dict((p, (r, s)) for p, r, s, _pts in stored)[slots[kind]]
    assert counts() == before


def test_the_plain_form_refuses_a_multi_answer_with_more_ticks_than_options(client, sitting):
    attempt, slots = sitting
    stored = answers(attempt.id)
    data = {f"q{slots['multi']}": ["0"] * 500, "action": "save"}
    assert client.post(f"/exams/attempts/{attempt.id}/finish", data=data).status_code == 302
    position = slots["multi"]
    assert [a for a in answers(attempt.id) if a[0] == position] == [a for a in stored if a[0] == position]


@pytest.mark.parametrize("data", [
    {"q0": "0\x00"}, {"action": "save\x00"}, {"saved_by_script": "\x00"}, {"q3-0": "\x00"},
])
def test_nul_in_the_plain_form_is_refused(client, sitting, data):
    attempt, _slots = sitting
    before, stored = counts(), answers(attempt.id)
    response = client.post(f"/exams/attempts/{attempt.id}/finish", data=data)
    assert response.status_code == 400
    assert answers(attempt.id) == stored and counts() == before


@pytest.mark.parametrize("data", [{"time_up": "1" * 5000}, {"time_up": "²"}, {"time_up": ["1", "0"]}, {"x": "y"}])
def test_submit_with_odd_values_still_submits_once(client, sitting, data):
    attempt, _slots = sitting
    assert client.post(f"/exams/attempts/{attempt.id}/submit", data=data).status_code == 302
    db.session.expire_all()
    assert db.session.get(ExamAttempt, attempt.id).state in ("pending", "graded")


@pytest.mark.parametrize("action", ["finish", "submit", "confirm", "result", "review", "heartbeat"])
@pytest.mark.parametrize("number", HUGE)
def test_huge_attempt_ids_are_not_found(client, sitting, action, number):
    before = counts()
    method = client.get if action in ("confirm", "result", "review") else client.post
    response = method(f"/exams/attempts/{number}/{action}")
    assert response.status_code == 404
    assert counts() == before


# --- essay marking --------------------------------------------------------------------------------

@pytest.fixture
def essay_waiting(client, login_as, agent, make_user, frozen_now):
    frozen_now(T0)
    bank = make_bank("ess", per_type=1, types=("truefalse", "essay"))
    exam = make_exam([(bank, 2)], pass_percent=50)
    login_as(agent)
    attempt_id = started_attempt_id(client.post(f"/exams/{exam.slug}/start"))
    attempt = db.session.get(ExamAttempt, attempt_id)
    for slot, raw in answers_for(attempt, right_raw).items():
        save(client, attempt_id, {"slot": slot, "response": raw, "seq": 1})
    client.post(f"/exams/attempts/{attempt_id}/submit")
    client.post("/logout")
    login_as(make_user(roles=("trainer",)))
    essay = next(aq.position for aq in attempt.questions if aq.question_type == "essay")
    return attempt_id, essay


@pytest.mark.parametrize("points", [
    "NaN", "nan", "sNaN", "-NaN", "inf", "Infinity", "-inf", "-0", "-0.0", DIGITS, "1e309", "1E2", "-1", "-0.5",
    "1.5", "2", "1001", "0x1", "1_0", "½", "²", "①", "٣", "1,2,3", "1..2", " ", "0.00001",
])
def test_hostile_points_give_a_form_error_and_mark_nothing(client, essay_waiting, points):
    attempt_id, essay = essay_waiting
    before, stored = counts(), answers(attempt_id)
    response = client.post(f"/exams/marking/{attempt_id}", data={f"points-{essay}": points, f"comment-{essay}": "x"},
                           headers=EN)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Give a number of points" in html or "Points run from 0" in html or "Give points to at least" in html
    assert answers(attempt_id) == stored and counts() == before
    db.session.expire_all()
    assert db.session.get(ExamAttempt, attempt_id).state == "pending"


@pytest.mark.parametrize("points, expected", [("1", 1.0), ("０.５", 0.5), ("0,5", 0.5), ("0", 0.0)])
def test_ordinary_points_still_mark(client, essay_waiting, points, expected):
    attempt_id, essay = essay_waiting
    response = client.post(f"/exams/marking/{attempt_id}", data={f"points-{essay}": points})
    assert response.status_code == 302
    assert dict((p, pts) for p, _r, _s, pts in answers(attempt_id))[essay] == expected


# --- page numbers ---------------------------------------------------------------------------------

PAGES = ["99999999999999999999", str(2 ** 63), str(2 ** 63 - 1), "-5", "0", "abc", DIGITS, "1.5", "²", "%EF%BC%92",
         "", "2&page=x", "1e9"]


@pytest.fixture
def lists(make_user, frozen_now):
    frozen_now(T0)
    bank = make_bank("kb", per_type=1)
    exam = make_exam([(bank, 3)])
    staff = make_user(roles=("admin", "trainer"))
    return staff, ["/admin/users", f"/banks/{bank.slug}", f"/exams/manage/{exam.id}/attempts", "/records"]


@pytest.mark.parametrize("page", PAGES)
def test_every_list_clamps_the_page_number(client, login_as, lists, page):
    staff, paths = lists
    login_as(staff)
    before = counts()
    for path in paths:
        response = client.get(f"{path}?page={page}")
        assert response.status_code == 200, (path, response.status_code)
    assert counts() == before


def test_the_page_helper_clamps():
    from werkzeug.datastructures import MultiDict

    from lms.pagination import MAX_PAGE, page_number

    for raw, expected in [("3", 3), ("-5", 1), ("0", 1), ("abc", 1), (DIGITS, MAX_PAGE), ("99999999999999999999", MAX_PAGE),
                          ("²", 1), ("", 1), (" 2 ", 2)]:
        assert page_number(MultiDict({"page": raw})) == expected, raw
    assert page_number(MultiDict()) == 1


# --- question banks: what import accepts, the editor opens ------------------------------------------

def _gift(options: int) -> str:
    return "::q1:: 问题 {\n=对\n" + "".join(f"~错{i}\n" for i in range(options - 1)) + "}\n"


def _gift_matching(pairs: int) -> str:
    return "::m1:: 配对 {\n" + "".join(f"=项{i} -> 配{i}\n" for i in range(pairs)) + "}\n"


def _native(kind: str, count: int) -> str:
    if kind == "matching":
        body = "    pairs:\n" + "".join(f"      - [项{i}, 配{i}]\n" for i in range(count))
    else:
        body = "    options:\n      - {text: 对, correct: true}\n" + "".join(
            f"      - {{text: 错{i}}}\n" for i in range(count - 1))
    return f"slug: big\ntitle: 大\nquestions:\n  - id: q1\n    type: {kind}\n    stem: 问题\n{body}"


def _sheet(options: int) -> bytes:
    header = "id,type,stem,correct," + ",".join(f"option_{chr(ord('a') + i)}" for i in range(options))
    row = "q1,single,问题,A," + ",".join(f"选项{i}" for i in range(options))
    return (header + "\n" + row + "\n").encode("utf-8")


@pytest.mark.parametrize("parse, limit", [
    (lambda n: parse_gift(_gift(n), "big.gift"), MAX_OPTIONS),
    (lambda n: parse_gift(_gift_matching(n), "big.gift"), MAX_PAIRS),
    (lambda n: parse_bank(_native("single", n), "big.yaml"), MAX_OPTIONS),
    (lambda n: parse_bank(_native("multi", n), "big.yaml"), MAX_OPTIONS),
    (lambda n: parse_bank(_native("matching", n), "big.yaml"), MAX_PAIRS),
])
def test_import_refuses_more_options_or_pairs_than_the_editor_shows(app, parse, limit):
    assert not parse(limit).errors
    too_many = parse(limit + 1)
    assert too_many.errors and not too_many.questions
    assert any(str(limit) in error.message and error.line >= 1 for error in too_many.errors), too_many.errors


def test_aiken_and_sheets_refuse_too_many_options(app):
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    aiken = "问题？\n" + "".join(f"{letter}. 选项{letter}\n" for letter in letters[:MAX_OPTIONS + 1]) + "ANSWER: A\n"
    parsed = parse_aiken(aiken, "big.txt")
    assert parsed.errors and not parsed.questions
    assert any(str(MAX_OPTIONS) in e.message and e.line == 1 for e in parsed.errors), parsed.errors
    assert not parse_aiken(aiken.replace(f"{letters[MAX_OPTIONS]}. 选项{letters[MAX_OPTIONS]}\n", ""), "ok.txt").errors
    assert not parse_sheet("ok.csv", _sheet(MAX_OPTIONS)).errors
    sheet = parse_sheet("big.csv", _sheet(MAX_OPTIONS + 1))
    assert sheet.errors and not sheet.questions
    assert any(str(MAX_OPTIONS) in e.message and e.line == 2 for e in sheet.errors), sheet.errors


@pytest.mark.parametrize("kind, count", [("single", MAX_OPTIONS), ("multi", MAX_OPTIONS), ("matching", MAX_PAIRS)])
def test_the_editor_opens_and_saves_the_largest_question_import_accepts(client, login_as, make_user, kind, count):
    parsed = parse_bank(_native(kind, count), "big.yaml")
    assert not parsed.errors
    spec = parsed.questions[0]
    bank = QuestionBank(slug="big", title="大", description="")
    db.session.add(bank)
    question = Question(bank=bank, key="q1", type=kind, tags=[], version=1)
    question.versions.append(QuestionVersion(number=1, stem=spec.stem, stem_html="<p>问题</p>", data=spec.data,
                                             explanation="", explanation_html="", points=1.0))
    db.session.add(question)
    db.session.commit()
    login_as(make_user(roles=("trainer",)))
    page = client.get("/banks/big/questions/q1/edit")
    assert page.status_code == 200
    rows = "options" if kind != "matching" else "pairs"
    assert len(set(re.findall(rf'name="{rows}-(\d+)-', page.get_data(as_text=True)))) > count


def test_the_editor_refuses_more_rows_than_import_accepts(client, login_as, make_user):
    bank = make_bank("ed", per_type=1, types=("single",))
    login_as(make_user(roles=("trainer",)))
    before = counts()
    data = {"save": "1", "key": "big-1", "stem": "问题", "right": "0"}
    data.update({f"options-{i}-text": f"选项{i}" for i in range(40)})
    response = client.post(f"/banks/{bank.slug}/questions/new?type=single", data=data, headers=EN)
    assert response.status_code in (200, 400)
    assert counts() == before


# --- NUL anywhere ----------------------------------------------------------------------------------

@pytest.mark.parametrize("method, path, data", [
    ("GET", "/admin/users?q=%00", None), ("GET", "/admin/users?q=a%00b", None), ("GET", "/records?q=%00", None),
    ("GET", "/banks/kb?q=%00", None), ("GET", "/banks/kb?tag=x%00", None), ("GET", "/?x=%00", None),
    ("GET", "/admin/users?%00=1", None),
    ("POST", "/banks/new", {"slug": "nul", "title": "题库\x00"}),
    ("POST", "/banks/new", {"slug": "nul\x00", "title": "题库"}),
    ("POST", "/banks/kb/questions/new?type=essay", {"save": "1", "key": "n-1", "stem": "问\x00题"}),
    ("POST", "/admin/users/new", {"employee_no": "N1", "name": "名\x00", "password": "password123",
                                   "roles": "agent", "star_level": "0"}),
    ("POST", "/login", {"employee_no": "E\x00", "password": "x"}),
    ("POST", "/language", {"language": "en\x00"}),
])
def test_nul_in_any_field_is_a_400(client, login_as, lists, method, path, data):
    staff, _paths = lists
    login_as(staff)
    before = counts()
    response = client.open(path, method=method, data=data)
    assert response.status_code == 400, (path, response.status_code)
    assert counts() == before


@pytest.mark.parametrize("path", ["/exams/final%00", "/banks/kb%00", "/courses/x%00", "/banks/kb/questions/a%00/edit",
                                  "/practicals/scenarios/a%00"])
def test_nul_in_a_path_is_not_found(client, login_as, lists, path):
    staff, _paths = lists
    login_as(staff)
    assert client.get(path).status_code == 404


# --- integers in paths -------------------------------------------------------------------------------

def _int_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or not any(type(c).__name__ .lower().find("int") >= 0
                                                 for c in rule._converters.values()):
            continue
        method = "GET" if "GET" in rule.methods else "POST"
        yield rule, method


@pytest.mark.parametrize("number", HUGE + [str(2 ** 63 - 1)])
def test_huge_ids_in_any_path_are_not_found(app, client, make_user, login_as, frozen_now, number):
    frozen_now(T0)
    login_as(make_user(roles=("admin", "trainer", "mentor", "agent")))
    before = counts()
    checked = 0
    for rule, method in _int_routes(app):
        path = re.sub(r"<int(\([^)]*\))?:[a-z_]+>", number, rule.rule)
        path = re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?[a-z_]+>", "x", path)
        response = client.open(path, method=method)
        assert response.status_code in (400, 404, 405), (path, response.status_code)  # 400: the save body
        checked += 1
    assert checked >= 20
    assert counts() == before


# --- huge form values ------------------------------------------------------------------------------

MEGABYTE = "长" * (1024 * 1024 // 3) + "x"


def test_a_megabyte_scenario_is_refused(client, login_as, make_user, catalog):
    from lms.models import Course

    login_as(make_user(roles=("trainer",)))
    course = db.session.scalar(select(Course))
    before = counts()
    for size in (MEGABYTE, "x" * 150_000):
        response = client.post("/practicals/scenarios/new", data={"slug": "huge", "course": course.id, "text": size},
                               headers=EN)
        assert response.status_code in (200, 413), response.status_code
        assert "longer than" in response.get_data(as_text=True)
        assert "longer than this server accepts" in response.get_data(as_text=True) or response.status_code == 200
    assert counts() == before


@pytest.mark.parametrize("field", ["stem", "explanation", "guidance", "options-0-text", "tags", "answers"])
def test_a_megabyte_in_the_question_editor_is_refused(client, login_as, make_user, field):
    bank = make_bank("ed", per_type=1, types=("essay",))
    login_as(make_user(roles=("trainer",)))
    before = counts()
    data = {"save": "1", "key": "huge-1", "stem": "问题", field: MEGABYTE}
    response = client.post(f"/banks/{bank.slug}/questions/new?type=essay", data=data, headers=EN)
    assert response.status_code in (200, 413)
    assert counts() == before
    response = client.post(f"/banks/{bank.slug}/questions/new?type=essay", data={**data, field: "x" * 100_000},
                           headers=EN)
    assert response.status_code == 200 and counts() == before


# --- ids typed into forms --------------------------------------------------------------------------

from tests.web.test_practicals import scenario, sign_data, world  # noqa: E402,F401  (fixtures)


@pytest.mark.parametrize("value", HUGE + ["-1", "²", DIGITS, "1e9", ""])
@pytest.mark.parametrize("field", ["script_version_id", "rubric_version_id"])
def test_hostile_version_ids_in_a_signoff_never_crash(world, client, login_as, field, value):
    login_as(world["mentor"])
    before = counts()
    data = {**sign_data(world["scenario"]), field: value}
    response = client.post(f"/practicals/{world['scheduled']}/sign", data=data, headers=EN)
    assert response.status_code in (200, 302)
    if field == "script_version_id":  # no such script version: nothing is signed
        assert counts() == before
