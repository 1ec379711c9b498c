"""Reading a page number from a query string: every paginated list uses `page_number`, so no
`?page=` value (huge, negative, not a number) can reach the database as an absurd offset."""
from __future__ import annotations

import re

MAX_PAGE = 1_000_000  # past the end of any list anyway; page x per_page must fit a database integer
_WHOLE = re.compile(r"[0-9]+")  # ASCII digits only: int() would also take "٣" or "３"


def page_number(args, name: str = "page") -> int:
    """The page asked for, from 1 to MAX_PAGE; 1 when the value is missing or not a whole number."""
    raw = (args.get(name) or "").strip()
    if not _WHOLE.fullmatch(raw):
        return 1
    if len(raw) > len(str(MAX_PAGE)):  # never int() thousands of digits
        return MAX_PAGE
    return clamp_page(int(raw))


def clamp_page(page: int) -> int:
    return max(1, min(int(page), MAX_PAGE))
