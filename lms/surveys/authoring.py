"""Survey templates, as trainers author them: the questions checked from the editor's rows, saving,
duplicating, the default per kind of subject, and the lists the editor shows. A template that has
answers keeps its questions (`TemplateHasAnswers`): it is copied and the copy edited.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, select
from werkzeug.exceptions import NotFound

from lms.extensions import db
from lms.models import User
from lms.models.surveys import QUESTION_KINDS, SUBJECT_TYPES, SurveyAnswer, SurveyTemplate
from lms.records.services import audit
from lms.surveys.services import SurveyError

MAX_QUESTIONS = 10
MAX_OPTIONS = 10
MAX_PROMPT = 300
MAX_OPTION = 200


class InvalidTemplate(SurveyError):
    """`errors` maps a question row's index (or None for the whole list) to a message."""

    def __init__(self, errors: dict[int | None, Any]):
        super().__init__(errors)
        self.errors = errors


class TemplateHasAnswers(SurveyError):
    """The questions (or what it applies to) of a template that has answers cannot change: copy it."""


def check_questions(rows: list[dict[str, Any]], existing: list[dict[str, Any]] | None = None
                    ) -> list[dict[str, Any]]:
    """The questions from the editor's rows ({"id", "kind", "prompt", "options": text or list,
    "required"}): blank rows dropped, ids kept when they are the template's own, new ones given.
    Raises InvalidTemplate: a prompt missing, a choice with fewer than 2 options, more than 10."""
    errors: dict[int | None, Any] = {}
    questions = []
    known = {q["id"] for q in existing or []}
    numbers = [int(qid[1:]) for qid in known if qid[1:].isdigit()]
    next_number = max(numbers, default=0) + 1
    used: set[str] = set()
    for index, row in enumerate(rows):
        prompt = (row.get("prompt") or "").strip()
        options = row.get("options") or []
        if isinstance(options, str):
            options = options.splitlines()
        options = list(dict.fromkeys(option.strip() for option in options if option and option.strip()))
        kind = row.get("kind") or "rating"
        if not prompt and not (kind == "choice" and options):
            continue  # an empty row of the editor
        if kind not in QUESTION_KINDS:
            errors[index] = _l("Choose the kind of question.")
        elif not prompt:
            errors[index] = _l("Write the question.")
        elif len(prompt) > MAX_PROMPT:
            errors[index] = _l("A question has at most %(n)s characters.", n=MAX_PROMPT)
        elif kind == "choice" and len(options) < 2:
            errors[index] = _l("A choice question needs at least 2 options, one per line.")
        elif kind == "choice" and (len(options) > MAX_OPTIONS or any(len(o) > MAX_OPTION for o in options)):
            errors[index] = _l("At most %(n)s options of %(m)s characters each.", n=MAX_OPTIONS, m=MAX_OPTION)
        qid = row.get("id") or ""
        if qid not in known or qid in used:
            qid = f"q{next_number}"
            next_number += 1
        used.add(qid)
        questions.append({"id": qid, "kind": kind, "prompt": prompt,
                          "options": options if kind == "choice" else [], "required": bool(row.get("required"))})
    if len(questions) > MAX_QUESTIONS:
        errors[None] = _l("At most %(n)s questions.", n=MAX_QUESTIONS)
    if errors:
        raise InvalidTemplate(errors)
    return questions


def answer_counts() -> dict[int, int]:
    """How many answers each template has (one query)."""
    return dict(db.session.execute(
        select(SurveyAnswer.template_id, func.count()).group_by(SurveyAnswer.template_id)).all())


def has_answers(template: SurveyTemplate) -> bool:
    return db.session.scalar(select(exists().where(SurveyAnswer.template_id == template.id))) or False


def list_templates() -> list[SurveyTemplate]:
    return list(db.session.scalars(select(SurveyTemplate).order_by(
        SurveyTemplate.applies_to, SurveyTemplate.is_default.desc(), SurveyTemplate.name, SurveyTemplate.id)))


def load_template(template_id: int) -> SurveyTemplate:
    template = db.session.get(SurveyTemplate, template_id)
    if template is None:
        raise NotFound()
    return template


def template_choices(applies_to: str = "session") -> list[tuple[int, str]]:
    """(id, name) of the templates for `applies_to`, e.g. for a session's survey select."""
    return [(t.id, t.name) for t in list_templates() if t.applies_to == applies_to]


def _make_default(template: SurveyTemplate) -> None:
    for other in db.session.scalars(select(SurveyTemplate).where(
            SurveyTemplate.applies_to == template.applies_to, SurveyTemplate.is_default.is_(True),
            SurveyTemplate.id != (template.id or -1))):
        other.is_default = False
    template.is_default = True


def save_template(actor: User, template: SurveyTemplate | None, *, name: str, applies_to: str,
                  rows: list[dict[str, Any]], make_default: bool = False, now: datetime) -> SurveyTemplate:
    """Create or edit a template; commits. The first template for courses (or sessions) becomes
    their default. Raises InvalidTemplate, TemplateHasAnswers (questions or applies_to changed
    on a template that has answers)."""
    if applies_to not in SUBJECT_TYPES:
        raise InvalidTemplate({None: _l("Choose what the survey is for.")})
    questions = check_questions(rows, template.questions if template is not None else None)
    if template is not None and has_answers(template) and (
            questions != template.questions or applies_to != template.applies_to):
        raise TemplateHasAnswers()
    if template is None:
        template = SurveyTemplate(created_by_id=actor.id, created_at=now, is_default=False)
        db.session.add(template)
    elif template.applies_to != applies_to and template.is_default:
        template.is_default = False
    template.name, template.applies_to, template.questions, template.updated_at = name.strip(), applies_to, \
        questions, now
    first = not db.session.scalar(select(exists().where(SurveyTemplate.applies_to == applies_to,
                                                        SurveyTemplate.is_default.is_(True),
                                                        SurveyTemplate.id != (template.id or -1))))
    if make_default or first:
        _make_default(template)
    db.session.flush()
    audit(actor, "survey_template_saved", "survey_template", template.id, name=template.name,
          applies_to=applies_to, questions=len(questions))
    db.session.commit()
    return template


def duplicate_template(actor: User, template: SurveyTemplate, name: str, now: datetime) -> SurveyTemplate:
    """A copy (same questions and ids, not the default) to edit where the original has answers; commits."""
    copy = SurveyTemplate(name=name[:200], applies_to=template.applies_to,
                          questions=[dict(q, options=list(q.get("options") or [])) for q in template.questions],
                          is_default=False, created_by_id=actor.id, created_at=now, updated_at=now)
    db.session.add(copy)
    db.session.flush()
    audit(actor, "survey_template_duplicated", "survey_template", copy.id, source=template.id)
    db.session.commit()
    return copy


def set_default(actor: User, template: SurveyTemplate, now: datetime) -> None:
    """Make `template` the one asked after every course (or session without its own); commits."""
    _make_default(template)
    template.updated_at = now
    audit(actor, "survey_template_default", "survey_template", template.id, applies_to=template.applies_to)
    db.session.commit()
