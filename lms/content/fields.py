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
"""
from __future__ import annotations

import math
import re
from datetime import date
from typing import Any, Callable, Iterable, Mapping

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MISSING = object()


class Invalid(ValueError):
    """A value of the wrong type or range; the message names the key."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def describe(value: Any) -> str:
    """A value as the author wrote it, for messages: true, a list, a date, 'lots'."""
    if isinstance(value, bool):
        return "true" if value else "false (yes/no/on/off read as true/false)"
    if isinstance(value, (dict, Mapping)):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, date):
        return f"the date {value.isoformat()}"
    return repr(value)


def text(value: Any, name: str, *, limit: int, required: bool = False, strip: bool = True) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise Invalid(f"'{name}' is required")
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)) or (
            isinstance(value, float) and not math.isfinite(value)):
        raise Invalid(f"'{name}' must be text, not {describe(value)} (put it in quotes to mean the words)")
    value = str(value)
    value = value.strip() if strip else value
    if len(value) > limit:
        raise Invalid(f"'{name}' is longer than {limit} characters")
    return value


def whole(value: Any, name: str, *, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise Invalid(f"'{name}' must be a whole number from {low} to {high}, not {describe(value)}")
    return value


def number(value: Any, name: str, *, low: float, high: float, above_low: bool = False) -> float:
    ok = (not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
          and (low < value if above_low else low <= value) and value <= high)
    if not ok:
        span = f"above {low:g} and up to {high:g}" if above_low else f"from {low:g} to {high:g}"
        raise Invalid(f"'{name}' must be a number {span}, not {describe(value)}")
    return float(value)


def flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise Invalid(f"'{name}' must be true or false, not {describe(value)}")
    return value


def choice(value: Any, name: str, choices: Iterable[str]) -> str:
    choices = tuple(choices)
    if not isinstance(value, str) or value not in choices:
        raise Invalid(f"'{name}' must be one of {', '.join(choices)}, not {describe(value)}")
    return value


def slug(value: Any, name: str, *, limit: int = 80, required: bool = True) -> str:
    result = text(value, name, limit=limit, required=required)
    if result and not SLUG.match(result):
        raise Invalid(f"{name} {result!r} may hold only lowercase letters, digits and single hyphens")
    return result


def text_list(value: Any, name: str, *, limit: int, example: str, slugs: bool = False,
              single: bool = False, what: str = "") -> tuple[str, ...]:
    """A list of texts (or slugs), `what` naming them in messages ("course slugs"); empty (`key:` or
    `[]`) is no items. `single` also takes one text for a list of one."""
    if value is None:
        return ()
    if single and isinstance(value, (str, int)) and not isinstance(value, bool):
        value = [value]
    wanted = what or ("slugs" if slugs else "texts")
    if not isinstance(value, list):
        raise Invalid(f"'{name}' must be a list of {wanted}, like {example}, not {describe(value)}")
    items = []
    for index, item in enumerate(value, start=1):
        try:
            item = text(item, name, limit=limit, required=True)
        except Invalid:
            raise Invalid(f"'{name}' must be a list of {wanted}, like {example}: item {index} is "
                          f"{describe(item)}") from None
        if slugs and not SLUG.match(item):
            raise Invalid(f"'{name}' must be a list of {wanted}, like {example}: {item!r} is not a slug "
                          "(lowercase letters, digits and single hyphens)")
        items.append(item)
    return tuple(items)


class Fields:
    """Typed reads of the keys of one mapping at `at` (a path like ("criteria", 0)); every problem
    goes to `error(path, message)`, which places it at the key's line, and the read gives `default`."""

    def __init__(self, mapping: Mapping, error: Callable[[tuple, str], None], at: tuple = ()):
        self.mapping, self.report, self.at = mapping, error, at
        self.failed = 0

    def error(self, key: Any, message: str) -> None:
        self.failed += 1
        self.report(self.at + ((key,) if key is not None else ()), message)

    def unknown(self, allowed: Iterable[str], *, what: str = "key") -> None:
        allowed = sorted(allowed)
        for key in self.mapping:
            if key not in allowed:
                self.error(key, f"unknown {what} '{key}' (allowed: {', '.join(allowed)})")

    def read(self, key: str, check: Callable[..., Any], *, required: bool = False, default: Any = None,
             **options) -> Any:
        value = self.mapping.get(key, MISSING)
        if value is MISSING or value is None:
            if required:
                self.error(key, f"'{key}' is required")
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
