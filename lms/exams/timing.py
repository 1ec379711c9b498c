"""Exam time windows as small pure functions: every `now` is given, nothing reads a clock.

    deadline           min(start + time limit, close time)
    accepts_answers    until deadline + allowance (slow networks), inclusive
    is_overdue         after that: the attempt is finalized by whoever touches it next
    seconds_left       whole seconds to the deadline, never below 0
    minutes_seconds    a countdown's text (9:05, or 1:02:03 from an hour on)
    epoch_ms           an instant as the page's script counts time (milliseconds; also a save's seq)
    window_state       before the open time, open, or after the close time
    retake_allowed_at  when the next attempt may start, after the delays
    attempts_left      how many attempts remain (None: unlimited)
    review_open        whether a finished attempt's review may be shown now
"""
from __future__ import annotations

from datetime import datetime, timedelta

NOT_YET, OPEN, CLOSED = "not_yet", "open", "closed"


def deadline_for(started_at: datetime, time_limit_minutes: int, closes_at: datetime | None) -> datetime:
    """The attempt's deadline: its time limit, cut short by the exam's close time."""
    limit = started_at + timedelta(minutes=time_limit_minutes)
    return min(limit, closes_at) if closes_at is not None else limit


def accepts_answers(deadline: datetime, now: datetime, grace_seconds: int) -> bool:
    """Answers (and a submit) still count up to and including deadline + allowance."""
    return now <= deadline + timedelta(seconds=grace_seconds)


def is_overdue(deadline: datetime, now: datetime, grace_seconds: int) -> bool:
    """Past deadline + allowance: nothing can change any more and the attempt must be closed."""
    return not accepts_answers(deadline, now, grace_seconds)


def seconds_left(deadline: datetime, now: datetime) -> int:
    return max(0, int((deadline - now).total_seconds()))


def minutes_seconds(seconds: int | float) -> str:
    """A countdown's text: 9:05, or 1:02:03 from an hour on."""
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def epoch_ms(moment: datetime) -> int:
    """An instant as the page's script counts time: milliseconds since 1970 (also a save's seq)."""
    return int(moment.timestamp() * 1000)


def window_state(opens_at: datetime | None, closes_at: datetime | None, now: datetime) -> str:
    """NOT_YET before the open time, CLOSED from the close time on, else OPEN."""
    if opens_at is not None and now < opens_at:
        return NOT_YET
    if closes_at is not None and now >= closes_at:
        return CLOSED
    return OPEN


def retake_allowed_at(finished: list[datetime], first_delay_minutes: int, later_delay_minutes: int) -> datetime | None:
    """When the next attempt may start, given when the earlier ones ended (in order).

    Moodle's rule: one delay before the second attempt, another before each later one, counted
    from the end of the previous attempt. None when there is no earlier attempt.
    """
    if not finished:
        return None
    delay = first_delay_minutes if len(finished) == 1 else later_delay_minutes
    return finished[-1] + timedelta(minutes=delay)


def attempts_left(attempts_allowed: int, used: int) -> int | None:
    """None when unlimited (0 allowed)."""
    return None if attempts_allowed == 0 else max(0, attempts_allowed - used)


def review_open(policy: str, closes_at: datetime | None, now: datetime, *, finished: bool,
                attempts_left_after: int | None, any_open: bool) -> bool:
    """May the agent see right answers and explanations of a finished attempt?

    immediately: once it is finished. never: never. after_close: once the exam's close time has
    passed, so nobody can still be sitting it; an exam without a close time "closes" for an agent
    when their last allowed attempt is finished (with unlimited attempts: never).
    """
    if not finished or policy == "never":
        return False
    if policy == "immediately":
        return True
    if closes_at is not None:
        return now >= closes_at
    return attempts_left_after == 0 and not any_open
