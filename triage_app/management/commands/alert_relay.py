"""Alert relay: delivers the alert outbox (triage_alert_delivery): signed webhook calls
and mail to teams' on-call addresses, with retries.

    python manage.py alert_relay            # run until SIGTERM/SIGINT
    python manage.py alert_relay --once     # one pass over what is due, then exit

As the mail relay does: one row at a time, in its own transaction holding the row's lock
(SELECT ... FOR UPDATE SKIP LOCKED) while the receiver answers, so two relays never
deliver one alert; a failure leaves the row with its error and a later attempt
(back-off doubling from BACKOFF_FIRST_S to BACKOFF_MAX_S), and every attempt is logged
on the row for the admin. A webhook answering 2xx has it; 408, 429, 5xx and network
errors are retried; another 4xx is the receiver refusing for good (no retry), as is an
SMTP 5xx. After MAX_ATTEMPTS (about three hours) the relay gives up; the admin can send
it again from the admin's "Alert deliveries".
"""
from __future__ import annotations

import logging
import smtplib
import threading
from datetime import timedelta

import requests
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.management.base import BaseCommand
from django.db import close_old_connections, transaction
from django.utils import timezone

from triage_app import alerts
from triage_app.management.commands.mail_relay import permanent
from triage_app.models import AlertDelivery, Webhook
from triage_app.workers import relay_loop, stop_on_signals

log = logging.getLogger("triage_app.alert_relay")

BACKOFF_FIRST_S = 10.0
BACKOFF_MAX_S = 900.0
MAX_ATTEMPTS = 16
TIMEOUT_S = (3.0, 10.0)  # connect, read
RETRY_STATUSES = frozenset({408, 429})


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2 ** max(0, attempts - 1)))


def _due():
    return AlertDelivery.objects.filter(delivered_at__isnull=True, gave_up_at__isnull=True,
                                        next_attempt_at__lte=timezone.now())


def _webhook(delivery: AlertDelivery, session: requests.Session) -> tuple[bool, bool, int | None, str]:
    """(delivered, worth retrying, HTTP status, error) of one webhook call."""
    if delivery.webhook is None or not delivery.webhook.active:
        return False, False, None, "the webhook was switched off or deleted"
    body, headers = alerts.webhook_request(delivery)
    try:
        response = session.post(delivery.target, data=body, headers=headers, timeout=TIMEOUT_S,
                                allow_redirects=False)
    except requests.RequestException as exc:
        return False, True, None, f"{type(exc).__name__}: {exc}"
    if 200 <= response.status_code < 300:
        return True, False, response.status_code, ""
    retry = response.status_code >= 500 or response.status_code in RETRY_STATUSES
    return False, retry, response.status_code, f"HTTP {response.status_code}: {response.text[:200]}"


def _mail(delivery: AlertDelivery, connection) -> tuple[bool, bool, int | None, str]:
    payload = alerts.complaint_payload(delivery.complaint)
    label = Webhook.Event(delivery.event).label
    priority = "" if payload["priority"] is None else f" (priority {payload['priority']:.0f})"
    message = EmailMessage(
        subject=f"[triage] {label}: complaint {delivery.complaint.tracking_code}{priority}",
        body=(f"{label} for team {payload['team'] or '-'}: {payload['url']}\n\n"
              f"Category: {payload['category'] or '-'}; language: {payload['language'] or '-'}\n"
              f"{(payload['sla'] or {}).get('reason') or ''}\n\n{payload['text'][:2000]}\n"),
        from_email=settings.DEFAULT_FROM_EMAIL, to=[delivery.target], connection=connection)
    try:
        message.send()
    except (OSError, smtplib.SMTPException) as exc:
        return False, not permanent(exc), None, f"{type(exc).__name__}: {exc}"
    return True, False, None, ""


def deliver_one(delivery_id: int, *, session: requests.Session, connection) -> bool | None:
    """Deliver one due alert; True delivered, False failed, None taken or not due."""
    with transaction.atomic():
        delivery = (_due().select_for_update(skip_locked=True, of=("self",))
                    .select_related("webhook", "complaint", "complaint__score", "complaint__team")
                    .filter(id=delivery_id).first())
        if delivery is None:
            return None
        send = _webhook if delivery.channel == AlertDelivery.Channel.WEBHOOK else _mail
        ok, retry, status, error = send(delivery, session if send is _webhook else connection)
        alerts.attempt_logged(delivery, ok=ok, status=status, error=error)
        now = timezone.now()
        if ok:
            delivery.delivered_at, delivery.last_error = now, ""
        else:
            delivery.last_error = error
            if not retry or delivery.attempts >= MAX_ATTEMPTS:
                delivery.gave_up_at = now
            else:
                delivery.next_attempt_at = now + backoff(delivery.attempts)
        delivery.save(update_fields=["attempts", "attempts_log", "delivered_at", "gave_up_at", "last_error",
                                     "next_attempt_at"])
    if ok:
        log.info("alert %s (%s, %s) delivered to %s", delivery.pk, delivery.event, delivery.channel, delivery.target)
    else:
        log.warning("alert %s to %s not delivered (attempt %d, %s): %s", delivery.pk, delivery.target,
                    delivery.attempts, "given up" if delivery.gave_up_at else "retried later", error)
    return ok


def relay_pass(*, batch_size: int = 50) -> tuple[int, int]:
    """Deliver up to `batch_size` due alerts: (delivered, failed)."""
    ids = list(_due().order_by("next_attempt_at", "id").values_list("id", flat=True)[:batch_size])
    delivered = failed = 0
    if not ids:
        return 0, 0
    connection = get_connection()
    with requests.Session() as session:
        try:
            for delivery_id in ids:
                outcome = deliver_one(delivery_id, session=session, connection=connection)
                delivered += outcome is True
                failed += outcome is False
        finally:
            try:
                connection.close()
            except (OSError, smtplib.SMTPException):
                pass
    return delivered, failed


def run(*, once: bool, batch_size: int = 50, interval_s: float = 1.0, stop: threading.Event | None = None) -> int:
    def run_pass() -> tuple[int, bool]:
        delivered, failed = relay_pass(batch_size=batch_size)
        return delivered, bool(failed)

    return relay_loop(run_pass=run_pass, what="alert outbox", once=once, batch_size=batch_size,
                      interval_s=interval_s, stop=stop, between_passes=close_old_connections)


class Command(BaseCommand):
    help = "Deliver escalation and SLA-breach alerts: signed webhooks and on-call mail, retrying with back-off."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--once", action="store_true", help="one pass over the due alerts, then exit")
        parser.add_argument("--batch-size", type=int, default=50)
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between passes when idle")

    def handle(self, *args, once: bool = False, batch_size: int = 50, interval: float = 1.0, **options) -> None:
        stop = stop_on_signals()
        delivered = run(once=once, batch_size=batch_size, interval_s=interval, stop=stop)
        if once:
            self.stdout.write(f"delivered {delivered} alerts")
