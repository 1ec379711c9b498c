"""What every request passes before a view reads it, so hostile input is a clear 4xx, not a 500.

- `<int:...>` in any route stops at the largest database integer: a larger id is simply not found
  (SQLite raises OverflowError and PostgreSQL an out-of-range error for it otherwise).
- No NUL character in a query string, a form or a JSON string: PostgreSQL refuses to store it, so
  it is refused here with 400 (404 when it is in the path, where nothing can be found by it).
- JSON bodies: NaN and Infinity, numbers beyond a float, and nesting too deep for the parser are
  unreadable JSON (a ValueError, which `get_json` turns into 400 or None) instead of a crash.
Only reading here: no writes in before_request.
"""
from __future__ import annotations

import json
import math

from flask import Flask, abort, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.routing import IntegerConverter

MAX_DATABASE_INT = 2 ** 31 - 1  # ids are INTEGER columns: 32 bits on PostgreSQL
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class DatabaseIntConverter(IntegerConverter):
    """The default `int` converter, bounded to what an INTEGER id column holds."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = None,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min,
                         max=MAX_DATABASE_INT if max is None else max, signed=signed)


def database_id(value) -> int | None:
    """An id typed into a form field: a whole number that fits the database, else None."""
    text = str(value or "").strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 10):
        return None
    number = int(text)
    return number if number <= MAX_DATABASE_INT else None


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is beyond a floating-point number")
    return value


def _contains_nul(value) -> bool:
    """Any string (or object key) holding NUL, walked without recursion."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


class StrictJSONProvider(DefaultJSONProvider):
    """Reads request JSON strictly: what it refuses is a ValueError, which Flask answers with 400."""

    def loads(self, s, **kwargs):
        kwargs.setdefault("parse_constant", _refuse_constant)
        kwargs.setdefault("parse_float", _finite_float)
        try:
            value = json.loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None
        if _contains_nul(value):
            raise ValueError("JSON text holds a NUL character")
        return value


def _has_nul(pairs) -> bool:
    return any("\x00" in key or "\x00" in value for key, value in pairs)


def refuse_nul() -> None:
    """400 for a NUL in the query string or form fields; 404 for one in the path."""
    if any(isinstance(value, str) and "\x00" in value for value in (request.view_args or {}).values()):
        abort(404)
    if _has_nul(request.args.items(multi=True)):
        abort(400)
    # Only form bodies: touching request.form would read (and size-limit) any other body early.
    if request.mimetype in FORM_TYPES and _has_nul(request.form.items(multi=True)):
        abort(400)


def install_converters(app: Flask) -> None:
    """Before any blueprint is registered: rules take their converters when they are added."""
    app.url_map.converters["int"] = DatabaseIntConverter


def init_app(app: Flask) -> None:
    app.json = StrictJSONProvider(app)
    # First of all before_request hooks: none of them (sessions, throttling) may meet a NUL.
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_nul)
