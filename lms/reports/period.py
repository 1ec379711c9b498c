"""A report's period in the center's calendar: a month "2026-11", a year "2026", or a range
"2026-01..2026-06" (months, both ends included). Months begin at local midnight (LMS_TIMEZONE)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time

from lms.clock import add_months, center_zone

MONTH = re.compile(r"^(\d{4})-(\d{2})$")
YEAR = re.compile(r"^(\d{4})$")


class PeriodInvalid(ValueError):
    pass


@dataclass(frozen=True)
class Period:
    text: str
    start: datetime  # aware UTC, included
    end: datetime  # aware UTC, excluded
    months: tuple[str, ...]  # "2026-01", ... in order

    def covers(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


def _month_start(year: int, month: int) -> datetime:
    if not (1 <= month <= 12 and 2000 <= year <= 2100):
        raise PeriodInvalid(f"{year:04d}-{month:02d}")
    return datetime.combine(datetime(year, month, 1).date(), time(), tzinfo=center_zone())


def parse_period(text: str) -> Period:
    """"2026-11", "2026" or "2026-01..2026-06"; raises PeriodInvalid."""
    text = (text or "").strip()
    if ".." in text:
        first, last = (part.strip() for part in text.split("..", 1))
    elif YEAR.match(text):
        first, last = f"{text}-01", f"{text}-12"
    else:
        first = last = text
    bounds = []
    for part in (first, last):
        match = MONTH.match(part)
        if not match:
            raise PeriodInvalid(text)
        bounds.append(_month_start(int(match.group(1)), int(match.group(2))))
    start, last_start = bounds
    if last_start < start:
        raise PeriodInvalid(text)
    months, moment = [], start
    while moment <= last_start:
        months.append(f"{moment.year:04d}-{moment.month:02d}")
        moment = add_months(moment, 1)
        if len(months) > 120:
            raise PeriodInvalid(text)
    return Period(text=text, start=start.astimezone(_utc()), end=add_months(last_start, 1).astimezone(_utc()),
                  months=tuple(months))


def period_from_field(field, fallback: Period | None) -> Period | None:
    """The period a filter form's field names; a text that is none gets its message beside the field
    (the form is shown again with it) and `fallback` is used."""
    from flask_babel import gettext as _

    if not field.data or field.errors:
        return fallback
    try:
        return parse_period(field.data)
    except PeriodInvalid:
        field.errors = list(field.errors) + [
            _("Not a period: type a month 2026-11, a year 2026 or months 2026-01..2026-06.")]
        return fallback


def default_period(now: datetime, months: int = 12) -> Period:
    """The last `months` months up to and including the current one."""
    local = now.astimezone(center_zone())
    first = add_months(datetime(local.year, local.month, 1, tzinfo=center_zone()), -(months - 1))
    return parse_period(f"{first.year:04d}-{first.month:02d}..{local.year:04d}-{local.month:02d}")


def _utc():
    from datetime import timezone

    return timezone.utc
