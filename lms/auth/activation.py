"""One-time activation codes: how an account created in bulk gets its first password.

A staff import does not hash a password per new account (scrypt costs about 0.1 s each, ten
minutes for 5,000 people). It gives each new account a random code instead, hashed with SHA-256,
which the admin hands out (a printable list, a CSV file). The person opens "Activate your
account" from the login page, gives their employee number and the code, and chooses a password,
which is scrypt-hashed then, once. Until then no password works for the account. A code works
once and expires after ACTIVATION_DAYS; wrong codes count against the login throttle.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select

from lms.auth import throttle
from lms.extensions import db
from lms.models import User

# Crockford's base-32 alphabet: no I, L, O or U, so a code read aloud or off paper is typed right;
# what looks alike is folded on input (O -> 0, I and L -> 1).
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 12  # 60 bits
ACTIVATION_DAYS = 14
PENDING_PASSWORD = "!activation-pending"  # matches no password (not a werkzeug hash)
_FOLD = str.maketrans({"O": "0", "I": "1", "L": "1"})


class ActivationFailed(Exception):
    """Wrong employee number or code, a code used already, or an account that needs none."""


class ActivationExpired(Exception):
    """The code was right but has expired: the admin must issue a new one."""


class ActivationThrottled(Exception):
    def __init__(self, wait_seconds: int):
        super().__init__(wait_seconds)
        self.wait_seconds = wait_seconds


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _i in range(CODE_LENGTH))


def display(code: str) -> str:
    """XXXX-XXXX-XXXX, easier to read out and type."""
    return "-".join(code[index:index + 4] for index in range(0, len(code), 4))


def normalize(text: str) -> str:
    return "".join(char for char in (text or "").upper().translate(_FOLD) if char in ALPHABET)


def code_hash(employee_no: str, code: str) -> str:
    # SHA-256, not scrypt: a slow hash protects guessable secrets (passwords people choose). A code
    # is 60 random bits, lives 14 days and is tried online only under the login throttle; even
    # with the table stolen, finding one code by brute force costs ~2^59 hashes, years on a GPU,
    # long after it expired. The employee number salts it, so no work is shared across accounts.
    return hashlib.sha256(f"{employee_no}\x00{normalize(code)}".encode()).hexdigest()


def issue(user: User, now: datetime) -> str:
    """Give `user` a new one-time code (the caller commits); no password works until it is used.
    Returns the code, in clear, for the admin to hand out: it is stored only hashed."""
    code = new_code()
    user.activation_hash = code_hash(user.employee_no, code)
    user.activation_expires_at = now + timedelta(days=ACTIVATION_DAYS)
    user.password_hash = PENDING_PASSWORD
    return code


def clear(user: User) -> None:
    """The account needs no activation any more (it has a password)."""
    user.activation_hash = None
    user.activation_expires_at = None


def activate(employee_no: str, code: str, password: str, address: str | None, now: datetime) -> User:
    """Use a code: the account gets `password` (scrypt), the code is spent, every earlier session
    ends, and the activation is audited; commits. Raises ActivationThrottled while the account or
    address must wait (as for logins: the same counters), ActivationFailed for a wrong number or
    code (counted as a failed login), ActivationExpired for a right code past its expiry."""
    from lms.auth.services import LoginThrottled, count_failure

    employee_no = (employee_no or "").strip()
    wait = throttle.seconds_to_wait(employee_no, address)
    if wait:
        raise ActivationThrottled(wait)
    user = db.session.scalar(select(User).where(User.employee_no == employee_no))
    given = code_hash(employee_no, code)
    expected = user.activation_hash if user is not None and user.activation_hash else code_hash("", "0")
    if user is None or not user.active or not user.activation_hash or not hmac.compare_digest(given, expected):
        try:
            count_failure(employee_no, address)
        except LoginThrottled as exc:
            raise ActivationThrottled(exc.wait_seconds)
        raise ActivationFailed()
    if user.activation_expires_at is None or now > user.activation_expires_at:
        raise ActivationExpired()
    from lms.records.services import audit

    throttle.record_success(employee_no)
    user.set_password(password)
    clear(user)
    user.end_sessions()
    audit(user, "account.code_activated", "user", user.id)
    db.session.commit()
    return user
