"""The Kafka outbox: handing entries to the producer and recording its delivery reports."""
from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from functools import partial

from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.utils import timezone

from ingest.producer import ComplaintPublisher, complaint_message, get_publisher
from triage_app.models import Complaint, OutboxEntry
from triage_core.config import addresses

log = logging.getLogger(__name__)


def outbox_owe(*, complaint: Complaint, text: str, revision: int = 0) -> OutboxEntry:
    """The Kafka message `complaint` owes (its text, or with `revision` the conversation
    so far), written in the caller's transaction and published after its commit; if
    that publish fails, `manage.py outbox_relay` sends it later."""
    entry = OutboxEntry.objects.create(
        complaint=complaint, topic=addresses().kafka_app_topic, key=str(complaint.id),
        payload=complaint_message(complaint_id=str(complaint.id), text=text, source=complaint.source,
                                  submitted_at=complaint.created_at, revision=revision))
    transaction.on_commit(partial(outbox_publish_rollback_safe, entries=[entry]))
    return entry


def outbox_record_delivery(*, entry_id: int, error: str | None) -> None:
    """Record a delivery report of the Kafka producer (called from its callback)."""
    try:
        if error is None:
            OutboxEntry.objects.filter(id=entry_id, published_at__isnull=True).update(published_at=timezone.now())
        else:
            OutboxEntry.objects.filter(id=entry_id).update(last_error=error[:2000])
    except DatabaseError:
        # Runs on the producer's poll thread, outside any request: a broken connection
        # must not kill the thread. The entry stays pending and the relay resends it;
        # a duplicate is harmless because the stream upserts by complaint id.
        log.exception("could not record Kafka delivery of outbox entry %s", entry_id)
        connection.close()


def _delivery_callback(entry_id: int):
    def on_delivery(err, msg) -> None:
        outbox_record_delivery(entry_id=entry_id, error=None if err is None else str(err))
    return on_delivery


def outbox_publish(*, entries: Iterable[OutboxEntry], publisher: ComplaintPublisher | None = None) -> int:
    """Hand entries to the Kafka producer; `published_at` is set by the delivery callback."""
    publisher = publisher or get_publisher()
    entries = list(entries)
    if not entries:
        return 0
    OutboxEntry.objects.filter(id__in=[e.id for e in entries]).update(attempts=F("attempts") + 1)
    for entry in entries:
        publisher.publish(topic=entry.topic, key=entry.key, value=entry.payload,
                          on_delivery=_delivery_callback(entry.id))
    return len(entries)


def outbox_publish_rollback_safe(*, entries: Sequence[OutboxEntry]) -> None:
    """The after-commit publish of complaint_submit.

    The complaint is already committed and its outbox entry durable, so a failure here
    (no librdkafka client, local queue full) must not turn the customer's 201 into a
    500: it is logged and left to the relay.
    """
    try:
        outbox_publish(entries=entries)
    except Exception:
        log.exception("publish after commit failed; the outbox relay will retry %s",
                      [e.id for e in entries])
