"""The mail relay against a real SMTP server (aiosmtpd on a free loopback port)."""
from __future__ import annotations

import email
import email.policy
import socket
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from triage_app import services
from triage_app.management.commands import mail_relay
from triage_app.models import MailMessage

pytestmark = pytest.mark.django_db

TEXT = "My parcel was due on Tuesday and it still is not here, nobody answers the phone."


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Recorder:
    """Keeps every message it is given; `refuse` answers RCPT with a permanent 550."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.refuse = False

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.original_content, policy=email.policy.default))
        return "250 OK"


SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"  # pytest-django's default is locmem


@pytest.fixture
def smtp(settings):
    """A real SMTP server; the app's EMAIL_* settings point at it."""
    settings.EMAIL_BACKEND = SMTP_BACKEND
    port = free_port()
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    controller.start()
    recorder.controller = controller
    yield recorder
    controller.stop()


@pytest.fixture
def no_smtp(settings):
    """Nothing listens on the configured port (the mail server is down)."""
    settings.EMAIL_BACKEND = SMTP_BACKEND
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    settings.EMAIL_TIMEOUT = 2


def make_due(**filters) -> None:
    """Time passes: every pending mail's next attempt is due now."""
    MailMessage.objects.filter(sent_at__isnull=True, **filters).update(next_attempt_at=timezone.now())


def test_a_pass_sends_every_due_mail_once(smtp):
    first = services.complaint_submit(text=TEXT, email="ann@example.com", source="web")
    second = services.complaint_submit(text=TEXT, email="bob@example.com", source="web")
    result = mail_relay.relay_pass()
    assert (result.sent, result.failed) == (2, 0)
    assert sorted(m["To"] for m in smtp.messages) == ["ann@example.com", "bob@example.com"]
    got = {m["To"]: m for m in smtp.messages}["ann@example.com"]
    row = MailMessage.objects.get(complaint=first)
    assert got["Message-ID"] == row.message_id and got["Reply-To"] == row.reply_to
    assert got["Subject"] == row.subject and got["Auto-Submitted"] == "auto-generated"
    assert first.tracking_code in got.get_body(preferencelist=("plain",)).get_content()
    assert row.sent_at is not None and row.attempts == 1 and row.last_error == ""
    assert MailMessage.objects.get(complaint=second).sent_at is not None
    assert mail_relay.relay_pass().sent == 0 and len(smtp.messages) == 2  # nothing twice


def test_a_server_that_is_down_delays_mail_and_loses_none(no_smtp, settings):
    complaint = services.complaint_submit(text=TEXT, email="ann@example.com", source="web")
    before = timezone.now()
    result = mail_relay.relay_pass()
    assert (result.sent, result.failed) == (0, 1)
    row = MailMessage.objects.get(complaint=complaint)
    assert row.sent_at is None and row.attempts == 1
    assert "ConnectionRefusedError" in row.last_error
    assert row.next_attempt_at >= before + timedelta(seconds=mail_relay.BACKOFF_FIRST_S)
    assert mail_relay.relay_pass().failed == 0  # not due yet: not tried again at once

    # The server comes back; when the retry is due the mail goes out, once.
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=settings.EMAIL_PORT)
    controller.start()
    try:
        make_due()
        assert mail_relay.relay_pass().sent == 1
        make_due()
        assert mail_relay.relay_pass().sent == 0
    finally:
        controller.stop()
    assert [m["Message-ID"] for m in recorder.messages] == [row.message_id]
    row.refresh_from_db()
    assert row.sent_at is not None and row.attempts == 2 and row.last_error == ""


def test_a_permanent_refusal_is_not_retried(smtp):
    smtp.refuse = True
    complaint = services.complaint_submit(text=TEXT, email="nobody@example.com", source="web")
    assert mail_relay.relay_pass().failed == 1
    row = MailMessage.objects.get(complaint=complaint)
    assert row.attempts == mail_relay.MAX_ATTEMPTS and "550" in row.last_error
    smtp.refuse = False
    make_due()
    assert mail_relay.relay_pass().sent == 0 and smtp.messages == []


def test_the_pass_stops_at_the_first_failure(no_smtp):
    for name in ("ann", "bob", "cy"):
        services.complaint_submit(text=TEXT, email=f"{name}@example.com", source="web")
    result = mail_relay.relay_pass()
    assert (result.sent, result.failed) == (0, 1)
    assert list(MailMessage.objects.order_by("id").values_list("attempts", flat=True)) == [1, 0, 0]


def test_backoff_doubles_up_to_a_minute():
    assert [mail_relay.backoff(n).total_seconds() for n in (1, 2, 3, 4, 5, 6, 7, 20)] == [
        2, 4, 8, 16, 32, 60, 60, 60]


def test_run_once_drains_what_is_due(smtp):
    for name in ("ann", "bob", "cy"):
        services.complaint_submit(text=TEXT, email=f"{name}@example.com", source="web")
    assert mail_relay.run(once=True, batch_size=2) == 3
    assert len(smtp.messages) == 3
