"""Question bank files in the native format: `question_banks/<slug>.yaml`.

    slug: complaint-handling            bank: slug, title, description, questions
    title: 投诉处理题库
    questions:
      - id: ch-001                      question: id, title (a name in any language, never the id),
        type: single                    type, tags, difficulty, points, format (markdown, moodle,
        stem: 客户第三次来电……             plain or html; default markdown), stem, explanation, and
                                        the keys of its type (below)
        options:
          - {text: 道歉并复述问题, correct: true, feedback: ……}
          - {text: 直接转维修部门}

    single, multi   options: [{text, correct | weight (percent, -100..100), feedback}]; a single
                    question may have several right options (any one earns full marks)
    truefalse       answer: true | false
    fill            answers: [text, ...]   or   answers: [number, ...] with tolerance: number;
                    an answer may be {answer, weight (percent, partial credit), tolerance (its own)}
    matching        pairs: [[left, right], ...], distractors: [text, ...]
    essay           guidance: text for the marker

Parsing is pure: text and path in, `ParsedBank` (questions as `QuestionSpec`, whose `data` has the
exact shapes of `lms.questions.types`) and errors naming `path:line` out. The GIFT, Aiken and
spreadsheet formats build the same `QuestionSpec`s, and the browser's question form goes through
`read_question` here, so every way in checks a question the same way.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, Iterable

import yaml

from lms.content.errors import ContentError, Text, listed
from lms.content.errors import _l
from lms.content.fields import field_name
from lms.content.yaml_loader import YamlProblem, compose, construct_scalar
from lms.questions.types import MAX_OPTIONS, MAX_PAIRS, QUESTION_TYPES

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
RESERVED_SLUGS = {"new", "import"}  # taken by the authoring pages' own addresses
BLANK = "____"  # where the answer goes in a fill-in or missing-word stem
MAX_KEY = 80
MAX_TITLE = 200
MAX_QUESTION_TITLE = 255  # a question's name, as Moodle allows
# How a question's text (stem and explanation) is written; lms.rendering.render_text shows each.
# markdown is the native default; moodle (Moodle's "auto-format": text with line breaks, HTML kept),
# plain and html come from Moodle's files.
TEXT_FORMATS = ("markdown", "moodle", "plain", "html")
MAX_TAG = 50
MAX_TEXT = 20_000
MAX_POINTS = 1000

BANK_KEYS = ("slug", "title", "description", "questions")
COMMON_KEYS = ("id", "title", "type", "tags", "difficulty", "points", "format", "stem", "explanation")
TYPE_KEYS = {
    "single": ("options",),
    "multi": ("options",),
    "truefalse": ("answer",),
    "fill": ("answers", "tolerance"),
    "matching": ("pairs", "distractors"),
    "essay": ("guidance",),
}
QUESTION_KEYS = COMMON_KEYS + ("options", "answer", "answers", "tolerance", "pairs", "distractors", "guidance")
OPTION_KEYS = ("text", "correct", "weight", "feedback")
ANSWER_KEYS = ("answer", "weight", "tolerance")  # a fill answer written as a mapping


# --- Specs ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class QuestionSpec:
    key: str
    type: str
    stem: str
    data: dict
    tags: tuple[str, ...] = ()
    difficulty: int | None = None
    points: float = 1.0
    explanation: str = ""
    line: int = field(default=0, compare=False)  # where the question starts in its file
    title: str = ""  # the question's name (Moodle's "::name::"): a label, any script, never its id
    text_format: str = "markdown"  # one of TEXT_FORMATS, for the stem and the explanation

    @property
    def content_hash(self) -> str:
        """What a version holds; the title, tags and difficulty live on the question and make no version."""
        return content_hash(self.type, self.stem, self.explanation, self.points, self.data, self.text_format)


def content_hash(kind: str, stem: str, explanation: str, points: float, data: dict,
                 text_format: str = "markdown") -> str:
    content = {"type": kind, "stem": stem, "explanation": explanation, "points": float(points), "data": data}
    if text_format != "markdown":  # the default stays out, so versions saved before formats keep their hash
        content["format"] = text_format
    payload = json.dumps(content, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class BankSpec:
    slug: str
    title: str
    description: str
    questions: tuple[QuestionSpec, ...]
    path: str = ""  # the file, as errors name it
    source_hash: str = ""


@dataclass
class ParsedBank:
    """What any bank format gives: questions, problems and warnings (things dropped on the way in).

    Only the native format names its bank (slug, title, description); the others leave them None.
    """
    path: str
    questions: list[QuestionSpec] = field(default_factory=list)
    errors: list[ContentError] = field(default_factory=list)
    warnings: list[ContentError] = field(default_factory=list)
    slug: str | None = None
    title: str | None = None
    description: str | None = None
    slug_line: int = 1
    source_hash: str = ""


@dataclass(frozen=True)
class Problem:
    line: int
    message: Text  # translated when shown (lms.content.errors)
    field: str | None = None  # the key it is about, so a form can show it beside its field


class Reporter:
    """Collects problems with their line (and key), for a file (`rows` for a spreadsheet, whose
    lines are rows) or for a form (`form`: messages name fields in words only, a form has no keys)."""

    def __init__(self, path: str = "", *, rows: bool = False, form: bool = False):
        self.path = path
        self.unit = "row" if rows else "line"
        self.form = form
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    def field(self, key: str) -> Text:
        """How messages name `key`: in words, then as the file writes it (the words only in a form)."""
        return field_name(key, with_key=not self.form)

    def error(self, line: int, message: Text, field: str | None = None) -> None:
        self.problems.append(Problem(line, message, field))

    def warn(self, line: int, message: Text) -> None:
        self.warnings.append(Problem(line, message))

    @property
    def count(self) -> int:
        return len(self.problems)

    def errors(self) -> list[ContentError]:
        return [ContentError(self.path, problem.line, problem.message, self.unit) for problem in self.problems]

    def warning_list(self) -> list[ContentError]:
        return [ContentError(self.path, problem.line, problem.message, self.unit) for problem in self.warnings]


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def slugify(text: str, limit: int = MAX_KEY) -> str:
    """Lowercase ASCII letters, digits and single hyphens; "" when nothing of the kind is left."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-")[:limit].strip("-")


def generated_key(title: str, content: str) -> str:
    """The id of a question that came without one, from its title and whole content (`content_hash`):
    the same question gets the same id again (a re-import updates nothing), and two different questions
    never share one, whatever their names. 64 bits: no accidental collision among millions."""
    return "q-" + hashlib.sha256(f"{title}\n{content}".encode("utf-8")).hexdigest()[:16]


def unique_key(key: str, seen) -> str:
    """`key`, or `key-2`, `key-3`... the first not in `seen` (ids already given in the same file)."""
    if key not in seen:
        return key
    number = 2
    while f"{key[:MAX_KEY - 4]}-{number}" in seen:
        number += 1
    return f"{key[:MAX_KEY - 4]}-{number}"


def explicit_key(raw: str) -> str:
    """A question's id from an id given in a file (`// [id:...]`, Moodle's idnumber): kept when it is
    already an id (letters folded to lowercase, as in CH-001), else its letters and digits with a short
    hash of the whole, so `服务-1` and `投诉-1` stay two ids. "" for an empty id."""
    raw = raw.strip()
    if not raw:
        return ""
    folded = unicodedata.normalize("NFKC", raw).lower()
    if SLUG.match(folded) and len(folded) <= MAX_KEY:
        return folded
    tag = hashlib.sha256(raw.encode("utf-8")).hexdigest()[:8]
    base = slugify(raw, MAX_KEY - 9)
    return f"{base}-{tag}" if base else f"id-{tag}"


def canonical_number(value: float) -> int | float:
    """Whole numbers as int, others as float, so 3 and 3.0 hash alike whatever the format."""
    value = float(value)
    return int(value) if value.is_integer() and abs(value) < 2 ** 53 else value


def fraction(percent: float) -> float:
    """Percent (files) to fraction (data), rounded so a percent written back reads back the same."""
    return round(float(percent) / 100, 7) + 0.0  # + 0.0 turns -0.0 into 0.0


def percent(weight: float) -> int | float:
    return canonical_number(round(weight * 100, 5))


# --- YAML that remembers lines ----------------------------------------------------------------------

class Map(dict):
    """A YAML mapping that knows its line, its keys' lines and each scalar's source text."""

    def __init__(self, line: int = 0):
        super().__init__()
        self.line = line
        self.key_lines: dict[str, int] = {}
        self.raw: dict[str, str] = {}


class Seq(list):
    def __init__(self, line: int = 0):
        super().__init__()
        self.line = line
        self.item_lines: list[int] = []
        self.raw: list[str | None] = []


def with_line(value: Any, line: int) -> Any:
    """Plain dicts and lists (a spreadsheet row, a form) as Map/Seq that place everything on `line`."""
    if isinstance(value, dict):
        result = Map(line)
        for key, item in value.items():
            result[key] = with_line(item, line)
        return result
    if isinstance(value, list):
        result = Seq(line)
        for item in value:
            result.append(with_line(item, line))
            result.item_lines.append(line)
            result.raw.append(None)
        return result
    return value


def line_of(container: Any, key: str | None = None, default: int = 0) -> int:
    if isinstance(container, Map):
        return container.key_lines.get(key, container.line) if key else container.line
    if isinstance(container, Seq):
        return container.line
    return default


def item_line(seq: Any, index: int, default: int = 0) -> int:
    if isinstance(seq, Seq) and index < len(seq.item_lines):
        return seq.item_lines[index]
    return default


def _raw(container: Any, key) -> str | None:
    if isinstance(container, Map):
        return container.raw.get(key)
    if isinstance(container, Seq) and isinstance(key, int) and key < len(container.raw):
        return container.raw[key]
    return None


def load_yaml(text: str, report: Reporter) -> Any:
    """The YAML document as Map/Seq/scalars; None (and a problem) when it cannot be read. The shared
    content reader refuses aliases, deep nesting, long numbers and unusual types (see yaml_loader)."""
    try:
        node = compose(text)
    except YamlProblem as problem:
        report.error(problem.line, _l("the file is not valid YAML: %(problem)s", problem=problem.message)
                     if problem.syntax else problem.message)
        return None
    return _build(node, report) if node is not None else None


def _build(node: yaml.Node, report: Reporter) -> Any:
    """Map/Seq/scalars from a checked node tree (at most yaml_loader.MAX_DEPTH deep)."""
    if isinstance(node, yaml.MappingNode):
        result = Map(node.start_mark.line + 1)
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                report.error(line, _l("a key must be a plain name, not a list or a mapping"))
                continue
            key = construct_scalar(key_node)
            key = str(key) if not isinstance(key, str) else key
            if key in result.key_lines:
                report.error(line, _l("%(field)s cannot be given twice (first on line %(line)s)",
                                      field=report.field(key), line=result.key_lines[key]), key)
            result[key] = _build(value_node, report)
            result.key_lines[key] = line
            if isinstance(value_node, yaml.ScalarNode):
                result.raw[key] = value_node.value
        return result
    if isinstance(node, yaml.SequenceNode):
        result = Seq(node.start_mark.line + 1)
        for item in node.value:
            result.append(_build(item, report))
            result.item_lines.append(item.start_mark.line + 1)
            result.raw.append(item.value if isinstance(item, yaml.ScalarNode) else None)
        return result
    return construct_scalar(node)


# --- Reading values --------------------------------------------------------------------------------

def _as_text(value: Any, raw: str | None) -> str | None:
    """A scalar as the text its author typed: `yes` stays "yes", `3.50` stays "3.50"."""
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, (dict, list)):
        return None
    if raw is not None:
        return raw
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, date)):
        return str(value)
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip().replace(",", "")
        try:
            number = float(text)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _text(mapping, key: str, report: Reporter, *, required: bool = False, limit: int = MAX_TEXT,
          strip: bool = True, literal: bool = False) -> str:
    """Text as typed. Only a `literal` value (an option's text, where `yes` or `no` is a fair answer)
    takes a YAML true/false or date as the words written; elsewhere they are refused, as in every
    content format (lms.content.fields)."""
    value = mapping.get(key)
    text = _as_text(value, _raw(mapping, key)) if literal or not isinstance(value, (bool, date)) else None
    if value is None or (text is not None and not text.strip()):
        if required:
            report.error(line_of(mapping, key), _l("%(field)s must be given", field=report.field(key)), key)
        return ""
    if text is None:
        report.error(line_of(mapping, key), _l("%(field)s must be text", field=report.field(key)), key)
        return ""
    text = text.strip() if strip else text
    if len(text) > limit:
        report.error(line_of(mapping, key), _l("%(field)s is longer than %(limit)s characters", field=report.field(key),
                                               limit=limit), key)
    return text


def _text_list(mapping, key: str, report: Reporter, *, what: str) -> list[str] | None:
    value = mapping.get(key)
    if value is None:
        return None
    if not isinstance(value, list):
        report.error(line_of(mapping, key), _l("%(field)s must be a list, like [%(what)s]", field=report.field(key),
                                                what=what), key)
        return None
    texts = []
    for index, item in enumerate(value):
        text = _as_text(item, _raw(value, index))
        if text is None or not text.strip():
            report.error(item_line(value, index, line_of(mapping, key)),
                         _l("item %(n)s of %(field)s must be non-empty text", n=index + 1, field=report.field(key)),
                         key)
            continue
        texts.append(text.strip())
    return texts


def _key(mapping, report: Reporter) -> str:
    key = _text(mapping, "id", report, required=True, limit=MAX_KEY)
    if key and not SLUG.match(key):
        report.error(line_of(mapping, "id"), _bad_key(key, report.field("id")), "id")
    return key


def _bad_key(key: str, field: Text) -> Text:
    return _l("%(field)s %(id)r may hold only lowercase letters, digits and single hyphens, like ch-001", field=field,
              id=key)


def check_key(key: str, *, form: bool = False) -> Text | None:
    """Why `key` cannot be a question id, or None (`form`: said for a form, which has no keys)."""
    field = field_name("id", with_key=not form)
    if not key:
        return _l("%(field)s must be given", field=field)
    if len(key) > MAX_KEY:
        return _l("%(field)s is longer than %(limit)s characters", field=field, limit=MAX_KEY)
    if not SLUG.match(key):
        return _bad_key(key, field)
    return None


# --- One question ----------------------------------------------------------------------------------

def read_question(item: Any, report: Reporter, *, kind: str | None = None, key: str | None = None,
                  line: int = 0) -> QuestionSpec | None:
    """A question from its native mapping (a file's list item, a spreadsheet row, a web form).

    `kind` and `key`, when given, come from elsewhere (the form's fixed type and id) and win over
    the mapping's. Problems go to `report` at the line of the key they are about; the type's own
    checks (`QUESTION_TYPES[type].validate`) at the question's line. Returns None on any problem.
    """
    line = line_of(item, None, line)
    if isinstance(item, dict) and not isinstance(item, Map):
        item = with_line(item, line)  # a row or a form: every problem is on the question's line
    if not isinstance(item, dict):
        report.error(line, _l("each question is a list of 'key: value' lines starting with '- id:'"))
        return None
    before = report.count
    if key is None:
        key = _key(item, report)
    if kind is None:
        kind = item.get("type")
        if not isinstance(kind, (str, type(None))):
            report.error(line_of(item, "type"), _bad_type(kind, report), "type")
            kind = None
        elif kind is None:
            report.error(line_of(item, "type"), _l("%(field)s must be given", field=report.field("type")), "type")
        elif kind not in QUESTION_TYPES:
            report.error(line_of(item, "type"), _bad_type(kind, report), "type")
            kind = None
    for name in item:
        if name not in QUESTION_KEYS:
            report.error(line_of(item, name), _l("unknown key '%(key)s' (allowed: %(allowed)s)", key=name,
                                                 allowed=listed(QUESTION_KEYS)), name)
        elif kind and name not in COMMON_KEYS and name not in TYPE_KEYS[kind]:
            report.error(line_of(item, name), _l("a question of the type %(type)s does not take %(field)s",
                                                 type=QUESTION_TYPES[kind].label, field=report.field(name)), name)
    tags = _tags(item, report)
    difficulty = _difficulty(item, report)
    points = _points(item, report)
    title = _text(item, "title", report, limit=MAX_QUESTION_TITLE)
    text_format = _text(item, "format", report) or "markdown"
    if text_format not in TEXT_FORMATS:
        report.error(line_of(item, "format"), _l("%(field)s must be %(formats)s, not %(value)r",
                                                 field=report.field("format"),
                                                 formats=listed(TEXT_FORMATS, style="or"), value=text_format),
                     "format")
    stem = _text(item, "stem", report, required=True)
    explanation = _text(item, "explanation", report)
    data = READERS[kind](item, report) if kind else None
    if report.count > before or data is None:
        return None
    return finish_question(report, line, key=key, kind=kind, stem=stem, data=data, tags=tags,
                           difficulty=difficulty, points=points, explanation=explanation, title=title,
                           text_format=text_format)


def _bad_type(kind: Any, report: Reporter) -> Text:
    return _l("%(field)s must be %(types)s, not %(value)r", field=report.field("type"),
              types=listed(QUESTION_TYPES, style="or"), value=kind)


def finish_question(report: Reporter, line: int, *, key: str, kind: str, stem: str, data: dict,
                    tags: Iterable[str] = (), difficulty: int | None = None, points: float = 1.0,
                    explanation: str = "", title: str = "", text_format: str = "markdown") -> QuestionSpec | None:
    """The last step of every format: the type's own checks, then the spec. A question without an
    id (`key` "") gets `generated_key` from its title and content."""
    before = report.count
    title = " ".join(title.split())
    if len(title) > MAX_QUESTION_TITLE:
        report.error(line, _l("the title is longer than %(limit)s characters", limit=MAX_QUESTION_TITLE), "title")
    if not stem.strip():
        report.error(line, _l("the question has no text (stem)"), "stem")
    # The editor shows at most this many rows (lms/banks/forms.py): what it cannot open is refused here.
    if kind in ("single", "multi") and len(data.get("options") or []) > MAX_OPTIONS:
        report.error(line, _l("a question has at most %(limit)s options, this one has %(count)s",
                              limit=MAX_OPTIONS, count=len(data["options"])), "options")
    if kind == "matching" and len(data.get("pairs") or []) > MAX_PAIRS:
        report.error(line, _l("a matching question has at most %(limit)s pairs, this one has %(count)s",
                              limit=MAX_PAIRS, count=len(data["pairs"])), "pairs")
    for problem in QUESTION_TYPES[kind].validate(data):
        report.error(line, problem, TYPE_KEYS[kind][0])
    if report.count > before:
        return None
    spec = QuestionSpec(key=key, type=kind, stem=stem.strip(), data=data, tags=tuple(dict.fromkeys(tags)),
                        difficulty=difficulty, points=float(points), explanation=explanation.strip(), line=line,
                        title=title, text_format=text_format)
    return spec if key else replace(spec, key=generated_key(title, spec.content_hash))


def _tags(item, report: Reporter) -> tuple[str, ...]:
    tags = _text_list(item, "tags", report, what="流程, 首问负责") or []
    for tag in tags:
        if len(tag) > MAX_TAG:
            report.error(line_of(item, "tags"), _l("tag %(tag)r is longer than %(limit)s characters", tag=tag,
                                                   limit=MAX_TAG), "tags")
    return tuple(dict.fromkeys(tags))


def _difficulty(item, report: Reporter) -> int | None:
    value = item.get("difficulty")
    if value is None or value == "":
        return None
    number = _number(value)
    if number is None or not number.is_integer() or not 1 <= number <= 5:
        report.error(line_of(item, "difficulty"), _l("%(field)s must be a whole number from 1 (easy) to 5 (hard), "
                                                     "not %(value)r", field=report.field("difficulty"), value=value),
                     "difficulty")
        return None
    return int(number)


def _points(item, report: Reporter) -> float:
    value = item.get("points")
    if value is None or value == "":
        return 1.0
    number = _number(value)
    if number is None or not 0 < number <= MAX_POINTS:
        report.error(line_of(item, "points"), _l("%(field)s must be a number above 0 and at most %(max)s, not "
                                                 "%(value)r", field=report.field("points"), max=MAX_POINTS,
                                                 value=value), "points")
        return 1.0
    return number


def _options(item, report: Reporter, kind: str) -> dict | None:
    options = item.get("options")
    line = line_of(item, "options")
    if not isinstance(options, list) or not options:
        report.error(line, _l("%(field)s must be a list of options, each '- text: ...'", field=report.field("options")),
                     "options")
        return None
    before = report.count
    uses_weight = any(isinstance(o, dict) and o.get("weight") is not None for o in options)
    uses_correct = any(isinstance(o, dict) and o.get("correct") is True for o in options)
    if uses_weight and uses_correct:
        report.error(line, _l("give every option a 'weight', or mark the right ones 'correct: true', not both"),
                     "options")
    parsed = []
    for index, option in enumerate(options):
        at = item_line(options, index, line)
        if not isinstance(option, dict):
            report.error(at, _l("option %(n)s must be 'text: ...' with optional %(keys)s", n=index + 1,
                                keys=listed(("correct", "weight", "feedback"))), "options")
            continue
        for name in option:
            if name not in OPTION_KEYS:
                report.error(line_of(option, name, at), _l("unknown key '%(key)s' in an option (allowed: "
                                                           "%(allowed)s)", key=name, allowed=listed(OPTION_KEYS)),
                             "options")
        text = _text(option, "text", report, required=True, limit=2000, literal=True)
        feedback = _text(option, "feedback", report, limit=2000)
        correct = option.get("correct", False)
        if not isinstance(correct, bool):
            report.error(line_of(option, "correct", at), _l("%(field)s must be true or false",
                                                            field=report.field("correct")), "options")
        weight = None
        if option.get("weight") is not None:
            weight = _number(option["weight"])
            if weight is None or not -100 <= weight <= 100:
                report.error(line_of(option, "weight", at), _l("%(field)s is a percent from -100 to 100, not "
                                                               "%(value)r", field=report.field("weight"),
                                                               value=option["weight"]), "options")
                weight = None
        parsed.append((text, correct is True, weight, feedback))
    if report.count > before:
        return None
    if uses_weight:
        weights = snap_weights(kind, [fraction(weight or 0) for _text_, _correct, weight, _fb in parsed])
    else:
        weights = correct_weights(kind, [correct for _text_, correct, _weight, _fb in parsed])
    return {"options": [{"id": f"o{index}", "text": text, "weight": weight, "feedback": feedback}
                        for index, ((text, _correct, _weight, feedback), weight)
                        in enumerate(zip(parsed, weights), start=1)]}


def correct_weights(kind: str, correct: list[bool]) -> list[float]:
    """`correct: true` as weights: the right options share +100%; in a multi question the wrong ones
    share -100%, so ticking everything scores nothing."""
    right = sum(correct)
    wrong = len(correct) - right
    if kind == "single":
        return [1.0 if flag else 0.0 for flag in correct]
    if not right:
        return [0.0] * len(correct)
    return [1 / right if flag else (-1 / wrong if wrong else 0.0) for flag in correct]


def snap_weights(kind: str, weights: list[float]) -> list[float]:
    """Rounded percents (33.33333%) that are the shares `correct: true` gives become those exact
    shares, so three right options of a third each still add up to full marks."""
    scheme = correct_weights(kind, [weight > 0 for weight in weights])
    if all(abs(weight - share) < 1e-6 for weight, share in zip(weights, scheme)):
        return scheme
    return weights


def is_correct_scheme(kind: str, weights: list[float]) -> bool:
    """Whether `weights` are exactly what `correct: true` marks would give (to write them that way)."""
    if kind == "single" and weights.count(1.0) != 1:
        return False
    return weights == correct_weights(kind, [weight > 0 for weight in weights])


def _truefalse(item, report: Reporter) -> dict | None:
    answer = item.get("answer")
    if not isinstance(answer, bool):
        report.error(line_of(item, "answer"), _l("%(field)s must be true or false", field=report.field("answer")),
                     "answer")
        return None
    return {"answer": answer}


def _fill(item, report: Reporter) -> dict | None:
    """Accepted answers: each a text (or number), or `{answer, weight, tolerance}` for partial credit
    (weight a percent above 0) or its own margin. A tolerance, on the question or on an answer, makes
    the answers numbers."""
    line = line_of(item, "answers")
    answers = item.get("answers")
    if not isinstance(answers, list) or not answers:
        report.error(line, _l("give at least one accepted answer") if report.form else
                     _l("%(field)s must be a list of accepted answers, like [\"24\", 二十四]",
                        field=report.field("answers")), "answers")
        return None
    before = report.count
    default = None
    if item.get("tolerance") is not None:
        default = _number(item["tolerance"])
        if default is None or default < 0:
            report.error(line_of(item, "tolerance"), _l("%(field)s must be a number of at least 0, not %(value)r",
                                                        field=report.field("tolerance"), value=item["tolerance"]),
                         "tolerance")
            return None
    entries = []  # (value, raw text, weight, margin or None, line)
    for index, value in enumerate(answers):
        at = item_line(answers, index, line)
        weight, margin = 1.0, None
        if isinstance(value, dict):
            for name in value:
                if name not in ANSWER_KEYS:
                    report.error(line_of(value, name, at), _l("unknown key '%(key)s' in an answer (allowed: "
                                                              "%(allowed)s)", key=name, allowed=listed(ANSWER_KEYS)),
                                 "answers")
            if value.get("weight") is not None:
                percent_value = _number(value["weight"])
                if percent_value is None or not 0 < percent_value <= 100:
                    report.error(line_of(value, "weight", at), _l("the weight of an answer is a percent above 0 and "
                                                                  "at most 100, not %(value)r", value=value["weight"]),
                                 "answers")
                else:
                    weight = fraction(percent_value)
            if value.get("tolerance") is not None:
                margin = _number(value["tolerance"])
                if margin is None or margin < 0:
                    report.error(line_of(value, "tolerance", at), _l("%(field)s must be a number of at least 0, "
                                                                     "not %(value)r", field=report.field("tolerance"),
                                                                     value=value["tolerance"]),
                                 "answers")
                    margin = None
            raw, value = _raw(value, "answer"), value.get("answer")
        else:
            raw = _raw(answers, index)
        text = _as_text(value, raw)
        if text is None or not text.strip():
            report.error(at, _l("item %(n)s of %(field)s must be non-empty text", n=index + 1,
                                field=report.field("answers")),
                         "answers")
            continue
        entries.append((value, text.strip(), weight, margin, at))
    if report.count > before:
        return None
    weights = [weight for _value, _text_, weight, _margin, _at in entries]
    numeric = default is not None or any(margin is not None for *_rest, margin, _at in entries)
    if not numeric:
        return fill_data([text for _value, text, *_rest in entries], weights)
    else:
        numbers = []
        for value, text, _weight, _margin, at in entries:
            number = _number(value)
            if number is None:
                report.error(at, _l("with a tolerance every answer must be a number, not %(value)r", value=text),
                             "answers")
            numbers.append(number)
        if report.count > before:
            return None
        margins = [canonical_number(margin if margin is not None else default or 0)
                   for _value, _text_, _weight, margin, _at in entries]
        return fill_data([canonical_number(number) for number in numbers], weights, margins)


# An accepted answer's line: `%50% 二十四` is worth 50% (GIFT's way of writing it); anything between two
# percent signs is taken for a weight, so the reader reports `%half% x` instead of accepting it as text.
ANSWER_WEIGHT = re.compile(r"^%([^%\s]*)%\s*")
ANSWER_MARGIN = re.compile(r"[:：]([^:：]*)$")  # numeric answers: `3.5:0.5` is 3.5 within ±0.5


def fill_entry(line: str, numeric: bool) -> str | dict:
    """An accepted answer written as one line (the editor's accepted-answers field, a spreadsheet
    cell) as the native format writes it: the text, or `{answer, weight, tolerance}` when the line
    gives a weight or (numeric answers) its own margin. Values stay as typed: `read_question` checks
    them and names what is wrong."""
    item: dict = {}
    weight = ANSWER_WEIGHT.match(line)
    if weight:
        item["weight"], line = weight.group(1), line[weight.end():]
    margin = ANSWER_MARGIN.search(line) if numeric else None
    if margin:
        item["tolerance"], line = margin.group(1).strip(), line[:margin.start()].strip()
    return {"answer": line, **item} if item else line


def fill_line(answer, weight: float, margin: float | None, tolerance: float | None) -> str:
    """What `fill_entry` reads back as this answer: `%weight%` unless it is worth 100%, `:margin` when
    it differs from the question's tolerance. An answer that itself starts like a weight gets `%100%`."""
    text = str(canonical_number(answer)) if margin is not None else str(answer)
    if margin is not None and margin != tolerance:
        text += f":{canonical_number(margin)}"
    if weight != 1 or ANSWER_WEIGHT.match(text):
        text = f"%{percent(weight)}% {text}"
    return text


def fill_data(answers: list, weights: list[float], margins: list | None = None) -> dict:
    """A fill question's data from its accepted answers, each answer's weight and, for numbers, each
    answer's margin: `weights` only when an answer is worth less than 100 %, one `tolerance` when
    the answers share their margin, else the first answer's and each one's in `tolerances`."""
    data: dict = {"answers": answers}
    if margins is not None:
        data["tolerance"] = margins[0]
        if len(set(margins)) > 1:
            data["tolerances"] = margins
    if any(weight < 1 for weight in weights):
        data["weights"] = weights
    return data


def finite_float(text: str) -> float | None:
    """A number written as text, or None (also for inf and nan)."""
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _matching(item, report: Reporter) -> dict | None:
    pairs = item.get("pairs")
    line = line_of(item, "pairs")
    if not isinstance(pairs, list) or not pairs:
        report.error(line, _l("%(field)s must be a list of [item, match] pairs", field=report.field("pairs")), "pairs")
        return None
    before = report.count
    result = []
    for index, pair in enumerate(pairs):
        at = item_line(pairs, index, line)
        texts = [_as_text(value, _raw(pair, position)) for position, value in enumerate(pair)] \
            if isinstance(pair, list) else []
        if len(texts) != 2 or not all(text and text.strip() for text in texts):
            report.error(at, _l("pair %(n)s must be [item, match], two pieces of text", n=index + 1), "pairs")
            continue
        result.append({"id": f"p{index + 1}", "left": texts[0].strip(), "right": texts[1].strip()})
    distractors = _text_list(item, "distractors", report, what="一周内") or []
    if report.count > before:
        return None
    return {"pairs": result,
            "distractors": [{"id": f"d{index}", "text": text} for index, text in enumerate(distractors, start=1)]}


def _essay(item, report: Reporter) -> dict | None:
    return {"guidance": _text(item, "guidance", report)}


READERS = {
    "single": lambda item, report: _options(item, report, "single"),
    "multi": lambda item, report: _options(item, report, "multi"),
    "truefalse": _truefalse,
    "fill": _fill,
    "matching": _matching,
    "essay": _essay,
}


# --- A bank file -----------------------------------------------------------------------------------

def parse_bank(text: str, path: str) -> ParsedBank:
    """Parse one native bank file. Every problem names `path:line`."""
    result = ParsedBank(path=path, source_hash=digest(text))
    report = Reporter(path)
    document = load_yaml(text.lstrip("\ufeff"), report)
    if report.count:
        result.errors = report.errors()
        return result
    if not isinstance(document, Map):
        report.error(line_of(document, None, 1), _l("a bank file is a list of 'key: value' lines: %(keys)s",
                                                    keys=listed(BANK_KEYS)))
        result.errors = report.errors()
        return result
    for name in document:
        if name not in BANK_KEYS:
            report.error(line_of(document, name), _l("unknown key '%(key)s' (allowed: %(allowed)s)", key=name,
                                                     allowed=listed(BANK_KEYS)))
    slug = _text(document, "slug", report, required=True, limit=MAX_KEY)
    if slug and not SLUG.match(slug):
        report.error(line_of(document, "slug"), _l("%(field)s %(value)r may hold only lowercase letters, digits and "
                                                   "single hyphens", field=report.field("slug"), value=slug))
    elif slug in RESERVED_SLUGS:
        report.error(line_of(document, "slug"), _l("the id %(slug)r is reserved; choose another", slug=slug))
    result.slug, result.slug_line = slug, line_of(document, "slug", 1)
    result.title = _text(document, "title", report, required=True, limit=MAX_TITLE)
    result.description = _text(document, "description", report, limit=MAX_TEXT)
    questions = document.get("questions")
    if not isinstance(questions, list):
        report.error(line_of(document, "questions", 1), _l("%(field)s must be a list of questions, each starting "
                                                           "with '- id:'", field=report.field("questions")))
        questions = []
    seen: dict[str, int] = {}
    for index, item in enumerate(questions):
        at = item_line(questions, index, 1)
        spec = read_question(item, report, line=at)
        if spec is None:
            continue
        if spec.key in seen:
            report.error(line_of(item, "id", at), _l("the question id %(id)r is used twice (first on line %(line)s)",
                                                     id=spec.key, line=seen[spec.key]))
            continue
        seen[spec.key] = line_of(item, "id", at)
        result.questions.append(spec)
    result.errors = sorted(report.errors())
    return result


def bank_spec(parsed: ParsedBank) -> BankSpec:
    return BankSpec(slug=parsed.slug or "", title=parsed.title or parsed.slug or "",
                    description=parsed.description or "", questions=tuple(parsed.questions), path=parsed.path,
                    source_hash=parsed.source_hash)


def read_text(data: bytes, path: str, errors: list[ContentError]) -> str:
    """Bytes of a text format as text: UTF-8 (with or without BOM), else GB18030 as Chinese
    Windows programs save it."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError:
            errors.append(ContentError(path, data[: exc.start].count(b"\n") + 1,
                                       _l("the file is neither UTF-8 nor GBK text")))
            return ""


def load_bank_tree(root: Path) -> tuple[list[BankSpec], list[ContentError]]:
    """Every `*.yaml`/`*.yml` file in `root` (a missing folder holds no banks); errors name paths
    relative to root's parent, like question_banks/complaints.yaml:12."""
    if not root.is_dir():
        return [], []
    base = root.parent
    files = sorted(path for path in root.iterdir()
                   if path.suffix in (".yaml", ".yml") and path.is_file() and not path.name.startswith("."))
    specs: list[BankSpec] = []
    errors: list[ContentError] = []
    first: dict[str, str] = {}
    for file in files:
        shown = str(file.relative_to(base))
        read_errors: list[ContentError] = []
        text = read_text(file.read_bytes(), shown, read_errors)
        if read_errors:
            errors.extend(read_errors)
            continue
        parsed = parse_bank(text, shown)
        errors.extend(parsed.errors)
        if parsed.errors:
            continue
        if parsed.slug in first:
            errors.append(ContentError(shown, parsed.slug_line, _l("the id %(slug)r is already used by %(other)s",
                                                                   slug=parsed.slug, other=first[parsed.slug])))
            continue
        first[parsed.slug] = shown
        specs.append(bank_spec(parsed))
    return specs, sorted(errors)
