"""Faults the cluster mode survives (issue 13), on the real cluster-mode stack: three KRaft
Kafka nodes (replication factor 3, min.insync.replicas 2), the stream submitted with
spark-submit to a Spark standalone master and two 1-core workers, two scoring replicas
behind HAProxy. Each test kills one part with SIGKILL while complaints flow and then
checks, by complaint id, that every complaint was scored exactly once: one complaint row,
one score row, none missing."""
from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import psycopg
import pytest
import requests
from confluent_kafka.admin import ConfigResource
from prometheus_client.parser import text_string_to_metric_families

from ingest import kafka_setup, loadgen
from tests.e2e.conftest import scored_count, scoring_headers, submit, unique_text, wait_for
from triage_core.config import addresses, var_dir

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from stack import product  # noqa: E402
from stack.base import read_pid  # noqa: E402
from stack.cli import COMPONENTS  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.cluster]

STREAM_LOG = var_dir() / "log" / "stream.log"


def scored_once(db: psycopg.Connection, ids: Sequence[str]) -> tuple[int, int, int]:
    """(complaint rows, score rows, distinct scored complaints) of these ids."""
    return db.execute("""SELECT (SELECT count(*) FROM triage_complaint WHERE id = ANY(%(ids)s::uuid[])),
                                count(*), count(DISTINCT complaint_id)
                         FROM triage_score WHERE complaint_id = ANY(%(ids)s::uuid[])""", {"ids": list(ids)}).fetchone()


def alive_workers() -> list[dict]:
    return [w for w in (product.spark_master_state() or {}).get("workers", []) if w.get("state") == "ALIVE"]


def stream_log_since(offset: int) -> str:
    with STREAM_LOG.open("rb") as log:
        log.seek(offset)
        return log.read().decode(errors="replace")


def produce_backlog(count: int) -> list[str]:
    """`count` complaints produced as fast as the brokers take them: several micro-batches
    (cluster-test.env caps one at 3,000 records), so a kill lands in the middle of one."""
    return loadgen.produce(count=count, rate=0, progress=False)


def test_the_cluster_mode_is_three_brokers_and_the_stream_on_two_spark_workers(stack_session):
    admin = kafka_setup.admin_client()
    meta = admin.list_topics(timeout=10)
    assert set(meta.brokers) == {1, 2, 3}
    for name in (addresses().kafka_topic, addresses().kafka_app_topic):
        partitions = meta.topics[name].partitions
        assert len(partitions) >= 6, f"{name}: {len(partitions)} partitions"
        assert {len(p.replicas) for p in partitions.values()} == {3}, name
        [future] = admin.describe_configs([ConfigResource("topic", name)]).values()
        assert future.result(timeout=10)["min.insync.replicas"].value == "2"
    app = wait_for(product.stream_application, timeout=60, what="the stream's application on the Spark master")
    assert app["cores"] == 2, app
    workers = alive_workers()
    assert len(workers) == 2 and all(w["cores"] == 1 and w["coresused"] == 1 for w in workers), workers


def test_kill_9_one_kafka_broker_while_20000_complaints_flow(db, api, stack):
    """The producers (the load generator's idempotent acks=all producer; customers through
    the web app) see no error while a broker is down: two of three replicas are in sync.
    The stream reads on from the new leaders. The broker comes back and catches up."""
    sent: list[str] = []
    failures: list[BaseException] = []

    def producing() -> None:
        try:
            sent.extend(loadgen.produce(count=20000, rate=1000, progress=False))
        except BaseException as exc:  # noqa: BLE001  (reported by the assertion below)
            failures.append(exc)

    producer = threading.Thread(target=producing)
    producer.start()
    time.sleep(5)
    victim = "kafka-2"
    pid = read_pid(victim)
    assert pid is not None
    os.killpg(pid, signal.SIGKILL)
    stack.stopped.add(victim)  # brought back below; the fixture's restore if the test fails first
    web_ids = []
    for n in range(20):
        response = submit(api, unique_text(f"broker-down-{n}"))
        assert response.status_code == 201, response.text
        web_ids.append(response.json()["id"])
    producer.join(180)
    assert not producer.is_alive() and not failures, f"a producer saw an error: {failures}"
    assert len(sent) == 20000
    stack.start(victim)
    assert read_pid(victim) not in (None, pid)

    ids = sent + web_ids
    wait_for(lambda: scored_count(db, ids) == len(ids), timeout=600, interval=2,
             what=f"all {len(ids)} complaints scored after a broker's kill -9")
    assert scored_once(db, ids) == (len(ids),) * 3
    meta = kafka_setup.admin_client().list_topics(timeout=10)
    assert set(meta.brokers) == {1, 2, 3}


def scoring_requests() -> float:
    """Requests the scoring replicas have answered so far (their Prometheus counters)."""
    total = 0.0
    for port in product.SCORING_REPLICAS.values():
        try:
            text = requests.get(f"http://127.0.0.1:{port}/metrics", headers=scoring_headers(), timeout=5).text
        except requests.RequestException:
            continue  # a replica down (being restarted) has answered nothing new
        total += sum(sample.value for family in text_string_to_metric_families(text)
                     if family.name == "scoring_requests" for sample in family.samples
                     if sample.name == "scoring_requests_total")
    return total


def next_batch_running(db: psycopg.Connection, ids: Sequence[str]) -> int:
    """Waits for a micro-batch of `ids` to commit, then for the next batch's tasks to call
    the scoring service: they are running on the executors then. Returns how many were
    scored at the commit."""
    first = wait_for(lambda: scored_count(db, ids), timeout=300, interval=0.1, what="a batch of the backlog")
    wait_for(lambda: scored_count(db, ids) > first, timeout=120, interval=0.05, what="the next batch's commit")
    committed = scoring_requests()
    wait_for(lambda: scoring_requests() > committed, timeout=60, interval=0.05,
             what="the next batch's tasks calling the scoring service")
    return first


def test_kill_9_one_spark_worker_mid_task(db, stack):
    """The worker's executor dies with it (its process group: worker, executor, Python
    workers) while a batch's tasks are calling the scoring service (both 1-core executors
    run the batch's six partitions, three each); the driver runs the lost tasks again on
    the other executor, and the supervisor brings the worker back, which takes an
    executor for the stream again."""
    log_start = STREAM_LOG.stat().st_size
    sent = produce_backlog(15000)
    next_batch_running(db, sent)
    victim = "spark-worker-1"
    pid = read_pid(victim)
    assert pid is not None
    os.killpg(pid, signal.SIGKILL)
    assert scored_count(db, sent) < len(sent), "the kill must land with the backlog still flowing"
    wait_for(lambda: "Lost executor" in stream_log_since(log_start), timeout=60,
             what="the driver to lose the killed worker's executor")
    wait_for(lambda: scored_count(db, sent) == len(sent), timeout=600, interval=2,
             what="all 15,000 complaints scored after a Spark worker's kill -9")
    assert scored_once(db, sent) == (len(sent),) * 3
    assert "micro-batch failed" not in stream_log_since(log_start), "a lost executor must cost no batch"
    wait_for(lambda: read_pid(victim) not in (None, pid) and COMPONENTS[victim].healthy(), timeout=120,
             what=f"{victim} started again by the supervisor")
    wait_for(lambda: (app := product.stream_application()) is not None and app["cores"] == 2, timeout=120,
             what="the stream's application back on two executors")


def test_kill_9_the_driver_mid_batch(db, stack):
    """The driver is spark-submit's process (client mode): killed with its Python, its
    executors are let go by the master; the supervisor submits the job again, which goes
    on from the checkpoint, and a batch that was written but not checkpointed changes
    nothing when it runs again."""
    sent = produce_backlog(15000)
    next_batch_running(db, sent)
    pid = read_pid("stream")
    assert pid is not None
    os.killpg(pid, signal.SIGKILL)
    at_kill = scored_count(db, sent)
    assert at_kill < len(sent), "the kill must land with the backlog still flowing"

    wait_for(lambda: read_pid("stream") not in (None, pid) and COMPONENTS["stream"].healthy(), timeout=240,
             what="the stream submitted again by the supervisor")
    wait_for(lambda: scored_count(db, sent) == len(sent), timeout=600, interval=2,
             what="all 15,000 complaints scored after the driver's kill -9")
    assert scored_once(db, sent) == (len(sent),) * 3
