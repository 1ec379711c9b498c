"""What an exam start, its first page and a save cost in SQL: a fixed number of statements whatever
the exam's and the bank's size, the attempt's rows in three INSERT statements (not one per row), and
one attempt however many starts race (issue 14, benchmarks/exam_storm.py)."""
from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import func, select

from lms.extensions import db
from lms.models import AttemptAnswer, AttemptQuestion, ExamAttempt
from tests.conftest import sql_statements as statements
from tests.exam_support import add_question, make_bank, make_exam, started_attempt_id


def login(client, user) -> None:
    assert client.post("/login", data={"employee_no": user.employee_no, "password": "password123"}).status_code == 302


def questions_of(response) -> str:
    """The questions of an exam sheet page, as HTML (templates/exams/take.html)."""
    html = response.get_data(as_text=True)
    return html.split('name="saved_by_script" value="0">')[1].split('<div class="exam-actions card">')[0]


def sit(app, make_user, slug: str) -> dict[str, list[str]]:
    """One agent's start, first page and first save: the statements of each."""
    client = app.test_client()
    login(client, make_user())
    found: dict[str, list[str]] = {}
    holder = {}

    def start():
        holder["start"] = client.post(f"/exams/{slug}/start")

    found["start"] = statements(start)
    attempt_id = started_attempt_id(holder["start"])
    # the sheet Start answers with (made from the draw, not read back) is the sheet the page shows
    assert questions_of(holder["start"]) == questions_of(client.get(f"/exams/attempts/{attempt_id}"))
    assert questions_of(holder["start"]).count("data-slot=") > 0

    def page():
        holder["page"] = client.get(f"/exams/attempts/{attempt_id}")

    found["page"] = statements(page)
    assert holder["page"].status_code == 200
    slot = re.search(r'data-slot="(\d+)" data-type="truefalse"', holder["page"].get_data(as_text=True)).group(1)

    def save():
        holder["save"] = client.post(f"/exams/attempts/{attempt_id}/save",
                                     json={"slot": int(slot), "response": "true", "seq": 1})

    found["save"] = statements(save)
    assert holder["save"].get_json()["saved"] is True
    return found


def test_start_page_and_save_cost_the_same_whatever_the_size(app, make_user):
    small_bank = make_bank("small", per_type=2, types=("single", "multi", "truefalse", "fill"))
    make_exam([(small_bank, 8)], slug="small")  # every question: a true/false one is always drawn
    big_bank = make_bank("big", per_type=50, types=("single", "multi", "truefalse", "fill", "matching"))
    make_exam([(big_bank, 60)], slug="big")
    small, big = sit(app, make_user, "small"), sit(app, make_user, "big")
    for found in (small, big):
        # a version met for the first time in this process is read once (one statement, whatever the
        # number of versions: test below); a draw may or may not meet one, so it is left out here
        first_reads = [s for s in found["start"] if "question_versions.stem_html" in s]
        assert len(first_reads) <= 1, first_reads
        found["start"] = [s for s in found["start"] if s not in first_reads]
    for what in ("start", "page", "save"):
        assert len(small[what]) == len(big[what]), (what, small[what], big[what])
    inserts = [s for s in big["start"] if s.startswith("INSERT")]
    assert [re.match(r"INSERT INTO (\w+)", s).group(1) for s in inserts] == [
        "exam_attempts", "attempt_questions", "attempt_answers"]
    # a page: login user, attempt, slots; a save: user, attempt + slot, update; a start: login user,
    # exam + pools, attempts, candidates, the 3 INSERTs: its answer, the sheet, is made from what the
    # start wrote (the attempt and its slots are not read back)
    assert len(big["page"]) <= 3, big["page"]
    assert len(big["save"]) <= 3, big["save"]
    assert len(big["start"]) <= 7, big["start"]
    assert not any(s.startswith("SELECT") and "FROM exam_attempts" in s and "WHERE exam_attempts.id" in s
                   for s in big["start"]), big["start"]
    with app.app_context():
        attempt = db.session.scalar(select(ExamAttempt).order_by(ExamAttempt.id.desc()).limit(1))
        assert len(attempt.questions) == 60 and all(aq.answer is not None for aq in attempt.questions)
        assert attempt.max_score == 60


def test_a_new_version_is_read_once_then_served_from_memory(app, make_user):
    bank = make_bank("kb", per_type=3, types=("single", "truefalse"))
    make_exam([(bank, 6)], slug="kb", shuffle_questions=False)
    first = sit(app, make_user, "kb")
    assert any("FROM question_versions WHERE question_versions.id IN" in s for s in first["start"])
    again = sit(app, make_user, "kb")
    assert not any("question_versions.stem_html" in s for s in again["start"] + again["page"] + again["save"])
    add_question(bank, "single", "kb-late")
    db.session.commit()
    bank_grew = sit(app, make_user, "kb")  # 7 live questions for 6 places: the new one may be drawn
    reads = [s for s in bank_grew["start"] if "question_versions.stem_html" in s]
    assert len(reads) <= 1


@pytest.mark.parametrize("clicks", [2, 6])
def test_simultaneous_starts_of_one_agent_give_one_attempt(app, database_url, make_user, clicks, tmp_path):
    """Starts from several tabs at once (each its own request and connection): one attempt, with every
    slot and its empty answer, and every click lands on it."""
    bank = make_bank("race", per_type=4, types=("single", "truefalse"))
    make_exam([(bank, 8)], slug="race")
    agent = make_user()
    clients = [app.test_client() for _ in range(clicks)]
    for client in clients:
        login(client, agent)
    db.session.remove()
    barrier = threading.Barrier(clicks)
    locations: list[str] = []
    errors: list[BaseException] = []

    def click(client):
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                response = client.post("/exams/race/start")
                locations.append(response.headers.get("Content-Location") or str(response.status_code))
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=click, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert len(set(locations)) == 1 and "/exams/attempts/" in locations[0], locations
    assert db.session.scalar(select(func.count()).select_from(ExamAttempt)) == 1
    assert db.session.scalar(select(func.count()).select_from(AttemptQuestion)) == 8
    assert db.session.scalar(select(func.count()).select_from(AttemptAnswer)) == 8
