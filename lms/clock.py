"""The one source of time. Tests freeze it with the `frozen_now` fixture."""
from __future__ import annotations

import functools
from datetime import datetime, timezone

_frozen: datetime | None = None


def utcnow() -> datetime:
    """Timezone-aware current time in UTC."""
    return _frozen if _frozen is not None else datetime.now(timezone.utc)


def freeze(moment: datetime | None) -> None:
    """Pin utcnow() to `moment` (aware); None lets time run again."""
    if moment is not None and moment.tzinfo is None:
        raise ValueError("freeze() needs an aware datetime")
    global _frozen
    _frozen = moment


def add_months(moment: datetime, months: int) -> datetime:
    """`moment` moved by whole calendar months, the day clamped to the month's end (31 Jan + 1 = 28/29 Feb)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, _days_in(year, month)))


def months_between(start, end) -> int:
    """Whole calendar months from `start` to `end` (dates or datetimes); negative when end is earlier."""
    months = (end.year - start.year) * 12 + end.month - start.month
    return months - 1 if months > 0 and end.day < start.day else months


def _days_in(year: int, month: int) -> int:
    import calendar

    return calendar.monthrange(year, month)[1]


def center_zone():
    """The center's time zone (LMS_TIMEZONE): where a day or a month begins for people here."""
    from flask import current_app

    return _zone(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "UTC")


@functools.lru_cache(maxsize=16)
def _zone(name: str):
    """ZoneInfo by name, kept: a report asks for the zone once per entry (tens of thousands)."""
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)
