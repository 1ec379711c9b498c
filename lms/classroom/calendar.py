"""Calendar grids (month, week) and .ics files for classroom sessions."""
from __future__ import annotations

import calendar as _calendar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

from icalendar import Calendar, Event

from lms.clock import add_months, center_zone
from lms.models.classroom import ClassSession

VIEWS = ("month", "week")


@dataclass
class Day:
    day: date
    in_range: bool
    sessions: list[ClassSession] = field(default_factory=list)


@dataclass
class Grid:
    view: str
    anchor: date
    first: date  # first day shown
    last: date  # last day shown (inclusive)
    weeks: list[list[Day]]
    previous: date
    next: date


def parse_day(text: str | None, today: date) -> date:
    """YYYY-MM-DD from the address, else today (a bad value is not an error worth a page)."""
    try:
        return date.fromisoformat((text or "").strip()[:10])
    except ValueError:
        return today


def grid(view: str, anchor: date) -> Grid:
    """The days of the month (whole weeks, Monday first) or of the week around `anchor`."""
    if view == "week":
        first = anchor - timedelta(days=anchor.weekday())
        last = first + timedelta(days=6)
        days = [Day(first + timedelta(days=i), True) for i in range(7)]
        return Grid(view, anchor, first, last, [days], first - timedelta(days=7), first + timedelta(days=7))
    month_first = anchor.replace(day=1)
    month_last = month_first.replace(day=_calendar.monthrange(anchor.year, anchor.month)[1])
    first = month_first - timedelta(days=month_first.weekday())
    last = month_last + timedelta(days=6 - month_last.weekday())
    weeks, day = [], first
    while day <= last:
        weeks.append([Day(day + timedelta(days=i), (day + timedelta(days=i)).month == anchor.month)
                      for i in range(7)])
        day += timedelta(days=7)
    return Grid("month", anchor, first, last, weeks, add_months(month_first, -1), add_months(month_first, 1))


def place(sessions: list[ClassSession], shown: Grid) -> Grid:
    """Put each session on its local (center-zone) start day."""
    zone = center_zone()
    by_day = {d.day: d for week in shown.weeks for d in week}
    for session in sessions:
        day = by_day.get(session.starts_at.astimezone(zone).date())
        if day is not None:
            day.sessions.append(session)
    return shown


def ics(sessions: list[ClassSession], *, base_url: str, link_for, now: datetime, name: str) -> bytes:
    """An iCalendar file: one VEVENT per session; UID stable per session; times in UTC."""
    host = urlsplit(base_url).hostname or "lms.local"
    cal = Calendar()
    cal.add("prodid", "-//Service Academy//Classroom sessions//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    for session in sessions:
        event = Event()
        event.add("uid", f"class-session-{session.id}@{host}")
        event.add("dtstamp", now)
        event.add("dtstart", session.starts_at)
        event.add("dtend", session.ends_at)
        event.add("summary", session.title)
        location = session.location or session.online_url
        if location:
            event.add("location", location)
        event.add("url", link_for(session))
        text = "\n".join(part for part in (session.description, session.online_url) if part)
        if text:
            event.add("description", text)
        event.add("status", "CANCELLED" if session.cancelled_at else "CONFIRMED")
        cal.add_component(event)
    return cal.to_ical()
