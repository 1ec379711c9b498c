"""Notifications by email, never inside a request.

When LMS_SMTP_URL is set, notify() also queues an OutgoingMail for a recipient with an email
address, written then in the recipient's language (`queue_mail`). Nothing is sent in the request:

- **Sender.** After a commit that queued mail, this process's sender thread is woken
  (LMS_MAIL_WORKER=thread, the default). It sends what is due, sleeps until the next retry is due,
  and stops when nothing is left queued. With LMS_MAIL_WORKER=external no thread is started:
  `lms notify send-mail` (cron, every minute) sends instead. `lms notify send-due` also sends once.
- **Claiming** a row is one conditional UPDATE that moves its `next_attempt_at` a lease ahead
  (`... WHERE id=? AND status IN ('queued','sending') AND next_attempt_at <= now`): of two
  processes exactly one gets it, and a row whose sender died mid-way is taken again after the lease.
- **Retries**: a failure (connection refused, timeout, a 4xx/5xx reply) is logged on "lms.mail" and
  the mail tried again after 1 min, 5 min, 30 min and 2 h; after the fifth failure it is `failed`
  (kept with its last error). A page never waits on SMTP: the request only writes a row.

The library is the standard one (smtplib, email.message.EmailMessage): well kept, no dependency.
LMS_SMTP_URL is smtp://user:password@host:port (add ?starttls=1 to upgrade the connection) or
smtps://user:password@host:port (TLS from the start); user and password are URL-encoded.
"""
from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from urllib.parse import parse_qs, unquote, urlsplit

from flask import Flask, current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import event, func, select, update

from lms.clock import utcnow
from lms.extensions import db
from lms.models.notifications import Notification, OutgoingMail
from lms.models.users import User

log = logging.getLogger("lms.mail")

RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2))
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
LEASE = timedelta(minutes=10)  # a claimed mail is taken again after this if its sender vanished
BATCH = 50
DEFAULT_TIMEOUT = 20  # seconds for the SMTP connection and each reply
MAX_SLEEP = 300.0  # the sender thread looks again at least this often while mail waits


class MailSettingsInvalid(ValueError):
    """LMS_SMTP_URL cannot be understood."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    username: str | None
    password: str | None
    ssl: bool
    starttls: bool


def smtp_settings(url: str) -> SmtpSettings:
    """Parse LMS_SMTP_URL. Raises MailSettingsInvalid."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise MailSettingsInvalid("LMS_SMTP_URL must look like smtp://user:password@host:port or smtps://...")
    try:
        port = parts.port or (465 if parts.scheme == "smtps" else 25)
    except ValueError as exc:
        raise MailSettingsInvalid(f"LMS_SMTP_URL: {exc}") from exc
    query = parse_qs(parts.query)
    starttls = (query.get("starttls") or ["0"])[0].lower() in ("1", "true", "yes")
    return SmtpSettings(host=parts.hostname, port=port,
                        username=unquote(parts.username) if parts.username else None,
                        password=unquote(parts.password) if parts.password is not None else None,
                        ssl=parts.scheme == "smtps", starttls=starttls)


def mail_enabled() -> bool:
    return bool(current_app.config.get("LMS_SMTP_URL"))


# --- queueing (inside the operation that notifies) -------------------------------------------------

def compose(notification: Notification, user: User) -> tuple[str, str]:
    """(subject, body) in the recipient's language (their preferred language, else the default)."""
    from lms.notifications.messages import render

    language = user.preferred_language or current_app.config.get("BABEL_DEFAULT_LOCALE") or "en"
    base = current_app.config.get("LMS_BASE_URL", "").rstrip("/")
    with force_locale(language):
        message = render(notification.kind, notification.params)
        lines = [_("Hello %(name)s,", name=user.name), "", message, ""]
        if notification.link:
            lines += [_("Open it here: %(url)s", url=base + notification.link), ""]
        inbox = base + "/inbox"
        lines += ["-- ", _("Service Academy. Every notification is also in your inbox: %(url)s", url=inbox)]
        subject = _("[Service Academy] %(message)s", message=message)
    return subject[:300], "\n".join(lines)


def queue_mail(notification: Notification, user: User | None) -> OutgoingMail | None:
    """Queue the notification's mail when mail is set up and the user has an address (the caller
    commits; the sender is woken after that commit)."""
    if user is None or not user.email or not user.active or not mail_enabled():
        return None
    subject, body = compose(notification, user)
    now = notification.created_at or utcnow()
    mail = OutgoingMail(notification=notification, to_address=user.email, subject=subject, body=body,
                        status="queued", attempts=0, next_attempt_at=now, last_error="", created_at=now)
    db.session.add(mail)
    db.session.info["lms_mail_queued"] = True
    _listen_for_commits()
    return mail


def _listen_for_commits() -> None:
    if not event.contains(db.session, "after_commit", _after_commit):
        event.listen(db.session, "after_commit", _after_commit)
        event.listen(db.session, "after_rollback", _after_rollback)


def _after_commit(session) -> None:
    if session.info.pop("lms_mail_queued", False):
        try:
            if current_app.config.get("LMS_MAIL_WORKER", "thread") == "thread":
                wake_sender(current_app._get_current_object())
        except Exception:  # noqa: BLE001 - the operation is committed; the mail waits for `send-mail`
            log.exception("could not wake the mail sender")


def _after_rollback(session) -> None:
    session.info.pop("lms_mail_queued", None)


# --- sending ---------------------------------------------------------------------------------------

def claim(mail_id: int, now: datetime) -> bool:
    """Take one due mail for this sender (commits). False when another sender has it."""
    claimed = db.session.execute(
        update(OutgoingMail).where(OutgoingMail.id == mail_id, OutgoingMail.status.in_(("queued", "sending")),
                                   OutgoingMail.next_attempt_at <= now)
        .values(status="sending", next_attempt_at=now + LEASE)
        .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return claimed == 1


def _message(mail: OutgoingMail) -> EmailMessage:
    sender = current_app.config.get("LMS_MAIL_FROM") or "academy@localhost"
    message = EmailMessage()
    message["Subject"] = mail.subject
    message["From"] = formataddr(("Service Academy", sender)) if "<" not in sender else sender
    message["To"] = mail.to_address
    message["Message-ID"] = make_msgid(idstring=f"lms-{mail.id}", domain=sender.rpartition("@")[2].strip("> ") or None)
    message.set_content(mail.body)
    return message


def deliver(message: EmailMessage, settings: SmtpSettings, timeout: float) -> None:
    """Hand one message to the SMTP server. Raises smtplib.SMTPException or OSError."""
    if settings.ssl:
        client = smtplib.SMTP_SSL(settings.host, settings.port, timeout=timeout,
                                  context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=timeout)
    with client:
        if settings.starttls:
            client.starttls(context=ssl.create_default_context())
        if settings.username:
            client.login(settings.username, settings.password or "")
        client.send_message(message)


def _record(mail_id: int, **values) -> None:
    db.session.execute(update(OutgoingMail).where(OutgoingMail.id == mail_id).values(**values)
                       .execution_options(synchronize_session=False))
    db.session.commit()


def send_one(mail: OutgoingMail) -> bool:
    """Send a claimed mail and record the outcome (commits). True when it was sent."""
    try:
        settings = smtp_settings(current_app.config.get("LMS_SMTP_URL", ""))
        timeout = float(current_app.config.get("LMS_SMTP_TIMEOUT", DEFAULT_TIMEOUT))
        deliver(_message(mail), settings, timeout)
    except (smtplib.SMTPException, OSError, MailSettingsInvalid, ValueError) as exc:
        attempts = mail.attempts + 1
        error = f"{type(exc).__name__}: {exc}"[:1000]
        if attempts >= MAX_ATTEMPTS:
            log.error("mail %s to %s failed for good after %s attempts: %s", mail.id, mail.to_address, attempts,
                      error)
            _record(mail.id, status="failed", attempts=attempts, last_error=error)
        else:
            retry_at = utcnow() + RETRY_DELAYS[attempts - 1]
            log.warning("mail %s to %s failed (attempt %s), retrying at %s: %s", mail.id, mail.to_address,
                        attempts, retry_at.isoformat(timespec="seconds"), error)
            _record(mail.id, status="queued", attempts=attempts, last_error=error, next_attempt_at=retry_at)
        return False
    _record(mail.id, status="sent", attempts=mail.attempts + 1, sent_at=utcnow(), last_error="")
    log.info("mail %s sent to %s", mail.id, mail.to_address)
    return True


def send_queued(now: datetime | None = None, *, limit: int | None = None) -> tuple[int, int]:
    """Send every mail due at `now` (a sending one whose lease ran out too). Returns (sent, failed
    attempts). Safe to run in several processes at once."""
    sent = failed = 0
    while True:
        now = now or utcnow()
        due = list(db.session.scalars(
            select(OutgoingMail.id).where(OutgoingMail.status.in_(("queued", "sending")),
                                          OutgoingMail.next_attempt_at <= now)
            .order_by(OutgoingMail.next_attempt_at, OutgoingMail.id).limit(BATCH)))
        db.session.rollback()  # end the read: SQLite keeps no snapshot open while we talk to SMTP
        if not due:
            break
        progressed = False
        for mail_id in due:
            if not claim(mail_id, now):
                continue
            progressed = True
            mail = db.session.get(OutgoingMail, mail_id, populate_existing=True)
            if send_one(mail):
                sent += 1
            else:
                failed += 1
            if limit is not None and sent + failed >= limit:
                return sent, failed
        if not progressed:
            break
        now = None  # the next batch is judged at the real time again
    return sent, failed


def next_due_in(now: datetime) -> float | None:
    """Seconds until the next queued mail is due (0 when one is), or None when nothing waits."""
    soonest = db.session.scalar(select(func.min(OutgoingMail.next_attempt_at))
                                .where(OutgoingMail.status.in_(("queued", "sending"))))
    db.session.rollback()
    if soonest is None:
        return None
    return max(0.0, (soonest - now).total_seconds())


# --- the sender thread of this process ------------------------------------------------------------

class Sender:
    """One daemon thread per app and process: woken after a commit that queued mail, it sends what
    is due, waits for the next retry, and ends when nothing is queued any more."""

    def __init__(self, app: Flask):
        self.app = app
        self.wakeup = threading.Event()
        self.stopped = False
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()

    def wake(self) -> None:
        with self.lock:
            self.wakeup.set()
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="lms-mail", daemon=True)
                self.thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self.stopped = True
        self.wakeup.set()
        if self.thread is not None:
            self.thread.join(timeout)

    def _run(self) -> None:
        while not self.stopped:
            self.wakeup.clear()
            with self.app.app_context():
                try:
                    send_queued()
                    wait = next_due_in(utcnow())
                except Exception:  # noqa: BLE001 - keep the thread alive; the next wake-up tries again
                    log.exception("mail sender failed")
                    wait = 60.0
                finally:
                    db.session.remove()
            with self.lock:
                if wait is None and not self.wakeup.is_set():
                    self.thread = None  # nothing queued: end; the next commit starts a new thread
                    return
            self.wakeup.wait(max(1.0, min(wait if wait is not None else MAX_SLEEP, MAX_SLEEP)))

    def idle(self) -> bool:
        return self.thread is None or not self.thread.is_alive()


SENDERS: dict[int, Sender] = {}
_senders_lock = threading.Lock()


def sender_for(app: Flask) -> Sender:
    with _senders_lock:
        sender = SENDERS.get(id(app))
        if sender is None or sender.app is not app:
            sender = SENDERS[id(app)] = Sender(app)
        return sender


def wake_sender(app: Flask) -> None:
    sender_for(app).wake()
