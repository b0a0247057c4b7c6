"""Kafka producer for submitted complaints, shaped like confluent-kafka's own examples:
config as a plain dict, a delivery callback per message, `poll(0)` after `produce` to
serve callbacks, `flush()` on shutdown.

No Django here: the app and the relay hand in what to do on delivery.
"""
from __future__ import annotations

import atexit
import json
import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from triage_core.config import env_int, kafka_client_config
from triage_core.messages import ComplaintRecord

log = logging.getLogger(__name__)

# (error or None, the message) -> None, as confluent-kafka calls it.
DeliveryCallback = Callable[[Any, Any], None]


class ProducerLike(Protocol):
    def produce(self, topic: str, value: bytes, key: bytes, *, on_delivery: DeliveryCallback) -> None: ...
    def poll(self, timeout: float) -> int: ...
    def flush(self, timeout: float) -> int: ...


def producer_config(*, role: str, bootstrap: str | None = None, client_id: str = "triage-app") -> dict:
    """librdkafka's settings for a producer logged in as `role`: "app" (the web app and
    the relay, which write the app topic) or "loader" (triage_core.config.kafka_login)."""
    return kafka_client_config(role, bootstrap=bootstrap) | {
        "client.id": client_id,
        # Idempotence (which implies acks=all) keeps librdkafka's own retries from
        # writing a complaint twice; acks=all means a delivery report is only a success
        # once every in-sync replica has the message.
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 5,
        # How long librdkafka keeps retrying before the delivery callback reports an
        # error; after that the outbox entry stays pending and the relay takes over.
        "message.timeout.ms": env_int("TRIAGE_KAFKA_MESSAGE_TIMEOUT_MS", 30000),
    }


def complaint_message(*, complaint_id: str, text: str, source: str, submitted_at: datetime,
                      revision: int = 0) -> str:
    """The value of a `complaints` record (docs/contracts.md), as JSON text; `revision`
    n > 0 when the customer wrote again and `text` is the conversation so far."""
    message = ComplaintRecord(id=complaint_id, text=text, source=source, submitted_at=submitted_at.isoformat())
    if revision:
        message["revision"] = revision
    return json.dumps(message, ensure_ascii=False)


class ComplaintPublisher:
    """Publishes complaint messages and reports each delivery to `on_delivery`."""

    def __init__(self, producer: ProducerLike):
        self.producer = producer
        self._poller: threading.Thread | None = None
        self._stop = threading.Event()

    def publish(self, *, topic: str, key: str, value: str, on_delivery: DeliveryCallback) -> None:
        try:
            self.producer.produce(topic, value=value.encode("utf-8"), key=key.encode("utf-8"),
                                  on_delivery=on_delivery)
        except BufferError:
            # The local queue is full (broker unreachable for long): serve callbacks
            # once to make room and try again; if it still fails the caller's outbox
            # entry stays pending for the relay.
            self.producer.poll(1.0)
            self.producer.produce(topic, value=value.encode("utf-8"), key=key.encode("utf-8"),
                                  on_delivery=on_delivery)
        self.producer.poll(0)

    def flush(self, timeout: float = 10.0) -> int:
        """Wait for outstanding deliveries; returns how many are still undelivered."""
        return self.producer.flush(timeout)

    def start_polling(self, interval: float = 0.5) -> None:
        """Serve delivery callbacks from a daemon thread.

        In the web app nothing else would call poll() between requests, so a delivery
        report could wait until the next submission; the thread makes it arrive within
        `interval` seconds.
        """
        if self._poller is not None:
            return
        self._poller = threading.Thread(target=self._poll_forever, args=(interval,),
                                        name="kafka-delivery-poller", daemon=True)
        self._poller.start()

    def _poll_forever(self, interval: float) -> None:
        while not self._stop.is_set():
            self.producer.poll(interval)

    def close(self, timeout: float = 10.0) -> int:
        self._stop.set()
        if self._poller is not None:
            self._poller.join(timeout=2 * 0.5 + 1)
            self._poller = None
        remaining = self.flush(timeout)
        if remaining:
            log.warning("%d Kafka messages undelivered at shutdown; the outbox relay will send them", remaining)
        return remaining


_publisher: ComplaintPublisher | None = None
_publisher_lock = threading.Lock()


def get_publisher() -> ComplaintPublisher:
    """The process-wide publisher (one librdkafka client per process), flushed at exit."""
    global _publisher
    with _publisher_lock:
        if _publisher is None:
            from confluent_kafka import Producer

            _publisher = ComplaintPublisher(Producer(producer_config(role="app")))
            _publisher.start_polling()
            atexit.register(_publisher.close)
        return _publisher


def set_publisher(publisher: ComplaintPublisher | None) -> None:
    """Replace the process-wide publisher (tests hand in one around a fake producer)."""
    global _publisher
    with _publisher_lock:
        _publisher = publisher
