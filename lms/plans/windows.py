"""Dates of assignments as small pure functions: the onboarding window and an item's status."""
from __future__ import annotations

from datetime import date, datetime, timedelta

DONE, OVERDUE, DUE_SOON, OPEN, UPCOMING = "done", "overdue", "due_soon", "open", "upcoming"
STATUSES = (OVERDUE, DUE_SOON, OPEN, UPCOMING, DONE)  # most urgent first
ACTIVE = (OVERDUE, DUE_SOON, OPEN)  # started and not done: what a reminder is about


def add_working_days(start: date, days: int) -> date:
    """The `days`-th working day (Monday to Friday) after `start`; `start` itself is day 0.
    Public holidays are not skipped. A hire on Monday 2 Nov with 10 days: Monday 16 Nov."""
    current, left = start, days
    while left > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            left -= 1
    return current


def status_of(*, starts_on: date, due_on: date, done_on: date | None, done: bool, today: date,
              due_soon_days: int) -> str:
    """done; else upcoming (starts after today); overdue (due before today); due_soon (due in
    `due_soon_days` days or fewer, today included); else open."""
    if done:
        return DONE
    if starts_on > today:
        return UPCOMING
    if due_on < today:
        return OVERDUE
    if (due_on - today).days <= due_soon_days:
        return DUE_SOON
    return OPEN


def is_late(done_on: date | None, due_on: date) -> bool:
    return done_on is not None and done_on > due_on


def local_date(moment: datetime, zone) -> date:
    return moment.astimezone(zone).date()


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"
