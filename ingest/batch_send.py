"""Sending many messages to Kafka at a bounded rate, with a progress bar.

Shared by the load generator and the bulk importer: one producer, a delivery callback
that counts failures, `poll(0)` after each produce, `flush()` at the end.
"""
from __future__ import annotations

import sys
import time
from collections.abc import Iterable

from ingest.producer import producer_config
from triage_core.config import addresses


class DeliveryFailed(RuntimeError):
    pass


def send_all(messages: Iterable[tuple[bytes | None, bytes]], *, total: int | None, rate: float = 0.0,
             topic: str | None = None, bootstrap: str | None = None, client_id: str = "triage-batch",
             max_seconds: float = 3600.0, progress: bool = True, desc: str = "producing") -> int:
    """Produce (key, value) pairs at `rate` per second (0 = as fast as Kafka takes them).

    Returns how many were produced; raises DeliveryFailed when any was not acknowledged.
    """
    from confluent_kafka import Producer
    from tqdm import tqdm

    topic = topic or addresses().kafka_topic
    config = producer_config(role="loader", bootstrap=bootstrap, client_id=client_id)
    config.update({"linger.ms": 20, "batch.num.messages": 10000, "queue.buffering.max.messages": 200000})
    producer = Producer(config)
    failures: list[str] = []

    def on_delivery(err, msg) -> None:
        if err is not None:
            failures.append(str(err))

    sent = 0
    started = time.monotonic()
    with tqdm(total=total, unit="msg", desc=desc, disable=not progress, file=sys.stderr) as bar:
        for key, value in messages:
            if time.monotonic() - started > max_seconds:
                break
            while True:
                try:
                    producer.produce(topic, value=value, key=key, on_delivery=on_delivery)
                    break
                except BufferError:
                    producer.poll(0.1)
            producer.poll(0)
            sent += 1
            bar.update(1)
            if rate > 0:
                # Pace against the start time, not the previous message, so the mean rate holds.
                delay = started + sent / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
    remaining = producer.flush(60)
    if remaining or failures:
        raise DeliveryFailed(f"{remaining} messages undelivered, {len(failures)} failed"
                             + (f": {failures[0]}" if failures else ""))
    return sent
