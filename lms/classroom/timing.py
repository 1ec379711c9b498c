"""The time rules of a classroom session, as small pure functions (tests pin them at the edges),
and the room's rotating check-in code.

Check-in window: from CHECKIN_OPENS_BEFORE before the start until the end (the end itself is too
late: [start - 15 min, end)). Checking in more than LATE_AFTER after the start is "late".
Sign-up and cancelling a place close `signup_cutoff_hours` before the start (at that moment exactly
it is closed); leaving the waiting list stays possible until the start.

The code is stateless: HMAC-SHA256(SECRET_KEY, "checkin:<session id>:<window>") as 6 digits, where
window = floor(epoch seconds / LMS_CHECKIN_CODE_SECONDS). The current window's code and the previous
one's are accepted, so a code read at the last second of its window still works during the next
window (a code is good for between one and two windows: 60-120 s by default). Older codes of the
same session are told apart from wrong ones so the agent reads "expired", not "wrong".
"""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from flask import current_app

CHECKIN_OPENS_BEFORE = timedelta(minutes=15)
LATE_AFTER = timedelta(minutes=10)
CODE_DIGITS = 6
# how far back a code of this session is still recognised as "expired" rather than "wrong"
EXPIRED_LOOKBACK_WINDOWS = 240

VALID, EXPIRED, WRONG = "valid", "expired", "wrong"


def checkin_opens_at(starts_at: datetime) -> datetime:
    return starts_at - CHECKIN_OPENS_BEFORE


def checkin_open(starts_at: datetime, ends_at: datetime, now: datetime) -> bool:
    return checkin_opens_at(starts_at) <= now < ends_at


def is_late(starts_at: datetime, moment: datetime) -> bool:
    """More than LATE_AFTER after the start: exactly 10 minutes after is still on time."""
    return moment - starts_at > LATE_AFTER


def signup_closes_at(starts_at: datetime, cutoff_hours: int) -> datetime:
    return starts_at - timedelta(hours=cutoff_hours)


def signup_open(starts_at: datetime, cutoff_hours: int, now: datetime) -> bool:
    return now < signup_closes_at(starts_at, cutoff_hours)


def code_seconds() -> int:
    return int(current_app.config.get("LMS_CHECKIN_CODE_SECONDS", 60))


def window_of(now: datetime, seconds: int) -> int:
    return int(now.timestamp()) // seconds


def code_for(secret: str | bytes, session_id: int, window: int) -> str:
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    digest = hmac.new(key, f"checkin:{session_id}:{window}".encode("ascii"), hashlib.sha256).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 10 ** CODE_DIGITS:0{CODE_DIGITS}d}"


def current_code(session_id: int, now: datetime) -> tuple[str, int, int]:
    """(code, window, seconds until it changes) for the instructor's display."""
    seconds = code_seconds()
    window = window_of(now, seconds)
    left = (window + 1) * seconds - now.timestamp()
    return code_for(current_app.config["SECRET_KEY"], session_id, window), window, max(1, int(left + 0.999))


def check_code(session_id: int, code: str, now: datetime, *, opened_at: datetime | None = None) -> str:
    """VALID for this session's current or previous window's code, EXPIRED for an older code of this
    session (back to `opened_at`, at most EXPIRED_LOOKBACK_WINDOWS), WRONG for anything else."""
    code = (code or "").strip()
    if not (len(code) == CODE_DIGITS and code.isascii() and code.isdigit()):
        return WRONG
    secret, seconds = current_app.config["SECRET_KEY"], code_seconds()
    window = window_of(now, seconds)
    if any(hmac.compare_digest(code, code_for(secret, session_id, w)) for w in (window, window - 1)):
        return VALID
    oldest = window - EXPIRED_LOOKBACK_WINDOWS
    if opened_at is not None:
        oldest = max(oldest, window_of(opened_at, seconds))
    for w in range(window - 2, oldest - 1, -1):
        if hmac.compare_digest(code, code_for(secret, session_id, w)):
            return EXPIRED
    return WRONG
