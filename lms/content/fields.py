"""Typed reads of content-file keys, shared by every format (course.md, lessons, scenarios, exam.yaml,
ladder.yaml), so a key of a given kind is checked the same way everywhere and every problem names
its key at its line.

The rules, deliberately strict where YAML is lenient:

- text: a string; a plain number is accepted as the text it reads as (`title: 2024` is "2024");
  true/false/yes/no/on/off, dates, lists and mappings are refused (quote them to mean the words);
- whole numbers: an int, not a bool, not a float (`star_level: 1.5`), not text (`minutes: "5"`);
- numbers: int or finite float, not a bool, not text;
- true/false: a YAML boolean only;
- choices: one of the listed strings;
- lists: a YAML list (`prerequisites: no` or `practicals: bill` are refused), of the item kind named.

`Fields` binds the checks to one mapping and an `error(path, message)` callback that knows lines.

Messages name a key in words, then as written in the file, for the trainer who edits it: "the title
('title') must be given" / "标题（title）必须填写" (`field_name`). They are translated when shown
(lms.content.errors).
"""
from __future__ import annotations

import math
import re
from datetime import date
from typing import Any, Callable, Iterable, Mapping

from lms.content.errors import Message, Text, _l, listed

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MISSING = object()

# Every key of the content files, in words (lms.content.courses, exams, scenarios, banks; records.ladder_file).
FIELD_NAMES: dict[str, Message] = {
    # courses and lessons
    "slug": _l("the id"),
    "title": _l("the title"),
    "star_level": _l("the star level"),
    "kind": _l("the kind"),
    "track": _l("the track"),
    "summary": _l("the summary"),
    "minutes": _l("the length in minutes"),
    "valid_months": _l("the validity in months"),
    "prerequisites": _l("the prerequisites"),
    "practicals": _l("the practicals"),
    "customer_evaluation": _l("the customer evaluation to reach"),
    # exams
    "description": _l("the description"),
    "time_limit_minutes": _l("the time limit"),
    "opens_at": _l("the opening time"),
    "closes_at": _l("the closing time"),
    "pass_percent": _l("the pass mark"),
    "attempts_allowed": _l("the attempts allowed"),
    "retake_delay_minutes": _l("the wait before a retake"),
    "later_retake_delay_minutes": _l("the wait before later retakes"),
    "shuffle_questions": _l("shuffling the questions"),
    "shuffle_options": _l("shuffling the options"),
    "grading_method": _l("the grading method"),
    "review_policy": _l("the review policy"),
    "pools": _l("the question pools"),
    "bank": _l("the question bank"),
    "tags": _l("the tags"),
    "count": _l("the number of questions"),
    # scenarios
    "criteria": _l("the criteria"),
    "key": _l("the criterion id"),
    "weight": _l("the weight"),
    "fatal": _l("the fatal mark"),
    "na": _l("the not-applicable mark"),
    "levels": _l("the levels"),
    # the star ladder
    "min_months_since_hire": _l("the months since hire"),
    "min_months_since_promotion": _l("the months since the last promotion"),
    "min_average_score": _l("the minimum average score"),
    # question banks
    "questions": _l("the questions"),
    "id": _l("the question id"),
    "type": _l("the question type"),
    "difficulty": _l("the difficulty"),
    "points": _l("the points"),
    "format": _l("the text format"),
    "stem": _l("the question text"),
    "explanation": _l("the explanation"),
    "options": _l("the options"),
    "answer": _l("the answer"),
    "answers": _l("the accepted answers"),
    "tolerance": _l("the tolerance"),
    "pairs": _l("the pairs"),
    "distractors": _l("the extra wrong matches"),
    "guidance": _l("the marking guidance"),
    "text": _l("the option text"),
    "correct": _l("the right-answer mark"),
    "weights": _l("the weights"),
    "feedback": _l("the feedback"),
}


def field_name(key: Any, *, with_key: bool = True) -> Text:
    """A key in words, then as the file writes it: the title ('title') / 标题（title）. A Message given as
    the key is already a name. Without `with_key` (a form, which has no keys), the words only."""
    if isinstance(key, Message):
        return key
    words = FIELD_NAMES.get(key) if isinstance(key, str) else None
    if words is None:
        return f"'{key}'"
    return _l("%(name)s ('%(key)s')", name=words, key=key) if with_key else words


class Invalid(ValueError):
    """A value of the wrong type or range; the message names the key."""

    def __init__(self, message: Text):
        super().__init__(message)
        self.message = message


def describe(value: Any) -> Text:
    """A value as the author wrote it, for messages: true, a list, a date, 'lots'."""
    if isinstance(value, bool):
        return "true" if value else _l("false (yes, no, on and off are read as true and false)")
    if isinstance(value, (dict, Mapping)):
        return _l("a mapping")
    if isinstance(value, list):
        return _l("a list")
    if isinstance(value, date):
        return _l("the date %(date)s", date=value.isoformat())
    return repr(value)


def text(value: Any, name: Any, *, limit: int, required: bool = False, strip: bool = True) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise Invalid(_l("%(field)s must be given", field=field_name(name)))
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)) or (
            isinstance(value, float) and not math.isfinite(value)):
        raise Invalid(_l("%(field)s must be text, not %(value)s (put it in quotes to mean the words)",
                         field=field_name(name), value=describe(value)))
    value = str(value)
    value = value.strip() if strip else value
    if len(value) > limit:
        raise Invalid(_l("%(field)s is longer than %(limit)s characters", field=field_name(name), limit=limit))
    return value


def whole(value: Any, name: Any, *, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise Invalid(_l("%(field)s must be a whole number from %(low)s to %(high)s, not %(value)s",
                         field=field_name(name), low=low, high=high, value=describe(value)))
    return value


def number(value: Any, name: Any, *, low: float, high: float, above_low: bool = False) -> float:
    ok = (not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
          and (low < value if above_low else low <= value) and value <= high)
    if not ok:
        values = dict(field=field_name(name), low=f"{low:g}", high=f"{high:g}", value=describe(value))
        raise Invalid(_l("%(field)s must be a number above %(low)s and up to %(high)s, not %(value)s", **values)
                      if above_low else _l("%(field)s must be a number from %(low)s to %(high)s, not %(value)s",
                                           **values))
    return float(value)


def flag(value: Any, name: Any) -> bool:
    if not isinstance(value, bool):
        raise Invalid(_l("%(field)s must be true or false, not %(value)s", field=field_name(name),
                         value=describe(value)))
    return value


def choice(value: Any, name: Any, choices: Iterable[str]) -> str:
    choices = tuple(choices)
    if not isinstance(value, str) or value not in choices:
        raise Invalid(_l("%(field)s must be %(choices)s, not %(value)s", field=field_name(name),
                         choices=listed(choices, style="or"), value=describe(value)))
    return value


def slug(value: Any, name: Any, *, limit: int = 80, required: bool = True) -> str:
    result = text(value, name, limit=limit, required=required)
    if result and not SLUG.match(result):
        raise Invalid(_l("%(field)s %(value)r may hold only lowercase letters, digits and single hyphens",
                         field=field_name(name), value=result))
    return result


# What a list holds, in words, for text_list's `what`.
LIST_ITEMS: dict[str, Message] = {
    "course slugs": _l("course ids"),
    "scenario slugs": _l("scenario ids"),
    "tags": _l("tags"),
    "slugs": _l("ids"),
    "texts": _l("texts"),
}


def text_list(value: Any, name: Any, *, limit: int, example: str, slugs: bool = False,
              single: bool = False, what: str = "") -> tuple[str, ...]:
    """A list of texts (or slugs), `what` naming them in messages ("course slugs", a key of
    LIST_ITEMS); empty (`key:` or `[]`) is no items. `single` also takes one text for a list of one."""
    if value is None:
        return ()
    if single and isinstance(value, (str, int)) and not isinstance(value, bool):
        value = [value]
    wanted = LIST_ITEMS.get(what or ("slugs" if slugs else "texts"), what)
    if not isinstance(value, list):
        raise Invalid(_l("%(field)s must be a list of %(what)s, like %(example)s, not %(value)s",
                         field=field_name(name), what=wanted, example=example, value=describe(value)))
    items = []
    for index, item in enumerate(value, start=1):
        try:
            item = text(item, name, limit=limit, required=True)
        except Invalid:
            raise Invalid(_l("%(field)s must be a list of %(what)s, like %(example)s: item %(n)s is %(value)s",
                             field=field_name(name), what=wanted, example=example, n=index,
                             value=describe(item))) from None
        if slugs and not SLUG.match(item):
            raise Invalid(_l("%(field)s must be a list of %(what)s, like %(example)s: %(item)r is not an id "
                             "(lowercase letters, digits and single hyphens)", field=field_name(name), what=wanted,
                             example=example, item=item))
        items.append(item)
    return tuple(items)


class Fields:
    """Typed reads of the keys of one mapping at `at` (a path like ("criteria", 0)); every problem
    goes to `error(path, message)`, which places it at the key's line, and the read gives `default`."""

    def __init__(self, mapping: Mapping, error: Callable[[tuple, Text], None], at: tuple = ()):
        self.mapping, self.report, self.at = mapping, error, at
        self.failed = 0

    def error(self, key: Any, message: Text) -> None:
        self.failed += 1
        self.report(self.at + ((key,) if key is not None else ()), message)

    def unknown(self, allowed: Iterable[str], *, what: str = "key") -> None:
        """A problem for every key not in `allowed`; `what` is "key", "pool key" or "criterion key"."""
        allowed = sorted(allowed)
        for key in self.mapping:
            if key not in allowed:
                names = listed(allowed)
                if what == "pool key":
                    message = _l("unknown key '%(key)s' in a pool (allowed: %(allowed)s)", key=key, allowed=names)
                elif what == "criterion key":
                    message = _l("unknown key '%(key)s' in a criterion (allowed: %(allowed)s)", key=key,
                                 allowed=names)
                else:
                    message = _l("unknown key '%(key)s' (allowed: %(allowed)s)", key=key, allowed=names)
                self.error(key, message)

    def read(self, key: str, check: Callable[..., Any], *, required: bool = False, default: Any = None,
             **options) -> Any:
        value = self.mapping.get(key, MISSING)
        if value is MISSING or value is None:
            if required:
                self.error(key, _l("%(field)s must be given", field=field_name(key)))
            return default
        try:
            return check(value, key, **options)
        except Invalid as problem:
            self.error(key, problem.message)
            return default

    def text(self, key: str, *, limit: int, required: bool = False, strip: bool = True) -> str:
        try:
            return text(self.mapping.get(key), key, limit=limit, required=required, strip=strip)
        except Invalid as problem:
            self.error(key, problem.message)
            return ""

    def slug(self, key: str, *, limit: int = 80, required: bool = True) -> str:
        try:
            return slug(self.mapping.get(key), key, limit=limit, required=required)
        except Invalid as problem:
            self.error(key, problem.message)
            return ""

    def whole(self, key: str, low: int, high: int, *, required: bool = False, default: int | None = None):
        return self.read(key, whole, required=required, default=default, low=low, high=high)

    def number(self, key: str, low: float, high: float, *, above_low: bool = False, required: bool = False,
               default: float | None = None):
        return self.read(key, number, required=required, default=default, low=low, high=high, above_low=above_low)

    def flag(self, key: str, *, default: bool) -> bool:
        return self.read(key, flag, default=default)

    def choice(self, key: str, choices: Iterable[str], *, required: bool = False, default: str | None = None):
        choices = tuple(choices)
        return self.read(key, choice, required=required, default=default if default is not None else choices[0],
                         choices=choices)

    def texts(self, key: str, *, limit: int, example: str, slugs: bool = False, single: bool = False,
              what: str = "") -> tuple[str, ...]:
        return self.read(key, text_list, default=(), limit=limit, example=example, slugs=slugs, single=single,
                         what=what)
