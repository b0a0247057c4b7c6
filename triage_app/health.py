"""Probes of the parts outside the database, for the pipeline health page.

Spark Structured Streaming keeps its Kafka offsets in its checkpoint, not in a consumer
group, so the lag is the topic's end offsets minus the highest offset the stream has
written to Postgres (a score or a dead letter) for each partition.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests

from triage_core.config import addresses, kafka_client_config

PROBE_TIMEOUT_S = 2.0


@dataclass
class PartitionLag:
    topic: str
    partition: int
    end_offset: int
    processed_offset: int | None
    lag: int


def partition_lags(*, topic: str, end_offsets: Mapping[int, int],
                   processed_offsets: Mapping[tuple[str, int], int]) -> list[PartitionLag]:
    """Each partition's lag, by partition number.

    Kafka's end offset (the high watermark) is the offset the next record will get, and
    the stream's processed offset is the last record it wrote, so `end - (processed + 1)`
    records wait; with nothing written yet, all `end` do. A processed offset past the end
    (the topic was recreated, its offsets restarted) counts as no lag, not a negative one.
    """
    lags = []
    for pid in sorted(end_offsets):
        high = end_offsets[pid]
        done = processed_offsets.get((topic, pid))
        lag = high - (done + 1 if done is not None else 0)
        lags.append(PartitionLag(topic=topic, partition=pid, end_offset=high, processed_offset=done, lag=max(0, lag)))
    return lags


def kafka_lag(*, processed_offsets: dict[tuple[str, int], int]) -> dict:
    """{"ok", "error", "topic", "partitions": [PartitionLag], "total_lag"} over both topics
    the stream reads (the loaders' and the app's), read with the app's Kafka login."""
    from confluent_kafka import Consumer, KafkaException, TopicPartition

    where = addresses()
    topics = [where.kafka_topic, where.kafka_app_topic]
    shown = ", ".join(topics)
    consumer = Consumer(kafka_client_config("app") | {
        # A throwaway group that never subscribes or commits: only watermarks are read.
        "group.id": "triage-health-probe",
        "enable.auto.commit": False,
        "socket.timeout.ms": int(PROBE_TIMEOUT_S * 1000),
    })
    try:
        partitions: list[PartitionLag] = []
        for topic in topics:
            topic_meta = consumer.list_topics(topic, timeout=PROBE_TIMEOUT_S).topics.get(topic)
            if topic_meta is None or topic_meta.error is not None:
                why = f": {topic_meta.error}" if topic_meta is not None else ""
                return {"ok": False, "error": f"topic {topic!r} not found{why}", "topic": shown, "partitions": [],
                        "total_lag": None}
            end_offsets = {pid: consumer.get_watermark_offsets(TopicPartition(topic, pid),
                                                               timeout=PROBE_TIMEOUT_S)[1]
                           for pid in topic_meta.partitions}
            partitions += partition_lags(topic=topic, end_offsets=end_offsets, processed_offsets=processed_offsets)
        return {"ok": True, "error": "", "topic": shown, "partitions": partitions,
                "total_lag": sum(p.lag for p in partitions)}
    except KafkaException as exc:
        return {"ok": False, "error": f"Kafka unreachable at {where.kafka_bootstrap}: {exc}",
                "topic": shown, "partitions": [], "total_lag": None}
    finally:
        consumer.close()


def scoring_health() -> dict:
    url = addresses().scoring_url.rstrip("/")
    headers = {"Authorization": f"Bearer {addresses().scoring_token}"} if addresses().scoring_token else {}
    try:
        health = requests.get(f"{url}/healthz", timeout=PROBE_TIMEOUT_S, headers=headers)
        models = requests.get(f"{url}/v1/models", timeout=PROBE_TIMEOUT_S, headers=headers)
    except requests.RequestException as exc:
        return {"ok": False, "url": url, "error": f"unreachable: {exc.__class__.__name__}", "models": []}
    try:
        listed = models.json().get("models", []) if models.ok else []
    except (ValueError, AttributeError):  # not JSON, or not the object /v1/models answers
        return {"ok": False, "url": url, "error": "/v1/models answered something that is not its JSON", "models": []}
    return {"ok": health.ok, "url": url, "error": "" if health.ok else f"/healthz answered {health.status_code}",
            "models": listed}


def kafka_reachable() -> dict:
    """{"ok", "error"}: the broker answers a metadata request for the app's topic."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient

    where = addresses()
    client = AdminClient(kafka_client_config("app") | {"socket.timeout.ms": int(PROBE_TIMEOUT_S * 1000)})
    try:
        client.list_topics(where.kafka_app_topic, timeout=PROBE_TIMEOUT_S)
    except KafkaException as exc:
        return {"ok": False, "error": f"unreachable at {where.kafka_bootstrap}: {exc}"}
    return {"ok": True, "error": ""}


def database_reachable() -> dict:
    from django.db import DatabaseError, connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        return {"ok": False, "error": str(exc).splitlines()[0] if str(exc) else type(exc).__name__}
    return {"ok": True, "error": ""}


def redis_reachable() -> dict:
    """The channel layer's Redis answers a PING (the live queue's pushes go through it)."""
    import redis
    from django.conf import settings

    layer: dict[str, Any] = settings.CHANNEL_LAYERS["default"]
    backend = str(layer["BACKEND"])
    if not backend.startswith("channels_redis."):
        return {"ok": True, "error": "", "note": f"no Redis: the channel layer is {backend}"}
    url = str(layer["CONFIG"]["hosts"][0])
    try:
        redis.Redis.from_url(url, socket_timeout=PROBE_TIMEOUT_S, socket_connect_timeout=PROBE_TIMEOUT_S).ping()
    except redis.RedisError as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    return {"ok": True, "error": ""}


def web_health() -> dict:
    """What a load balancer asks the web app (GET /healthz): can it serve? Each part
    {"ok", "error"}; "ok" overall only when every part is."""
    scoring = scoring_health()
    parts = {"database": database_reachable(), "redis": redis_reachable(), "kafka": kafka_reachable(),
             "scoring": {"ok": scoring["ok"], "error": scoring["error"]}}
    return {"ok": all(part["ok"] for part in parts.values()), **parts}
