"""`lms notify ...`: the day's reminders and the mail queue, for cron. Cheap to import (click only)."""
from __future__ import annotations

from datetime import datetime

import click
from flask.cli import with_appcontext

from lms.cli import migrated


def _no_sender_thread() -> None:
    """This command sends the mail itself before it exits: no background thread that the exit would cut off."""
    from flask import current_app

    current_app.config["LMS_MAIL_WORKER"] = "external"


@click.group()
def notify() -> None:
    """Notifications: the day's reminders and the mail queue."""


@notify.command("send-due")
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Run as of this day (YYYY-MM-DD) in the center's time zone, to catch up a missed day.")
@with_appcontext
@migrated
def send_due(day: datetime | None) -> None:
    """Add the day's reminders (due dates, sessions, surveys, expiring certificates), then send
    the queued mail. Idempotent: running it twice adds nothing twice. Cron: `5 7 * * * lms notify send-due`."""
    from lms.notifications import mail
    from lms.notifications.producers import moment_of, run_producers

    _no_sender_thread()
    now = moment_of(day.date() if day else None)
    failed = False
    for run in run_producers(now):
        if run.error == "missing":
            click.echo(f"{run.module}: not installed, skipped", err=True)
        elif run.error:
            failed = True
            click.echo(f"{run.module}: failed: {run.error}", err=True)
        else:
            click.echo(f"{run.module}: {run.added} added")
    if mail.mail_enabled():
        sent, retrying = mail.send_queued()
        click.echo(f"mail: {sent} sent, {retrying} failed (retried later)")
    if failed:
        raise SystemExit(1)


@notify.command("send-mail")
@with_appcontext
@migrated
def send_mail() -> None:
    """Send the queued notification mail that is due (retries included). For cron every minute
    with LMS_MAIL_WORKER=external; safe beside the web processes' senders."""
    from lms.notifications import mail

    if not mail.mail_enabled():
        click.echo("LMS_SMTP_URL is not set: no mail is sent.")
        return
    _no_sender_thread()
    sent, retrying = mail.send_queued()
    click.echo(f"mail: {sent} sent, {retrying} failed (retried later)")
