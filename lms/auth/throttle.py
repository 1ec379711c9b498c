"""The login throttle: failed logins per employee number and per client address lead to a wait
that grows with each lockout, never to a permanent lock.

Policy (per rule below): `failures` failed logins within a 15-minute window start a wait. The first
wait is 1 minute; each further lockout within 24 hours doubles it, up to 15 minutes. While a wait
runs every login for that account (or from that address) is refused, the right password too, and
refused attempts do not count as failures, so the wait cannot be stretched by hammering. A
successful login clears the account's counters (not the address's: one valid account must not
wipe out the count of an address guessing at others). Unknown employee numbers are counted and
locked exactly like real ones, so the throttle does not tell who exists.

Storage, and why. The counters live in a `limits` storage (the storage layer of Flask-Limiter),
chosen by LMS_RATELIMIT_STORAGE_URI, so that every gunicorn worker and every app server counts
together; `memory://` counts per process and suits a single process only (development):
- `lmsdb://` (default): `DatabaseStorage` below, registered with `limits` under that scheme, keeps
  counters in the app's own database (table `rate_limit_counters`, one atomic upsert per failure,
  expired rows swept as it goes). It works for several workers and several app servers sharing the
  PostgreSQL (or one SQLite) database, with no extra service. Failed logins are rare, so the
  writes cost nothing worth a cache server.
- `redis://`, `rediss://`, `redis+sentinel://`, `memcached://`: for a deployment that already runs one.
Flask-Limiter's request decorators count requests against fixed limits; this policy needs to count
only failures, grow the wait, reset on success and audit the start of a lockout, so it uses the
`limits` storage API (incr/get/get_expiry/clear) directly. Time comes from lms.clock, so tests move it.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import Flask, current_app
from limits.storage import Storage, storage_from_string

from lms.clock import utcnow

EXTENSION = "lms.login_throttle"
PREFIX = "lms-login"


@dataclass(frozen=True)
class Rule:
    scope: str  # "account" or "address"
    failures: int  # failed logins within `window` that start a wait
    window: int = 15 * 60
    first_wait: int = 60
    longest_wait: int = 15 * 60
    memory: int = 24 * 3600  # earlier lockouts within this long make the next wait longer

    def wait_after(self, lockouts: int) -> int:
        """The wait that the `lockouts`-th lockout (1, 2, ...) within `memory` imposes."""
        return min(self.first_wait * 2 ** min(max(lockouts, 1) - 1, 20), self.longest_wait)


@dataclass(frozen=True)
class Lockout:
    scope: str
    identifier: str
    wait_seconds: int
    lockouts: int  # how many within the rule's memory, this one included


def rules() -> tuple[Rule, Rule]:
    config = current_app.config
    return (Rule("account", int(config.get("LMS_LOGIN_FAILURES_PER_ACCOUNT", 5))),
            Rule("address", int(config.get("LMS_LOGIN_FAILURES_PER_ADDRESS", 30))))


def init_app(app: Flask) -> None:
    """Open the storage named by LMS_RATELIMIT_STORAGE_URI (a wrong URI fails at start-up)."""
    app.extensions[EXTENSION] = storage_from_string(app.config.get("LMS_RATELIMIT_STORAGE_URI") or "lmsdb://")


def _storage() -> Storage:
    return current_app.extensions[EXTENSION]


def _identifiers(employee_no: str, address: str | None) -> dict[str, str]:
    # case and spaces do not make a new account to guess at
    return {"account": (employee_no or "").strip().casefold()[:64], "address": (address or "unknown")[:64]}


def _key(rule: Rule, identifier: str, what: str) -> str:
    return f"{PREFIX}/{rule.scope}/{identifier}/{what}"


def _now() -> float:
    return utcnow().timestamp()


def seconds_to_wait(employee_no: str, address: str | None) -> int:
    """Whole seconds until this account and this address may try again; 0 when they may now."""
    storage, ids, now = _storage(), _identifiers(employee_no, address), _now()
    wait = 0.0
    for rule in rules():
        key = _key(rule, ids[rule.scope], "wait")
        if storage.get(key) > 0:
            wait = max(wait, storage.get_expiry(key) - now)
    return int(-(-wait // 1)) if wait > 0 else 0  # round up: never say 0 while it still refuses


def record_failure(employee_no: str, address: str | None) -> list[Lockout]:
    """Count a failed login; return the lockouts it starts (empty when none does)."""
    storage, ids = _storage(), _identifiers(employee_no, address)
    started = []
    for rule in rules():
        identifier = ids[rule.scope]
        failures_key = _key(rule, identifier, "failures")
        if storage.incr(failures_key, rule.window) < rule.failures:
            continue
        storage.clear(failures_key)  # the next lockout needs as many failures again
        lockouts = storage.incr(_key(rule, identifier, "lockouts"), rule.memory)
        wait = rule.wait_after(lockouts)
        storage.clear(_key(rule, identifier, "wait"))
        storage.incr(_key(rule, identifier, "wait"), wait)
        started.append(Lockout(rule.scope, identifier, wait, lockouts))
    return started


def record_success(employee_no: str) -> None:
    """A successful login forgets the account's failures and earlier lockouts."""
    storage = _storage()
    account = next(rule for rule in rules() if rule.scope == "account")
    identifier = _identifiers(employee_no, None)["account"]
    for what in ("failures", "lockouts", "wait"):
        storage.clear(_key(account, identifier, what))


class DatabaseStorage(Storage):
    """A `limits` storage in the app's own database (`lmsdb://`), shared by every worker and app
    server that shares the database. Counters expire on lms.clock's time. Each call runs in its own
    short transaction on its own connection, so a count survives whatever the request rolls back."""

    STORAGE_SCHEME = ["lmsdb"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self):
        return sa.exc.SQLAlchemyError

    @staticmethod
    def _table():
        from lms.models.users import RateLimitCounter

        return RateLimitCounter.__table__

    @staticmethod
    def _engine():
        from lms.extensions import db

        return db.engine

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        table, engine, now = self._table(), self._engine(), _now()
        if engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        elif engine.dialect.name == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:  # pragma: no cover - the app supports these two
            raise RuntimeError(f"lmsdb:// rate-limit storage does not support {engine.dialect.name}")
        expired = table.c.expires_at <= now
        # One statement: a new key, a live key and an expired key each come out right, even when
        # two workers count the same key at the same instant.
        statement = insert(table).values(key=key, count=amount, expires_at=now + expiry)
        statement = statement.on_conflict_do_update(index_elements=[table.c.key], set_={
            "count": sa.case((expired, amount), else_=table.c.count + amount),
            "expires_at": sa.case((expired, now + expiry), else_=table.c.expires_at),
        }).returning(table.c.count)
        with engine.begin() as connection:
            connection.execute(table.delete().where(table.c.expires_at <= now - 60))  # sweep the dead
            return int(connection.execute(statement).scalar_one())

    def get(self, key: str) -> int:
        table = self._table()
        with self._engine().connect() as connection:
            count = connection.execute(sa.select(table.c.count).where(
                table.c.key == key, table.c.expires_at > _now())).scalar()
        return int(count or 0)

    def get_expiry(self, key: str) -> float:
        table, now = self._table(), _now()
        with self._engine().connect() as connection:
            expires = connection.execute(sa.select(table.c.expires_at).where(
                table.c.key == key, table.c.expires_at > now)).scalar()
        return float(expires) if expires is not None else now

    def check(self) -> bool:
        try:
            with self._engine().connect() as connection:
                connection.execute(sa.select(sa.literal(1)))
            return True
        except sa.exc.SQLAlchemyError:
            return False

    def reset(self) -> int | None:
        table = self._table()
        with self._engine().begin() as connection:
            return connection.execute(table.delete().where(table.c.key.like(f"{PREFIX}/%"))).rowcount

    def clear(self, key: str) -> None:
        table = self._table()
        with self._engine().begin() as connection:
            connection.execute(table.delete().where(table.c.key == key))
