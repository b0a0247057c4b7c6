"""Mail relay: sends the mail outbox (triage_mail_outbox) over SMTP, with retries.

    python manage.py mail_relay            # run until SIGTERM/SIGINT
    python manage.py mail_relay --once     # one pass over what is due, then exit

One row at a time, each in its own transaction that holds the row's lock (SELECT ...
FOR UPDATE SKIP LOCKED) while the SMTP server takes the message, and marks it sent
before committing: two relays never send one mail, and a mail server that is down or
refuses leaves the row pending with its error and a later attempt time (back-off
doubling from BACKOFF_FIRST_S to BACKOFF_MAX_S). The one window for a second copy is a
crash between the server's "250 OK" and the commit, milliseconds wide.

A permanent refusal (an SMTP 5xx answer: no such mailbox) is not retried; nor is a
mail after MAX_ATTEMPTS (about an hour of a server that is down). Both stay in the
admin's mail outbox with their error.
"""
from __future__ import annotations

import logging
import smtplib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.core.mail import get_connection
from django.core.management.base import BaseCommand
from django.db import close_old_connections, transaction
from django.utils import timezone

from triage_app.mail import email_message
from triage_app.models import MailMessage
from triage_app.workers import relay_loop, stop_on_signals

log = logging.getLogger("triage_app.mail_relay")

BACKOFF_FIRST_S = 2.0
BACKOFF_MAX_S = 60.0
MAX_ATTEMPTS = 60


def backoff(attempts: int) -> timedelta:
    """The wait before attempt `attempts + 1`: 2 s, 4 s, 8 s ... at most a minute, so a
    mail server back after an outage gets its mail within a minute."""
    return timedelta(seconds=min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2 ** max(0, attempts - 1)))


@dataclass
class PassResult:
    sent: int = 0
    failed: int = 0


def _due():
    return MailMessage.objects.filter(sent_at__isnull=True, attempts__lt=MAX_ATTEMPTS,
                                      next_attempt_at__lte=timezone.now())


def permanent(exc: Exception) -> bool:
    """An SMTP 5xx answer: the server will say the same next time."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(500 <= code < 600 for code, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPResponseException) and 500 <= exc.smtp_code < 600


def send_one(mail_id: int, *, connection) -> bool | None:
    """Send one due mail; True sent, False failed (retried later), None taken or not due."""
    with transaction.atomic():
        mail = _due().select_for_update(skip_locked=True).filter(id=mail_id).first()
        if mail is None:
            return None
        now = timezone.now()
        try:
            email_message(mail, connection=connection).send()
        except (OSError, smtplib.SMTPException) as exc:
            mail.attempts = MAX_ATTEMPTS if permanent(exc) else mail.attempts + 1
            mail.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            mail.next_attempt_at = now + backoff(mail.attempts)
            mail.save(update_fields=["attempts", "last_error", "next_attempt_at"])
            retry = "not retried" if mail.attempts >= MAX_ATTEMPTS else \
                f"next in {backoff(mail.attempts).total_seconds():.0f}s"
            log.warning("mail %s to %s not sent (attempt %d, %s): %s", mail.id, mail.to_address, mail.attempts,
                        retry, mail.last_error)
            return False
        mail.attempts += 1
        mail.sent_at = now
        mail.last_error = ""
        mail.save(update_fields=["attempts", "sent_at", "last_error"])
    log.info("mail %s (%s) sent to %s", mail.id, mail.kind, mail.to_address)
    return True


def relay_pass(*, batch_size: int = 100, connection_factory: Callable = get_connection) -> PassResult:
    """Send up to `batch_size` due mails over one SMTP connection.

    After the first failure the pass stops: the server is most likely down, and every
    further row would only wait for the same timeout."""
    result = PassResult()
    ids = list(_due().order_by("next_attempt_at", "id").values_list("id", flat=True)[:batch_size])
    if not ids:
        return result
    connection = connection_factory()
    try:
        for mail_id in ids:
            outcome = send_one(mail_id, connection=connection)
            if outcome is True:
                result.sent += 1
            elif outcome is False:
                result.failed += 1
                break
    finally:
        try:
            connection.close()
        except (OSError, smtplib.SMTPException):
            pass  # the server went away mid-pass; what was sent is marked sent
    return result


def run(*, once: bool, batch_size: int = 100, interval_s: float = 1.0, stop: threading.Event | None = None,
        between_passes: Callable[[], None] = lambda: None) -> int:
    def run_pass() -> tuple[int, bool]:
        result = relay_pass(batch_size=batch_size)
        return result.sent, bool(result.failed)

    return relay_loop(run_pass=run_pass, what="mail outbox", once=once, batch_size=batch_size,
                      interval_s=interval_s, stop=stop, between_passes=between_passes)


class Command(BaseCommand):
    help = "Send the mail outbox to customers over SMTP (TRIAGE_SMTP_URL), retrying with back-off."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--once", action="store_true", help="one pass over the due mails, then exit")
        parser.add_argument("--batch-size", type=int, default=100)
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between passes when idle")

    def handle(self, *args, once: bool = False, batch_size: int = 100, interval: float = 1.0, **options) -> None:
        stop = stop_on_signals()
        sent = run(once=once, batch_size=batch_size, interval_s=interval, stop=stop,
                   between_passes=close_old_connections)
        log.info("mail relay stopped; %d mails sent", sent)
