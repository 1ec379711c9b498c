"""Exam and item analysis: the formulas against hand-worked examples (values worked out below) and
the standard library's `statistics`, the edge cases, the loading from first attempts, the builder."""
from __future__ import annotations

import math
import statistics
from datetime import datetime, timedelta, timezone

import pytest

from lms.extensions import db
from lms.models import AttemptAnswer, AttemptQuestion, ExamAttempt, User
from lms.reports import items
from lms.reports.exports import export_table
from lms.reports.period import parse_period
from lms.reports.tables import REPORTS, Filters
from tests.exam_support import make_bank, make_exam

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)

# The hand-worked example: four takers, three one-point questions (a Guttman pattern).
#            q1 q2 q3  total
#   A         1  1  1    3
#   B         1  1  0    2
#   C         1  0  0    1
#   D         0  0  0    0
# Item variances (n-1): q1 0.75/3 = 0.25, q2 1/3, q3 0.25; sum 5/6. Totals 3,2,1,0: variance 5/3.
# alpha = 3/2 x (1 - (5/6)/(5/3)) = 0.75.
# q1 against the rest (2,1,0,0): sxy 0.75, sxx 0.75, syy 2.75 -> r = 0.75/sqrt(2.0625) = 3/sqrt(33).
# q2 against the rest (2,1,1,0): sxy 1, sxx 1, syy 2 -> r = 1/sqrt(2).
# q3 against the rest (2,2,1,0): sxy 0.75, sxx 0.75, syy 2.75 -> r = 3/sqrt(33).
# Percents 100, 66.7, 33.3, 0: mean 50, median 50, sd = (100/3) x sqrt(5/3) = 43.03.
MATRIX = [[1, 1, 1], [1, 1, 0], [1, 0, 0], [0, 0, 0]]


def test_alpha_of_the_hand_worked_example():
    alpha, reason = items.cronbach_alpha(MATRIX)
    assert reason is None
    assert alpha == pytest.approx(0.75)


def test_discrimination_of_the_hand_worked_example():
    totals = [sum(row) for row in MATRIX]
    expected = [3 / math.sqrt(33), 1 / math.sqrt(2), 3 / math.sqrt(33)]
    for column, r in enumerate(expected):
        scores = [row[column] for row in MATRIX]
        facility, sd, discrimination = items.item_numbers(scores, scores, totals)
        assert facility == pytest.approx(100 * sum(scores) / 4)
        assert sd == pytest.approx(100 * statistics.stdev(scores))
        assert discrimination == pytest.approx(100 * r)
        rest = [t - s for t, s in zip(totals, scores)]
        assert discrimination == pytest.approx(100 * statistics.correlation(scores, rest))
    assert items.item_numbers([1, 1, 0, 0], [1, 1, 0, 0], totals)[1] == pytest.approx(100 * math.sqrt(1 / 3))


def test_test_level_numbers_of_the_hand_worked_example():
    percents = [100.0, 200 / 3, 100 / 3, 0.0]
    assert items.mean(percents) == pytest.approx(50.0)
    assert items.median(percents) == pytest.approx(50.0)
    assert items.sample_sd(percents) == pytest.approx(100 / 3 * math.sqrt(5 / 3))
    assert items.sample_sd(percents) == pytest.approx(43.0331, abs=1e-4)
    assert items.histogram(percents) == [1, 0, 0, 1, 0, 0, 1, 0, 0, 1]


def test_alpha_with_partial_credit_against_its_definition():
    matrix = [[2, 0.5, 1], [1, 1, 1], [2, 1, 0], [0, 0.5, 0], [1.5, 1, 1]]
    k = 3
    item_var = sum(statistics.variance([row[i] for row in matrix]) for i in range(k))
    total_var = statistics.variance([sum(row) for row in matrix])
    assert items.cronbach_alpha(matrix)[0] == pytest.approx(k / (k - 1) * (1 - item_var / total_var))


def test_histogram_bins_edges():
    assert items.histogram([0, 9.99, 10, 59.9, 60, 99.99, 100]) == [2, 1, 0, 0, 0, 1, 1, 0, 0, 2]
    assert items.histogram([]) == [0] * 10
    assert items.bin_labels()[0] == "0–10" and items.bin_labels()[-1] == "90–100"


@pytest.mark.parametrize("values, median", [([3.0], 3.0), ([1.0, 5.0], 3.0), ([9.0, 1.0, 4.0], 4.0)])
def test_median(values, median):
    assert items.median(values) == median


def test_one_attempt_leaves_spread_statistics_undefined():
    assert items.sample_sd([70.0]) is None
    assert items.cronbach_alpha([[1, 0, 1]]) == (None, "few_attempts")
    facility, sd, discrimination = items.item_numbers([1.0], [1.0], [2.0])
    assert facility == 100.0 and sd is None and discrimination is None


def test_every_score_equal_gives_no_alpha_and_no_discrimination():
    same = [[1, 0, 1]] * 5
    assert items.cronbach_alpha(same) == (None, "no_variance")
    facility, sd, discrimination = items.item_numbers([1.0] * 5, [1.0] * 5, [2.0] * 5)
    assert (facility, sd, discrimination) == (100.0, 0.0, None)
    assert items.correlation([0.1] * 3, [1.0, 2.0, 3.0]) is None
    assert items.cronbach_alpha([[1], [0]]) == (None, "few_items")


def test_flags_thresholds():
    assert items.item_flags(3, 95.0, None) == []
    assert items.item_flags(3, 95.1, None) == ["too_easy"]
    assert items.item_flags(3, 19.9, None) == ["too_hard"]
    assert items.item_flags(3, 20.0, None) == []
    # Discrimination flags need MIN_TAKERS takers.
    assert items.item_flags(items.MIN_TAKERS - 1, 50.0, -40.0) == []
    assert items.item_flags(items.MIN_TAKERS, 50.0, -0.1) == ["negative_discrimination"]
    assert items.item_flags(items.MIN_TAKERS, 50.0, 19.9) == ["low_discrimination"]
    assert items.item_flags(items.MIN_TAKERS, 50.0, 20.0) == []
    unused = [items.OptionCount("a", "对", True, 10, 100.0), items.OptionCount("b", "错", False, 0, 0.0)]
    assert items.item_flags(items.MIN_TAKERS, 50.0, 30.0, unused) == ["unused_distractor"]
    assert items.item_flags(items.MIN_TAKERS - 1, 50.0, 30.0, unused) == []


def test_option_counts_single_and_multi():
    data = {"options": [{"id": "a", "text": "甲", "weight": 1.0}, {"id": "b", "text": "乙", "weight": 0.0},
                        {"id": "c", "text": "丙", "weight": -0.5}]}
    rows, unanswered = items.option_counts(data, ["a", "a", "b", None])
    assert [(r.option_id, r.right, r.count, r.percent) for r in rows] == [
        ("a", True, 2, 50.0), ("b", False, 1, 25.0), ("c", False, 0, 0.0)]
    assert unanswered == 1
    rows, unanswered = items.option_counts(data, [["a", "b"], ["a"], []])
    assert [r.count for r in rows] == [2, 1, 0] and unanswered == 1


# --- loading from the database ---------------------------------------------------------------------

def make_agents(count: int, prefix: str = "IA") -> list[User]:
    """Agents in bulk: one commit, a placeholder hash (they never log in)."""
    agents = [User(employee_no=f"{prefix}{n:05d}", name=f"坐席{n}", team="热线一组", star_level=0,
                   password_hash="x") for n in range(count)]
    for agent in agents:
        agent.roles = {"agent"}
    db.session.add_all(agents)
    db.session.commit()
    return agents


def seed_attempts(exam, agents, rows, *, started_at=NOW - timedelta(days=3), number=1, state="graded",
                  responses=None):
    """One attempt per agent: rows[i] is [(question, points earned), ...] in slot order; `responses`
    (optional) gives the stored response per slot."""
    attempts = []
    for index, (agent, slots) in enumerate(zip(agents, rows)):
        max_score = sum(q.current.points for q, _p in slots)
        score = sum(p for _q, p in slots)
        attempt = ExamAttempt(exam_id=exam.id, user_id=agent.id, number=number, state=state,
                              started_at=started_at, deadline=started_at + timedelta(minutes=20),
                              submitted_at=started_at + timedelta(minutes=10), score=score, max_score=max_score,
                              percent=round(score * 100 / max_score, 2), passed=score * 100 / max_score >= 60)
        attempt.questions = [
            AttemptQuestion(position=position, question_id=q.id, question_version_id=q.current.id,
                            question_type=q.type, option_order=[], points=q.current.points,
                            answer=AttemptAnswer(response=responses[index][position] if responses else None,
                                                 seq=1, saved_at=started_at, points=p))
            for position, (q, p) in enumerate(slots)]
        attempts.append(attempt)
    db.session.add_all(attempts)
    db.session.commit()
    return attempts


@pytest.fixture
def guttman(app):
    """The hand-worked example as a real exam: three true/false questions, four first attempts."""
    bank = make_bank("ia", per_type=3, types=("truefalse",))
    exam = make_exam([(bank, 3)], slug="ia-exam", shuffle_questions=False)
    questions = list(bank.questions)
    agents = make_agents(4)
    seed_attempts(exam, agents, [[(q, float(score)) for q, score in zip(questions, row)] for row in MATRIX])
    return exam, questions, agents


def test_exam_analysis_from_first_attempts(guttman):
    exam, questions, agents = guttman
    # Second attempts and ungraded ones never count.
    seed_attempts(exam, agents[:2], [[(q, 0.0) for q in questions]] * 2, number=2)
    analysis = items.exam_analysis(exam, parse_period("2026-11"))
    assert analysis.attempts == 4
    assert analysis.mean == pytest.approx(50.0) and analysis.median == pytest.approx(50.0)
    assert analysis.sd == pytest.approx(100 / 3 * math.sqrt(5 / 3), abs=0.01)
    assert analysis.alpha == pytest.approx(75.0) and analysis.alpha_reason is None
    assert analysis.histogram == [1, 0, 0, 1, 0, 0, 1, 0, 0, 1]
    assert [i.question_key for i in analysis.items] == [q.key for q in questions]
    assert [i.facility for i in analysis.items] == pytest.approx([75.0, 50.0, 25.0])
    assert [i.discrimination for i in analysis.items] == pytest.approx(
        [300 / math.sqrt(33), 100 / math.sqrt(2), 300 / math.sqrt(33)])
    assert all(i.takers == 4 and i.options == [] for i in analysis.items)


def test_period_filters_on_attempt_start(guttman):
    exam, _questions, _agents = guttman
    assert items.exam_analysis(exam, parse_period("2026-10")).attempts == 0
    empty = items.exam_analysis(exam, parse_period("2026-10"))
    assert empty.mean is None and empty.items == [] and empty.alpha is None
    assert empty.histogram == [0] * 10


def test_random_questions_have_their_own_takers_and_no_alpha(app):
    bank = make_bank("rq", per_type=3, types=("truefalse",))
    exam = make_exam([(bank, 2)], slug="rq-exam")
    q1, q2, q3 = bank.questions
    agents = make_agents(3, "RQ")
    seed_attempts(exam, agents, [[(q1, 1.0), (q2, 0.0)], [(q1, 1.0), (q3, 1.0)], [(q2, 1.0), (q3, 0.0)]])
    analysis = items.exam_analysis(exam, None)
    assert analysis.alpha is None and analysis.alpha_reason == "different_items"
    assert "same questions" in analysis.alpha_reason_text
    takers = {item.question_key: item.takers for item in analysis.items}
    assert takers == {q1.key: 2, q2.key: 2, q3.key: 2}
    by_key = {item.question_key: item for item in analysis.items}
    assert by_key[q1.key].facility == 100.0 and by_key[q1.key].discrimination is None  # q1 never varies
    # q2: scores (0, 1), rest of test (1, 0): a perfect negative correlation.
    assert by_key[q2.key].discrimination == pytest.approx(-100.0)


def test_edited_question_is_a_new_item(app):
    from lms.models import QuestionVersion

    bank = make_bank("ed", per_type=2, types=("truefalse",))
    exam = make_exam([(bank, 2)], slug="ed-exam")
    q1, q2 = bank.questions
    agents = make_agents(2, "ED")
    seed_attempts(exam, agents[:1], [[(q1, 1.0), (q2, 1.0)]])
    q1.versions.append(QuestionVersion(number=2, stem="改过的题目", data={"answer": False}, points=1.0))
    q1.version = 2
    db.session.commit()
    db.session.refresh(q1)
    seed_attempts(exam, agents[1:], [[(q1, 0.0), (q2, 1.0)]])
    analysis = items.exam_analysis(exam, None)
    versions = sorted((i.question_key, i.version_number, i.current_version) for i in analysis.items)
    assert versions == [(q1.key, 1, 2), (q1.key, 2, 2), (q2.key, 1, 1)]
    assert analysis.alpha_reason == "different_items"


def test_option_frequency_and_unused_distractor(app):
    bank = make_bank("op", per_type=1, types=("single",))
    exam = make_exam([(bank, 1)], slug="op-exam")
    (question,) = bank.questions
    right, wrong, unused = (o["id"] for o in question.current.data["options"])
    agents = make_agents(items.MIN_TAKERS, "OP")
    picks = [right] * 7 + [wrong] * 2 + [None]
    seed_attempts(exam, agents, [[(question, 1.0 if pick == right else 0.0)] for pick in picks],
                  responses=[[pick] for pick in picks])
    (item,) = items.exam_analysis(exam, None).items
    assert [(o.option_id, o.count) for o in item.options] == [(right, 7), (wrong, 2), (unused, 0)]
    assert item.unanswered == 1
    assert item.facility == pytest.approx(70.0)
    assert "unused_distractor" in item.flags


def test_analysis_runs_a_fixed_number_of_queries(app):
    from tests.conftest import count_queries

    bank = make_bank("cq", per_type=4, types=("truefalse",))
    exam = make_exam([(bank, 4)], slug="cq-exam")
    questions = list(bank.questions)
    agents = make_agents(1000, "CQ")
    rows = [[(q, float((n + i) % 2)) for i, q in enumerate(questions)] for n in range(1000)]
    seed_attempts(exam, agents[:10], rows[:10])
    db.session.expire_all()
    small = count_queries(lambda: items.exams_overview(None))
    seed_attempts(exam, agents[10:], rows[10:])
    db.session.expire_all()
    large = count_queries(lambda: items.exams_overview(None))
    assert small == large <= 5


# --- the report builder and its exports --------------------------------------------------------------

def test_builder_is_registered_and_exports_cell_by_cell(guttman):
    from openpyxl import load_workbook
    from io import BytesIO

    exam, questions, _agents = guttman
    tables = REPORTS["exam-items"](None, parse_period("2026-11"), Filters(), NOW)
    assert [t.name for t in tables] == ["exam-items", "exam-options", "exam-summary", "exam-distribution"]
    data, filename, media_type = export_table(tables[0], "csv")
    assert filename == "exam-items.csv" and media_type.startswith("text/csv")
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0].split(",") == ["Exam id", "Slot", "Bank", "Question id", "Version", "Type", "Question", "Takers",
                                   "Facility index", "Standard deviation", "Discrimination index", "Flags"]
    first = lines[1].split(",")
    assert first[:6] == ["ia-exam", "1", "ia", questions[0].key, "1", "truefalse"]
    assert first[7:11] == ["4", "75.0", "50.0", "52.2"]
    assert lines[3].split(",")[8:11] == ["25.0", "50.0", "52.2"]

    data, _name, _type = export_table(tables[2], "xlsx")
    sheet = load_workbook(BytesIO(data)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0][:3] == ["Exam", "Exam id", "First attempts"]
    assert rows[1][1:8] == ["ia-exam", 4, 50.0, 50.0, 43.0, 75.0, None]
    assert rows[1][8] == 0


def test_builder_by_course_or_exam_and_refuses_agents(guttman, make_user):
    exam, _questions, _agents = guttman
    tables = REPORTS["exam-items"](None, None, Filters(), NOW, exam="ia-exam")
    assert {row["exam"] for row in tables[0].rows} == {"ia-exam"}
    assert REPORTS["exam-items"](None, None, Filters(course_slug="no-such-course"), NOW)[0].rows == []
    with pytest.raises(PermissionError):
        REPORTS["exam-items"](make_user(roles=("agent",)), None, Filters(), NOW)
    trainer = make_user(roles=("trainer",))
    assert len(REPORTS["exam-items"](trainer, None, Filters(), NOW, exam="ia-exam")[0].rows) == 3
