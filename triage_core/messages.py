"""The Kafka message contract of the `complaints` topic (docs/contracts.md)."""
from __future__ import annotations

import uuid

MIN_TEXT_CHARS = 10
MAX_TEXT_CHARS = 5000

# Namespace for ids of classic-demo messages `{"data": text}`: the id derives from the
# record's position, so a replayed record becomes the same complaint, never a second one.
KAFKA_NAMESPACE = uuid.UUID("6f1c2a52-5f0e-4d57-9a51-2b8f1f0a7c3e")


def classic_complaint_id(topic: str, partition: int, offset: int) -> str:
    return str(uuid.uuid5(KAFKA_NAMESPACE, f"{topic}:{partition}:{offset}"))
