"""Notifications by email: real messages into a local SMTP server (aiosmtpd), failures retried with
backoff then given up, one sender per mail, and the settings URL."""
import email
import email.policy
import logging
import socket
import time
from datetime import datetime, timedelta, timezone

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from lms.extensions import db
from lms.models.notifications import OutgoingMail
from lms.notifications import mail
from lms.notifications.services import notify

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Sink:
    """aiosmtpd handler: keeps every message; refuses the next `refuse` ones with a 451."""

    def __init__(self):
        self.messages = []
        self.refuse = 0

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            self.refuse -= 1
            return "451 4.3.0 Mailbox busy, try again later"
        self.messages.append((envelope.rcpt_tos, email.message_from_bytes(envelope.content, policy=email.policy.default)))
        return "250 Message accepted for delivery"


@pytest.fixture
def sink():
    handler = Sink()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.port = controller.port
    yield handler
    controller.stop()


@pytest.fixture
def app_config(sink):
    return {"LMS_SMTP_URL": f"smtp://127.0.0.1:{sink.port}", "LMS_MAIL_WORKER": "external",
            "LMS_MAIL_FROM": "academy@example.com", "LMS_BASE_URL": "https://academy.example.com",
            "LMS_SMTP_TIMEOUT": 5}


@pytest.fixture
def sender_stopped(app):
    yield
    mail.sender_for(app).stop()


def wait_for(predicate, seconds=10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def mails():
    db.session.rollback()
    return list(db.session.scalars(select(OutgoingMail).order_by(OutgoingMail.id)
                                   .execution_options(populate_existing=True)))


# --- settings --------------------------------------------------------------------------------------

def test_smtp_urls():
    plain = mail.smtp_settings("smtp://mailer%40corp:p%3Ass%2Fword@mail.example.com:2525?starttls=1")
    assert plain == mail.SmtpSettings("mail.example.com", 2525, "mailer@corp", "p:ss/word", ssl=False, starttls=True)
    secure = mail.smtp_settings("smtps://relay.example.com")
    assert (secure.port, secure.ssl, secure.starttls, secure.username) == (465, True, False, None)
    assert mail.smtp_settings("smtp://localhost").port == 25


@pytest.mark.parametrize("url", ["", "http://mail.example.com", "smtp://", "smtp://host:notaport", "mail.example.com"])
def test_bad_smtp_urls_are_refused(url):
    with pytest.raises(mail.MailSettingsInvalid):
        mail.smtp_settings(url)


# --- queueing ------------------------------------------------------------------------------------

def test_only_people_with_an_address_and_only_when_mail_is_set_up(app, make_user):
    with_address, without = make_user(email="zhang@example.com"), make_user()
    notify(with_address.id, "welcome", now=T0)
    notify(without.id, "welcome", now=T0)
    db.session.commit()
    app.config["LMS_SMTP_URL"] = ""
    notify(with_address.id, "welcome", now=T0)
    db.session.commit()
    assert [(m.to_address, m.status, m.attempts) for m in mails()] == [("zhang@example.com", "queued", 0)]


def test_the_mail_is_written_in_the_recipients_language(app, make_user, sink):
    agent = make_user(email="liu@example.com", name="刘洋", preferred_language="zh_CN")
    notify(agent.id, "certificate_expiring", params={"title": "服务礼仪复训", "expires_on": "2026-12-20"},
           link="/courses/etiquette", now=T0)
    db.session.commit()
    assert mail.send_queued() == (1, 0)
    ((recipients, message),) = sink.messages
    assert recipients == ["liu@example.com"]
    assert message["To"] == "liu@example.com" and "academy@example.com" in message["From"]
    assert "服务礼仪复训" in message["Subject"] and "2026年12月20日" in message["Subject"]
    body = message.get_content()
    assert "刘洋" in body and "https://academy.example.com/courses/etiquette" in body
    assert "https://academy.example.com/inbox" in body
    (sent,) = mails()
    assert (sent.status, sent.attempts, sent.last_error) == ("sent", 1, "") and sent.sent_at is not None


def test_a_rolled_back_operation_queues_nothing(app, make_user):
    agent = make_user(email="a@example.com")
    notify(agent.id, "welcome", now=T0)
    db.session.rollback()
    assert mails() == [] and "lms_mail_queued" not in db.session.info


# --- failures and retries ------------------------------------------------------------------------

def test_a_refused_mail_is_retried_after_a_minute(app, make_user, sink, frozen_now, caplog):
    frozen_now(T0)
    agent = make_user(email="zhao@example.com")
    notify(agent.id, "survey_waiting", params={"title": "问卷"}, now=T0)
    db.session.commit()
    sink.refuse = 1
    with caplog.at_level(logging.WARNING, logger="lms.mail"):
        assert mail.send_queued(T0) == (0, 1)
    (queued,) = mails()
    assert (queued.status, queued.attempts, queued.next_attempt_at) == ("queued", 1, T0 + timedelta(minutes=1))
    assert "451" in queued.last_error and sink.messages == []
    assert any("retrying" in record.getMessage() for record in caplog.records)
    frozen_now(T0 + timedelta(seconds=59))
    assert mail.send_queued() == (0, 0)  # not due yet
    frozen_now(T0 + timedelta(minutes=1))
    assert mail.send_queued() == (1, 0)
    assert len(sink.messages) == 1 and mails()[0].status == "sent" and mails()[0].attempts == 2


def test_backoff_then_failed_for_good(app, make_user, sink, frozen_now, caplog):
    now = frozen_now(T0)
    agent = make_user(email="sun@example.com")
    notify(agent.id, "welcome", now=now)
    db.session.commit()
    sink.refuse = 100
    waits = []
    with caplog.at_level(logging.WARNING, logger="lms.mail"):
        for _ in range(mail.MAX_ATTEMPTS):
            assert mail.send_queued() == (0, 1)
            (row,) = mails()
            if row.status == "queued":
                waits.append(row.next_attempt_at - now)
                now = frozen_now(row.next_attempt_at)
    assert waits == [timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2)]
    (row,) = mails()
    assert (row.status, row.attempts) == ("failed", 5) and "451" in row.last_error
    assert any(record.levelno == logging.ERROR and "for good" in record.getMessage() for record in caplog.records)
    frozen_now(now + timedelta(days=1))
    assert mail.send_queued() == (0, 0)  # a failed mail stays failed


def test_a_server_that_is_down_is_a_failure_like_any_other(app, make_user, frozen_now):
    frozen_now(T0)
    app.config["LMS_SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}"  # nobody listens
    notify(make_user(email="a@example.com").id, "welcome", now=T0)
    db.session.commit()
    assert mail.send_queued() == (0, 1)
    (row,) = mails()
    assert row.status == "queued" and row.attempts == 1 and "Connection" in row.last_error


def test_one_mail_one_sender_and_a_dead_senders_lease_runs_out(app, make_user):
    notify(make_user(email="a@example.com").id, "welcome", now=T0)
    db.session.commit()
    (row,) = mails()
    assert mail.claim(row.id, T0) is True
    assert mail.claim(row.id, T0) is False  # the second sender does not get it
    assert mail.claim(row.id, T0 + mail.LEASE - timedelta(seconds=1)) is False
    assert mail.claim(row.id, T0 + mail.LEASE) is True  # its sender died: taken again after the lease


def test_send_mail_command(app, make_user, sink):
    notify(make_user(email="a@example.com").id, "welcome", now=T0)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["notify", "send-mail"])
    assert result.exit_code == 0 and "mail: 1 sent, 0 failed" in result.output
    assert len(sink.messages) == 1
    again = app.test_cli_runner().invoke(args=["notify", "send-mail"])
    assert "mail: 0 sent" in again.output and len(sink.messages) == 1


# --- the sender thread ---------------------------------------------------------------------------

def test_the_thread_sends_after_the_commit(app, make_user, sink, sender_stopped):
    app.config["LMS_MAIL_WORKER"] = "thread"
    agent = make_user(email="chen@example.com")
    notify(agent.id, "certificate_earned", params={"title": "一星坐席"}, link="/certificates/1")
    assert sink.messages == []  # nothing before the commit
    db.session.commit()
    assert wait_for(lambda: len(sink.messages) == 1)
    assert "一星坐席" in sink.messages[0][1]["Subject"]
    assert wait_for(lambda: mails()[0].status == "sent")
    assert wait_for(lambda: mail.sender_for(app).idle())  # nothing left: the thread ends


def test_external_mode_starts_no_thread(app, make_user, sink):
    notify(make_user(email="a@example.com").id, "welcome")
    db.session.commit()
    time.sleep(0.2)
    assert sink.messages == [] and mails()[0].status == "queued" and mail.sender_for(app).idle()
