"""Supervised processes on the plain stack (issue 13): the relay, the score listener and
the web process, killed with SIGKILL, are started again by the stack's supervisor, and
the product works on: a complaint submitted afterwards is published, scored and stored.
A scoring replica killed under load costs no batch: HAProxy sends its requests to the other."""
from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest

from tests.e2e.conftest import scored_count, submit, unique_text, wait_for
from triage_core.config import addresses, var_dir

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from stack.base import read_pid  # noqa: E402
from stack.cli import COMPONENTS  # noqa: E402

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("name", ["relay", "listener", "web"])
def test_a_killed_process_is_started_again_by_the_supervisor(stack_session, api, name):
    assert read_pid("supervisor") is not None, "the stack's supervisor is not running"
    before = read_pid(name)
    assert before is not None and COMPONENTS[name].healthy()
    killed_at = time.monotonic()
    os.killpg(before, signal.SIGKILL)
    wait_for(lambda: (pid := read_pid(name)) is not None and pid != before and COMPONENTS[name].healthy(),
             timeout=60, interval=0.2, what=f"{name} started again by the supervisor")
    print(f"{name}: back and healthy {time.monotonic() - killed_at:.1f} s after kill -9")
    log = (var_dir() / "log" / "supervisor.log").read_text()
    assert f"supervisor: {name} started again" in log

    response = submit(api, unique_text(f"after-{name}-kill"))
    assert response.status_code == 201, response.text
    with psycopg.connect(addresses().database_url, autocommit=True) as db:
        wait_for(lambda: scored_count(db, [response.json()["id"]]) == 1, timeout=90,
                 what=f"a complaint submitted after the {name} restart to be scored")


def test_a_scoring_replica_killed_under_load_costs_no_batch(stack_session):
    """HAProxy routes around the dead replica (and the supervisor brings it back): every
    complaint is scored once, and no micro-batch fails for it."""
    from ingest import loadgen

    stream_log = var_dir() / "log" / "stream.log"
    log_start = stream_log.stat().st_size
    replica = read_pid("scoring-1")
    assert replica is not None and read_pid("scoring-2") is not None
    sent: list[str] = []
    producer = threading.Thread(target=lambda: sent.extend(loadgen.produce(count=3000, rate=300, progress=False)))
    producer.start()
    time.sleep(3)
    os.killpg(replica, signal.SIGKILL)
    producer.join(60)
    assert len(sent) == 3000
    with psycopg.connect(addresses().database_url, autocommit=True) as db:
        wait_for(lambda: scored_count(db, sent) == 3000, timeout=180, what="all 3,000 complaints scored")
        rows = db.execute("SELECT count(*), count(DISTINCT complaint_id) FROM triage_score"
                          " WHERE complaint_id = ANY(%s::uuid[])", (sent,)).fetchone()
    assert rows == (3000, 3000)
    with open(stream_log, "rb") as log:
        log.seek(log_start)
        since = log.read().decode(errors="replace")
    assert "micro-batch failed" not in since, since[-2000:]
    wait_for(lambda: read_pid("scoring-1") not in (None, replica) and COMPONENTS["scoring-1"].healthy(),
             timeout=90, what="scoring-1 started again by the supervisor")
