"""The stack is locked by default (issue 12, items 2, 3, 4 and 9), checked on the real
stack: what a local process without the generated secrets can no longer do."""
from __future__ import annotations

import socket
import stat
import uuid
from urllib.parse import urlsplit

import psycopg
import pytest
import requests
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

from streaming import transform
from tests.e2e import streaming_helpers
from tests.e2e.conftest import WEB, scored_count, scoring_headers, submit, wait_for
from triage_core.config import addresses, kafka_client_config, var_dir

pytestmark = [pytest.mark.e2e]


def redis_says(*commands: bytes) -> bytes:
    where = urlsplit(addresses().redis_url)
    with socket.create_connection((where.hostname, where.port), timeout=5) as sock:
        sock.sendall(b"".join(c + b"\r\n" for c in commands))
        answer = b""
        while answer.count(b"\r\n") < len(commands):
            chunk = sock.recv(256)
            if not chunk:
                break
            answer += chunk
    return answer


def test_redis_answers_nothing_without_the_generated_password(stack_session):
    assert redis_says(b"PING").startswith(b"-NOAUTH")
    assert redis_says(b"AUTH default ''", b"PING").startswith(b"-WRONGPASS")
    user = urlsplit(addresses().redis_url)
    assert redis_says(f"AUTH {user.username} {user.password}".encode(), b"PING") == b"+OK\r\n+PONG\r\n"


def delivery_error(config: dict, topic: str) -> str | None:
    """What happened to one record produced with `config`: None when it was stored, else
    the error (a producer the broker never lets in sees its message time out)."""
    outcome: list[str | None] = []
    producer = Producer(config | {"message.timeout.ms": 4000, "socket.timeout.ms": 3000})
    try:
        producer.produce(topic, value=b'{"data": "injected"}', on_delivery=lambda err, _: outcome.append(
            None if err is None else str(err)))
        producer.flush(10)
    except KafkaException as exc:  # a fatal error (an idempotent producer refused outright)
        return str(exc)
    return outcome[0] if outcome else "no delivery report"


def records_read(config: dict, topic: str) -> int:
    """How many records of partition 0 of `topic` a consumer with `config` gets in ~5 s."""
    consumer = Consumer(config | {"group.id": "triage-stream-security-probe", "enable.auto.commit": False,
                                  "auto.offset.reset": "earliest", "socket.timeout.ms": 3000})
    consumer.assign([TopicPartition(topic, 0, 0)])
    try:
        got = 0
        for _ in range(5):
            message = consumer.poll(1.0)
            if message is not None and message.error() is None:
                got += 1
        return got
    finally:
        consumer.close()


def test_kafka_lets_in_no_client_without_a_login(stack_session):
    """Mutant tried: write_kafka_config's listener back to PLAINTEXT -> the anonymous
    producer's record was stored and read back; the test failed."""
    where = addresses()
    anonymous = {"bootstrap.servers": where.kafka_bootstrap}
    guessing = kafka_client_config("loader") | {"sasl.password": "guess"}
    assert delivery_error(kafka_client_config("loader"), where.kafka_topic) is None
    for config in (anonymous, guessing):
        assert delivery_error(config, where.kafka_topic) is not None
        assert records_read(config, where.kafka_topic) == 0
    assert records_read(kafka_client_config("stream"), where.kafka_topic) > 0


def test_each_kafka_login_does_only_its_own_part(stack_session):
    """The app writes the app topic, the loaders theirs, the stream only reads."""
    where = addresses()
    app, loader, stream = (kafka_client_config(role) for role in ("app", "loader", "stream"))
    assert delivery_error(app, where.kafka_app_topic) is None
    assert "authorization" in (delivery_error(loader, where.kafka_app_topic) or "").lower()
    assert "authorization" in (delivery_error(app, where.kafka_topic) or "").lower()
    assert "authorization" in (delivery_error(stream, where.kafka_topic) or "").lower()
    assert records_read(loader, where.kafka_topic) == 0  # a loader reads no complaint's text
    assert records_read(stream, where.kafka_app_topic) > 0


def test_the_stream_refuses_a_web_complaint_that_did_not_come_from_the_app(db):
    """A local process with the loaders' login claims the web form: a dead letter, never a
    ranked complaint. The same message from the app's login is scored."""
    text = f"Security {uuid.uuid4().hex}: refund me today or I go to court."
    forged_id, key, value = streaming_helpers.complaint_message(text, source="web")
    [(partition, offset)] = streaming_helpers.produce([(key, value)])
    real_id, key, value = streaming_helpers.complaint_message(text, source="web")
    streaming_helpers.produce([(key, value)], role="app")
    wait_for(lambda: scored_count(db, [real_id]) == 1, timeout=120, what="the app's complaint scored")
    dead = wait_for(lambda: db.execute(
        "SELECT reason, detail FROM triage_dead_letter WHERE topic = %s AND \"partition\" = %s AND \"offset\" = %s",
        (addresses().kafka_topic, partition, offset)).fetchone(), timeout=60, what="the forged record dead-lettered")
    assert dead[0] == transform.REASON_SOURCE_NOT_ALLOWED and "'web'" in dead[1]
    assert scored_count(db, [forged_id]) == 0


def test_postgres_refuses_the_old_documented_password(stack_session):
    where = urlsplit(addresses().database_url)
    assert where.password and where.password != "triage"
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(f"postgresql://triage:triage@{where.hostname}:{where.port}{where.path}", connect_timeout=5)


def test_the_scoring_service_refuses_a_client_without_the_token(stack_session):
    url = f"{addresses().scoring_url}/predict"
    assert requests.post(url, json={"data": "It broke."}, timeout=10).status_code == 401
    assert requests.post(url, json={"data": "It broke."}, timeout=10,
                         headers={"Authorization": "Bearer guess"}).status_code == 401
    answer = requests.post(url, json={"data": "It broke."}, timeout=10, headers=scoring_headers())
    assert answer.status_code == 200 and "compound" in answer.json()


def test_var_is_private_and_the_secrets_readable_by_the_product_only(stack_session):
    var = var_dir()
    assert stat.S_IMODE(var.stat().st_mode) == 0o711  # the postgres user may pass, nobody may list
    for name in ("log", "run", "kafka", "redis", "mail", "secrets", "checkpoints"):
        assert stat.S_IMODE((var / name).stat().st_mode) == 0o700, name
    for secret in (var / "secrets").iterdir():
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600, secret.name
    assert stat.S_IMODE((var / "redis" / "users.acl").stat().st_mode) == 0o600


def test_no_tracking_code_reaches_the_web_log(api):
    created = submit(api, f"Security {uuid.uuid4().hex}: the parcel arrived broken.").json()
    code = created["tracking_code"]
    assert api.get(f"{WEB}/track/{code}/", timeout=30).status_code == 200
    assert api.get(f"{WEB}/api/complaints/{code}/", timeout=30).status_code == 200
    assert api.get(f"{WEB}/track/{code}x/", timeout=30).status_code == 404  # Django logs a 404's path
    log = var_dir() / "log" / "web.log"
    wait_for(lambda: log.read_text(errors="replace").count("/track/[code]/") >= 2, timeout=10,
             what="the redacted tracking-page lines in the access log")
    text = log.read_text(errors="replace")
    assert code not in text
