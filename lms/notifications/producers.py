"""The day's reminders: every capability that reminds people of something due has a
`lms/<capability>/reminders.py` with `send_due(now) -> int`, which calls notify(..., key=...) for
what is due at `now` (the key makes a second run add nothing) and returns how many it added,
without committing. `lms notify send-due` (cron, once a day) runs them all here."""
from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timezone

from sqlalchemy.exc import IntegrityError

from lms.clock import center_zone, utcnow
from lms.extensions import db

log = logging.getLogger(__name__)

PRODUCERS = ("lms.plans.reminders", "lms.classroom.reminders", "lms.surveys.reminders",
             "lms.certificates.reminders")


@dataclass
class ProducerRun:
    module: str
    added: int | None = None  # None: the module does not exist (yet) or failed
    error: str = ""


def _import(name: str):
    """The producer module, or None when it does not exist (a capability without reminders)."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and name.startswith(exc.name):
            return None
        raise


def run_producers(now: datetime, producers: tuple[str, ...] = PRODUCERS) -> list[ProducerRun]:
    """Run every producer at `now`, one commit each: a failing one is rolled back and logged, the
    others still run."""
    runs = []
    for name in producers:
        run = ProducerRun(name)
        runs.append(run)
        try:
            module = _import(name)
            if module is None:
                run.error = "missing"
                log.warning("reminders: %s does not exist; skipped", name)
                continue
            run.added = _send_due(module, now)
        except Exception as exc:  # noqa: BLE001 - one capability's bug must not stop the others' reminders
            db.session.rollback()
            run.added, run.error = None, f"{type(exc).__name__}: {exc}"
            log.exception("reminders: %s failed", name)
    return runs


def _send_due(module, now: datetime, tries: int = 3) -> int:
    """One producer's reminders, committed. Two runs at once (cron on two app servers) may add the same
    reminder in the same instant: the database's (user, key) uniqueness refuses the second commit, and
    the producer runs again, now adding only what the other run left out. Never a reminder twice."""
    for attempt in range(tries):
        try:
            added = int(module.send_due(now) or 0)
            db.session.commit()
            return added
        except IntegrityError:
            db.session.rollback()
            if attempt == tries - 1:
                raise
    return 0  # pragma: no cover


def moment_of(day: date | None) -> datetime:
    """`now`, or the same time of day on `day` in the center's zone (to catch up a missed day)."""
    now = utcnow()
    if day is None:
        return now
    zone = center_zone()
    local = now.astimezone(zone)
    return datetime.combine(day, time(local.hour, local.minute, local.second), zone).astimezone(timezone.utc)
