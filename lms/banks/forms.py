from collections import Counter

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (BooleanField, FieldList, Form, FormField, HiddenField, RadioField, SearchField, SelectField,
                     StringField, TextAreaField)
from wtforms.validators import DataRequired, Length, Optional, Regexp

from lms.content.banks import MAX_QUESTION_TITLE, MAX_TITLE, canonical_number, fill_entry, fill_line, \
    is_correct_scheme, percent
from lms.models import Question
from lms.questions.types import MAX_OPTIONS, MAX_PAIRS, QUESTION_TYPES, FillBlank

from wtforms.fields.choices import SelectChoice as Choice

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
MIN_OPTION_ROWS = 4
MIN_PAIR_ROWS = 3
# Room for the largest question import accepts (finish_question refuses more) plus blank rows to add:
# an edit opens with two spare option rows and one spare pair row.
MAX_ROWS = max(MAX_OPTIONS + 2, MAX_PAIRS + 1)
TYPE_CHOICES = [Choice(name, kind.label) for name, kind in QUESTION_TYPES.items()]
FORMAT_CHOICES = [Choice("", _l("From the file name")), Choice("gift", "GIFT"), Choice("aiken", "Aiken"),
                  Choice("moodlexml", "Moodle XML"), Choice("xlsx", "Excel (.xlsx)"), Choice("csv", "CSV"), Choice("native", _l("Bank file (.yaml)"))]
# How stem and explanation are written (lms.rendering.render_text), in TEXT_FORMATS order.
TEXT_FORMAT_CHOICES = [Choice("markdown", _l("Markdown")), Choice("moodle", _l("Moodle auto-format")),
                       Choice("plain", _l("Plain text")), Choice("html", _l("HTML"))]
STATUS_CHOICES = [Choice("live", _l("In use")), Choice("retired", _l("Retired")), Choice("all", _l("All"))]


class BankForm(FlaskForm):
    slug = StringField(_l("Id"), validators=[
        DataRequired(), Length(max=80),
        Regexp(SLUG_PATTERN, message=_l("Use lowercase letters, digits and single hyphens, like complaint-handling."))])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=MAX_TITLE)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])


class QuestionSearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search: bookmarkable, changes nothing

    q = SearchField(_l("Text or id"), validators=[Optional(), Length(max=100)])
    tag = StringField(_l("Tag"), validators=[Optional(), Length(max=50)])
    type = SelectField(_l("Type"), choices=[Choice("", _l("All types"))] + TYPE_CHOICES, default="",
                       validators=[Optional()])
    status = SelectField(_l("Status"), choices=STATUS_CHOICES, default="live", validators=[Optional()])


class OptionForm(Form):
    text = StringField(_l("Option"), validators=[Optional(), Length(max=2000)])
    correct = BooleanField(_l("Right"))
    weight = StringField(_l("Weight %"), validators=[Optional(), Length(max=12)])
    feedback = StringField(_l("Feedback"), validators=[Optional(), Length(max=2000)])


class PairForm(Form):
    left = StringField(_l("Item"), validators=[Optional(), Length(max=2000)])
    right = StringField(_l("Its match"), validators=[Optional(), Length(max=2000)])


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _text(text: str | None) -> str:
    """A textarea as typed, with the browser's CRLF line breaks as the LF that files and imports use."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n")


class QuestionForm(FlaskForm):
    """Every type's fields; the page shows those of the question's type. `to_mapping` turns the
    form into the native format's mapping, which the same reader as bank files checks."""

    key = StringField(_l("Id"), validators=[
        Optional(), Length(max=80),
        Regexp(SLUG_PATTERN, message=_l("Use lowercase letters, digits and single hyphens, like ch-016."))])
    title = StringField(_l("Question name"), validators=[Optional(), Length(max=MAX_QUESTION_TITLE)])
    format = SelectField(_l("Text format"), choices=TEXT_FORMAT_CHOICES, default="markdown", validators=[Optional()])
    stem = TextAreaField(_l("Question"), validators=[DataRequired(), Length(max=20_000)])
    explanation = TextAreaField(_l("Explanation"), validators=[Optional(), Length(max=20_000)])
    points = StringField(_l("Points"), default="1", validators=[Optional(), Length(max=12)])
    difficulty = SelectField(_l("Difficulty"), default="", choices=[Choice("", _l("Not set"))] + [
        Choice(str(level), str(level)) for level in range(1, 6)], validators=[Optional()])
    tags = StringField(_l("Tags"), validators=[Optional(), Length(max=500)])
    options = FieldList(FormField(OptionForm), min_entries=MIN_OPTION_ROWS, max_entries=MAX_ROWS)
    right = StringField()  # single: the index of the right option (radio buttons named "right")
    answer = RadioField(_l("Answer"), choices=[Choice("true", _l("True")), Choice("false", _l("False"))],
                        validators=[Optional()])
    answers = TextAreaField(_l("Accepted answers"), validators=[Optional(), Length(max=5000)])
    tolerance = StringField(_l("Tolerance"), validators=[Optional(), Length(max=20)])
    pairs = FieldList(FormField(PairForm), min_entries=MIN_PAIR_ROWS, max_entries=MAX_ROWS)
    distractors = TextAreaField(_l("Extra wrong matches"), validators=[Optional(), Length(max=5000)])
    guidance = TextAreaField(_l("Marking guidance"), validators=[Optional(), Length(max=20_000)])
    base_version = HiddenField()

    def to_mapping(self, kind: str) -> dict:
        """The form as a native question mapping (values as typed; the reader checks them)."""
        mapping: dict = {"stem": _text(self.stem.data)}
        if (self.title.data or "").strip():
            mapping["title"] = self.title.data.strip()
        if self.format.data and self.format.data != "markdown":
            mapping["format"] = self.format.data  # kept whenever it is not the default: an edit never converts
        if (self.explanation.data or "").strip():
            mapping["explanation"] = _text(self.explanation.data)
        if (self.points.data or "").strip():
            mapping["points"] = self.points.data.strip()
        if self.difficulty.data:
            mapping["difficulty"] = self.difficulty.data
        tags = [tag.strip() for tag in (self.tags.data or "").replace("，", ",").split(",") if tag.strip()]
        if tags:
            mapping["tags"] = tags
        if kind in ("single", "multi"):
            mapping["options"] = self._options(kind)
        elif kind == "truefalse":
            if self.answer.data in ("true", "false"):
                mapping["answer"] = self.answer.data == "true"
        elif kind == "fill":
            numeric = bool((self.tolerance.data or "").strip())
            mapping["answers"] = [fill_entry(line, numeric) for line in _lines(self.answers.data)]
            if numeric:
                mapping["tolerance"] = self.tolerance.data.strip()
        elif kind == "matching":
            mapping["pairs"] = [[row.left.data or "", row.right.data or ""] for row in self.pairs
                                if (row.left.data or "").strip() or (row.right.data or "").strip()]
            if _lines(self.distractors.data):
                mapping["distractors"] = _lines(self.distractors.data)
        elif kind == "essay" and (self.guidance.data or "").strip():
            mapping["guidance"] = _text(self.guidance.data)
        return mapping

    def _options(self, kind: str) -> list[dict]:
        options = []
        weighted = any((row.weight.data or "").strip() for row in self.options)
        for index, row in enumerate(self.options):
            if not (row.text.data or "").strip():
                continue
            option: dict = {"text": row.text.data}
            if weighted:
                option["weight"] = (row.weight.data or "").strip().rstrip("%") or "0"
            elif kind == "single" and self.right.data == str(index) \
                    or kind == "multi" and row.correct.data:
                option["correct"] = True
            if (row.feedback.data or "").strip():
                option["feedback"] = row.feedback.data
            options.append(option)
        return options

    def add_rows(self, kind: str, count: int = 2) -> None:
        rows = self.pairs if kind == "matching" else self.options
        for _index in range(count):
            if len(rows) < MAX_ROWS:
                rows.append_entry()

    def fill_from(self, question: Question) -> None:
        """Start an edit from the question's current version."""
        version = question.current
        data = version.data
        self.stem.data, self.explanation.data = version.stem, version.explanation
        self.title.data = getattr(question, "title", "") or ""
        self.format.data = getattr(version, "text_format", "") or "markdown"
        self.points.data = str(canonical_number(version.points))
        self.difficulty.data = str(question.difficulty or "")
        self.tags.data = ", ".join(question.tags or [])
        self.base_version.data = str(question.version)
        if question.type in ("single", "multi"):
            weights = [option.get("weight", 0.0) for option in data["options"]]
            plain = is_correct_scheme(question.type, weights)
            _reset(self.options, len(data["options"]) + 2, MIN_OPTION_ROWS)
            for index, (row, option) in enumerate(zip(self.options, data["options"])):
                row.text.data = option["text"]
                row.feedback.data = option.get("feedback", "")
                if plain:
                    row.correct.data = option.get("weight", 0) > 0
                    if question.type == "single" and option.get("weight", 0) == 1.0:
                        self.right.data = str(index)
                else:
                    row.weight.data = f"{percent(option.get('weight', 0.0))}"
        elif question.type == "truefalse":
            self.answer.data = "true" if data["answer"] else "false"
        elif question.type == "fill":
            accepted = FillBlank.accepted(data)
            # The margin most answers share goes in the tolerance field; the others are written `answer:margin`.
            tolerance = Counter(margin for _answer, _weight, margin in accepted).most_common(1)[0][0] \
                if "tolerance" in data else None
            self.answers.data = "\n".join(fill_line(answer, weight, margin, tolerance)
                                          for answer, weight, margin in accepted)
            self.tolerance.data = str(canonical_number(tolerance)) if tolerance is not None else ""
        elif question.type == "matching":
            _reset(self.pairs, len(data["pairs"]) + 1, MIN_PAIR_ROWS)
            for row, pair in zip(self.pairs, data["pairs"]):
                row.left.data, row.right.data = pair["left"], pair["right"]
            self.distractors.data = "\n".join(item["text"] for item in data.get("distractors", []))
        elif question.type == "essay":
            self.guidance.data = data.get("guidance", "")


def _reset(rows: FieldList, count: int, minimum: int) -> None:
    while len(rows):
        rows.pop_entry()
    # Capped: a question stored before import enforced the limit opens with its first rows (saving it
    # then asks to remove options), instead of failing.
    for _index in range(min(max(count, minimum), MAX_ROWS)):
        rows.append_entry()


class UploadForm(FlaskForm):
    file = FileField(_l("File"), validators=[FileRequired(message=_l("Choose a file."))])
    bank = StringField(_l("Bank id"), validators=[
        Optional(), Length(max=80),
        Regexp(SLUG_PATTERN, message=_l("Use lowercase letters, digits and single hyphens, like complaint-handling."))])
    format = SelectField(_l("Format"), choices=FORMAT_CHOICES, default="", validators=[Optional()])


class ConfirmForm(FlaskForm):
    token = HiddenField(validators=[DataRequired()])


class ActionForm(FlaskForm):
    """A button that changes something (retire, restore): only the CSRF token."""
