"""Outbox relay: publishes every stored complaint that Kafka has not acknowledged yet.

    python manage.py outbox_relay            # run until SIGTERM/SIGINT
    python manage.py outbox_relay --once     # one pass over what is pending, then exit

The web app publishes right after commit; this covers what that missed (broker down,
process killed between commit and delivery). An entry counts as published only when the
producer's delivery callback reports success, so at worst a complaint is sent twice,
never zero times; the stream's upsert by complaint id makes the duplicate harmless.

A Django worker, so it lives in the app beside score_listener; `ingest/` (the producer
it publishes with) stays free of Django.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from confluent_kafka import KafkaException, Producer
from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.utils import timezone

from ingest.producer import ComplaintPublisher, producer_config
from triage_app.models import OutboxEntry
from triage_app.services import outbox_publish
from triage_app.workers import relay_loop, stop_on_signals

log = logging.getLogger("triage_app.outbox_relay")


@dataclass
class PassResult:
    sent: int
    undelivered: int


def kafka_reachable(producer, *, timeout: float) -> bool:
    try:
        producer.list_topics(timeout=timeout)
    except KafkaException as exc:
        log.warning("Kafka not reachable yet: %s", exc)
        return False
    return True


def relay_pass(*, publisher, batch_size: int, grace_s: float, flush_timeout_s: float) -> PassResult:
    """Publish up to `batch_size` pending entries older than `grace_s` and wait for reports.

    The grace period leaves fresh entries to the web process that is publishing them
    right now, so a healthy system does not send everything twice.
    """
    cutoff = timezone.now() - timedelta(seconds=grace_s)
    entries = list(OutboxEntry.objects.filter(published_at__isnull=True, created_at__lte=cutoff)
                   .order_by("created_at")[:batch_size])
    if not entries:
        return PassResult(sent=0, undelivered=0)
    outbox_publish(entries=entries, publisher=publisher)
    undelivered = publisher.flush(flush_timeout_s)
    log.info("relayed %d outbox entries (%d still undelivered)", len(entries), undelivered)
    return PassResult(sent=len(entries), undelivered=undelivered)


def run(*, publisher, once: bool, batch_size: int = 500, grace_s: float = 10.0, interval_s: float = 2.0,
        flush_timeout_s: float = 30.0, stop: threading.Event | None = None,
        between_passes: Callable[[], None] = lambda: None) -> int:
    """Relay until stopped (or one drain with `once`); returns how many entries were sent.

    `between_passes` runs before each pass: the command passes Django's
    close_old_connections, so a Postgres restart costs one failed pass, not the relay.
    """
    def run_pass() -> tuple[int, bool]:
        result = relay_pass(publisher=publisher, batch_size=batch_size, grace_s=grace_s,
                            flush_timeout_s=flush_timeout_s)
        return result.sent, bool(result.undelivered)

    return relay_loop(run_pass=run_pass, what="outbox", once=once, batch_size=batch_size, interval_s=interval_s,
                      stop=stop, between_passes=between_passes,
                      ready=lambda: kafka_reachable(publisher.producer, timeout=5.0))


class Command(BaseCommand):
    help = "Publish the complaints Kafka has not acknowledged yet (the transactional outbox)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--once", action="store_true", help="one pass over the pending entries, then exit")
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument("--grace", type=float, default=10.0,
                            help="seconds to leave a fresh entry to the web app's own publish (default 10)")
        parser.add_argument("--interval", type=float, default=2.0, help="seconds between passes when idle")

    def handle(self, *args, once: bool = False, batch_size: int = 500, grace: float = 10.0,
               interval: float = 2.0, **options) -> None:
        publisher = ComplaintPublisher(Producer(producer_config(role="app", client_id="triage-relay")))
        stop = stop_on_signals()
        started = time.monotonic()
        sent = run(publisher=publisher, once=once, batch_size=batch_size, grace_s=grace, interval_s=interval,
                   stop=stop, between_passes=close_old_connections)
        publisher.close()
        log.info("relay stopped after %.0fs; %d entries sent", time.monotonic() - started, sent)
