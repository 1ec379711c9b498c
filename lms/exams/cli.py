"""`lms exams ...`: the command line side of exams."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from lms.cli import migrated
from lms.clock import utcnow
from lms.formatting import counted


@click.group()
def exams() -> None:
    """Exams and attempts."""


@exams.command("close-expired")
@with_appcontext
@migrated
def close_expired() -> None:
    """Close and grade every attempt past its deadline and allowance (pages do this on their own
    when they touch an attempt; this is for reports and tidy records, from cron if you like)."""
    from lms.exams.services import close_expired_attempts

    closed = close_expired_attempts(utcnow())
    click.echo(f"Closed {counted(closed, 'expired attempt')}.")
