"""Helpers for the streaming job's end-to-end tests: produce straight to Kafka, learn
where each record landed, and know when the stream has read past a point."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient

from ingest.producer import complaint_message as producer_message
from triage_core.config import PROJECT_ROOT as ROOT
from triage_core.config import addresses, kafka_client_config
from triage_core.messages import classic_complaint_id


def complaint_message(text: str, *, source: str = "loadgen") -> tuple[str, bytes, bytes]:
    """A new-format message: (complaint id, key, value)."""
    cid = str(uuid.uuid4())
    value = producer_message(complaint_id=cid, text=text, source=source,
                             submitted_at=datetime(2026, 1, 1, tzinfo=UTC))
    return cid, cid.encode(), value.encode()


def produce(records: Iterable[tuple[bytes | None, bytes | None]], *,
            partition: int | None = None, role: str = "loader") -> list[tuple[int, int]]:
    """Produces (key, value) records in order, logged in as `role`, to that role's topic
    (the app's for "app", else the loaders'); returns each one's (partition, offset)."""
    where = addresses()
    producer = Producer(kafka_client_config(role) | {"enable.idempotence": True, "acks": "all", "linger.ms": 5})
    topic = where.kafka_app_topic if role == "app" else where.kafka_topic
    positions: list[tuple[int, int] | None] = []
    errors: list[str] = []

    def delivered(index: int):
        def callback(err, msg):
            if err is not None:
                errors.append(str(err))
            else:
                positions[index] = (msg.partition(), msg.offset())
        return callback

    for index, (key, value) in enumerate(records):
        positions.append(None)
        extra = {} if partition is None else {"partition": partition}
        producer.produce(topic, key=key, value=value, on_delivery=delivered(index), **extra)
        producer.poll(0)
    remaining = producer.flush(60)
    assert remaining == 0 and not errors, f"produce failed: {remaining} undelivered, errors {errors[:3]}"
    return positions  # type: ignore[return-value]


def partitions() -> list[int]:
    admin = AdminClient(kafka_client_config("loader"))
    meta = admin.list_topics(addresses().kafka_topic, timeout=10)
    return sorted(meta.topics[addresses().kafka_topic].partitions)


def produce_sentinels() -> list[str]:
    """One classic message per partition; once all are scored, the stream has read
    every record produced to the topic before this call."""
    ids = []
    for p in partitions():
        [(part, offset)] = produce([(None, json.dumps({"data": f"sentinel {uuid.uuid4()}"}).encode())], partition=p)
        ids.append(classic_complaint_id(addresses().kafka_topic, part, offset))
    return ids


def stream_idle() -> bool:
    """True when every micro-batch the job planned is in its checkpoint's commit log: no
    batch is running, or stopped between its Postgres commit and its checkpoint."""
    from streaming.job import JobSettings

    checkpoint = Path(JobSettings.from_env().checkpoint_dir)

    def last(folder: str) -> int:
        return max((int(p.name) for p in (checkpoint / folder).iterdir() if p.name.isdigit()), default=-1)

    return last("offsets") == last("commits")


def local_env() -> dict[str, str]:
    """The environment of a `manage.py` run against the test stack: its settings are the
    local run's (config.settings.local: Redis), not the unit tests' this pytest names."""
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local"}


def admin_shell(script: str) -> str:
    """Runs `script` in `manage.py shell` against the test stack's database; its stdout."""
    result = subprocess.run([sys.executable, "manage.py", "shell", "-c", script], cwd=ROOT, capture_output=True,
                            text=True, timeout=120, env=local_env())
    assert result.returncode == 0, f"manage.py shell failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def set_experiment(arms: list[dict], shadow_model: str | None = None) -> int:
    """Appends an experiment version as the admin screens do (services.experiment_create,
    validated and audited, by the stack's `admin`); returns its version."""
    payload = json.dumps({"arms": arms, "shadow_model": shadow_model or ""})
    out = admin_shell(
        "import json; from django.contrib.auth import get_user_model; from triage_app import services; "
        f"values = json.loads({payload!r}); "
        "admin = get_user_model().objects.get(username='admin'); "
        "print(services.experiment_create(by=admin, arms=values['arms'], shadow_model=values['shadow_model']).version)")
    return int(out.split()[-1])


def restore_experiment(version: int) -> int:
    """Serves an earlier version's split again (services.experiment_restore, audited)."""
    out = admin_shell(
        "from django.contrib.auth import get_user_model; from triage_app import services; "
        "admin = get_user_model().objects.get(username='admin'); "
        f"print(services.experiment_restore(by=admin, version={int(version)}).version)")
    return int(out.split()[-1])
