"""Banks, questions and exams built directly with the models, for the exam tests.

Every key, weight, feedback, explanation, guidance and internal option id carries a marker
(SECRET, opt-, pair-, dis-, FILLKEY) so a test can scan what the browser received for them."""
from __future__ import annotations

import re
from typing import Any

from lms.extensions import db
from lms.models import Exam, ExamPool, Question, QuestionBank, QuestionVersion
from lms.questions.types import QUESTION_TYPES
from lms.rendering import render_markdown

TYPES = ("single", "multi", "truefalse", "fill", "matching", "essay")
SECRETS = ("SECRET", "opt-", "pair-", "dis-", "FILLKEY", "QKEY-", '"weight"', '"answer"', '"feedback"',
           '"guidance"', '"explanation')


def question_data(kind: str, key: str) -> dict:
    if kind == "single":
        return {"options": [
            {"id": f"opt-{key}-a", "text": f"对的说法 {key}", "weight": 1.0, "feedback": f"FEEDBACK-SECRET-{key}-a"},
            {"id": f"opt-{key}-b", "text": f"错的说法一 {key}", "weight": 0.0, "feedback": f"FEEDBACK-SECRET-{key}-b"},
            {"id": f"opt-{key}-c", "text": f"错的说法二 {key}", "weight": 0.0}]}
    if kind == "multi":
        return {"options": [
            {"id": f"opt-{key}-a", "text": f"正确甲 {key}", "weight": 0.5},
            {"id": f"opt-{key}-b", "text": f"正确乙 {key}", "weight": 0.5},
            {"id": f"opt-{key}-c", "text": f"错误丙 {key}", "weight": -1.0, "feedback": f"FEEDBACK-SECRET-{key}-c"},
            {"id": f"opt-{key}-d", "text": f"错误丁 {key}", "weight": -0.5}]}
    if kind == "truefalse":
        return {"answer": True}
    if kind == "fill":
        return {"answers": [f"FILLKEY{key}", "光猫"]}
    if kind == "matching":
        return {"pairs": [{"id": f"pair-{key}-1", "left": f"一级 {key}", "right": f"两小时 {key}"},
                          {"id": f"pair-{key}-2", "left": f"二级 {key}", "right": f"一天 {key}"},
                          {"id": f"pair-{key}-3", "left": f"三级 {key}", "right": f"两天 {key}"}],
                "distractors": [{"id": f"dis-{key}-1", "text": f"一周 {key}"}]}
    return {"guidance": f"GUIDANCE-SECRET-{key}"}


def add_question(bank: QuestionBank, kind: str, key: str, *, tags=(), points: float = 1.0) -> Question:
    question = Question(bank=bank, key=f"QKEY-{key}", type=kind, tags=list(tags), version=1)
    explanation = f"EXPLANATION-SECRET-{key}"
    question.versions.append(QuestionVersion(
        number=1, stem=f"题目 {key}：请作答。", stem_html=render_markdown(f"题目 {key}：请作答。"),
        data=question_data(kind, key), explanation=explanation, explanation_html=render_markdown(explanation),
        points=points))
    db.session.add(question)
    return question


def make_bank(slug: str = "bank", *, per_type: int = 2, types=TYPES, tags_for=None) -> QuestionBank:
    """A bank with `per_type` questions of each type; `tags_for(kind, n)` gives their tags."""
    bank = QuestionBank(slug=slug, title=f"题库 {slug}", description="")
    db.session.add(bank)
    for kind in types:
        for n in range(per_type):
            add_question(bank, kind, f"{slug}-{kind}-{n}", tags=tags_for(kind, n) if tags_for else ())
    db.session.commit()
    return bank


def make_exam(pools, *, slug: str = "final", course=None, **settings) -> Exam:
    """`pools`: [(bank, count)] or [(bank, count, tags)]."""
    defaults = dict(title=f"考试 {slug}", time_limit_minutes=20, pass_percent=60.0, attempts_allowed=0,
                    shuffle_questions=True, shuffle_options=True, grading_method="highest",
                    review_policy="after_close")
    defaults.update(settings)
    exam = Exam(slug=slug, course=course, **defaults)
    exam.pools = [ExamPool(bank_id=pool[0].id, count=pool[1], tags=list(pool[2]) if len(pool) > 2 else [],
                           position=i) for i, pool in enumerate(pools)]
    db.session.add(exam)
    db.session.commit()
    return exam


def right_raw(kind: str, data: dict, order: list[str]) -> Any:
    """The fully right answer as the browser sends it (by position in the stored order)."""
    if kind == "single":
        return str(order.index(next(o["id"] for o in data["options"] if o["weight"] == 1.0)))
    if kind == "multi":
        return [str(order.index(o["id"])) for o in data["options"] if o["weight"] > 0]
    if kind == "truefalse":
        return "true" if data["answer"] else "false"
    if kind == "fill":
        return str(data["answers"][-1])
    if kind == "matching":
        return {str(i): str(order.index(pair["id"])) for i, pair in enumerate(data["pairs"])}
    return "我的作答：先安抚客户情绪，再核实身份，最后建单跟进。"


def wrong_raw(kind: str, data: dict, order: list[str]) -> Any:
    if kind == "single":
        return str(order.index(next(o["id"] for o in data["options"] if o["weight"] == 0.0)))
    if kind == "multi":
        return [str(i) for i in range(len(order))]  # everything ticked: scores nothing
    if kind == "truefalse":
        return "false" if data["answer"] else "true"
    if kind == "fill":
        return "路由器"
    if kind == "matching":
        first = str(order.index(data["distractors"][0]["id"]))
        return {str(i): first for i in range(len(data["pairs"]))}
    return ""


def answers_for(attempt, raw=right_raw) -> dict[int, Any]:
    """slot -> raw response for every question of `attempt`."""
    return {aq.position: raw(aq.question_type, aq.version.data, aq.option_order) for aq in attempt.questions}


def grade_of(kind: str, data: dict, order: list[str], raw) -> float | None:
    question = QUESTION_TYPES[kind]
    return question.grade(data, question.clean_response(data, order, raw)).fraction


def sheet_url(started) -> str:
    """The sheet's address from the answer to Start, which is the sheet itself (200) naming its
    address in Content-Location (lms/exams/views.py start)."""
    assert started.status_code == 200, (started.status_code, started.location, started.get_data(as_text=True)[:300])
    return started.headers["Content-Location"]


def started_attempt_id(started) -> int:
    """The attempt a Start answered with (see sheet_url)."""
    return int(re.fullmatch(r"/exams/attempts/(\d+)", sheet_url(started)).group(1))
