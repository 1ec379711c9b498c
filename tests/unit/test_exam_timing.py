"""Exam time windows at their edges: deadline, allowance, open/close window, retake delays, review."""
from datetime import datetime, timedelta, timezone

import pytest

from lms.exams import timing

START = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
GRACE = 30


def test_deadline_is_start_plus_time_limit():
    assert timing.deadline_for(START, 20, None) == START + timedelta(minutes=20)


def test_a_close_time_earlier_than_the_time_limit_cuts_the_deadline():
    closes = START + timedelta(minutes=5)
    assert timing.deadline_for(START, 20, closes) == closes


def test_a_close_time_later_than_the_time_limit_changes_nothing():
    assert timing.deadline_for(START, 20, START + timedelta(hours=2)) == START + timedelta(minutes=20)


@pytest.mark.parametrize("offset, accepted", [
    (timedelta(seconds=-1), True),                # a second before the deadline
    (timedelta(0), True),                         # at the deadline
    (timedelta(seconds=1), True),                 # after it, inside the allowance
    (timedelta(seconds=GRACE), True),             # the last second of the allowance
    (timedelta(seconds=GRACE, microseconds=1), False),
    (timedelta(seconds=GRACE + 1), False),        # after the allowance
])
def test_answers_count_until_deadline_plus_allowance(offset, accepted):
    deadline = START + timedelta(minutes=20)
    assert timing.accepts_answers(deadline, deadline + offset, GRACE) is accepted
    assert timing.is_overdue(deadline, deadline + offset, GRACE) is not accepted


def test_no_allowance_means_the_deadline_itself():
    deadline = START + timedelta(minutes=20)
    assert timing.accepts_answers(deadline, deadline, 0)
    assert not timing.accepts_answers(deadline, deadline + timedelta(seconds=1), 0)


def test_seconds_left_never_negative():
    deadline = START + timedelta(minutes=1)
    assert timing.seconds_left(deadline, START) == 60
    assert timing.seconds_left(deadline, deadline + timedelta(seconds=5)) == 0


@pytest.mark.parametrize("now, expected", [
    (START - timedelta(seconds=1), timing.NOT_YET),
    (START, timing.OPEN),
    (START + timedelta(days=1) - timedelta(seconds=1), timing.OPEN),
    (START + timedelta(days=1), timing.CLOSED),
])
def test_open_close_window_edges(now, expected):
    assert timing.window_state(START, START + timedelta(days=1), now) == expected


def test_window_without_times_is_always_open():
    assert timing.window_state(None, None, START) == timing.OPEN
    assert timing.window_state(None, START, START - timedelta(seconds=1)) == timing.OPEN
    assert timing.window_state(START, None, START + timedelta(days=900)) == timing.OPEN


def test_retake_delays_first_then_later():
    first_end = START + timedelta(minutes=15)
    assert timing.retake_allowed_at([], 30, 60) is None
    assert timing.retake_allowed_at([first_end], 30, 60) == first_end + timedelta(minutes=30)
    second_end = START + timedelta(hours=2)
    assert timing.retake_allowed_at([first_end, second_end], 30, 60) == second_end + timedelta(minutes=60)


def test_attempts_left():
    assert timing.attempts_left(0, 7) is None
    assert timing.attempts_left(3, 1) == 2
    assert timing.attempts_left(3, 5) == 0


@pytest.mark.parametrize("policy, closes_at, now, left, any_open, expected", [
    ("immediately", None, START, 2, False, True),
    ("never", START, START + timedelta(days=9), 0, False, False),
    ("after_close", START + timedelta(hours=1), START + timedelta(minutes=59), 0, False, False),
    ("after_close", START + timedelta(hours=1), START + timedelta(hours=1), 2, False, True),
    ("after_close", None, START, 1, False, False),      # attempts left: others may still come
    ("after_close", None, START, 0, False, True),       # the agent's last attempt is done
    ("after_close", None, START, None, False, False),   # unlimited attempts and no close: never
])
def test_review_policy(policy, closes_at, now, left, any_open, expected):
    assert timing.review_open(policy, closes_at, now, finished=True, attempts_left_after=left,
                              any_open=any_open) is expected


def test_review_never_opens_for_an_unfinished_attempt():
    assert not timing.review_open("immediately", None, START, finished=False, attempts_left_after=1, any_open=True)
