"""The streaming job under faults, on the real stack (issue 4): kill -9 mid-stream,
scoring service outage, poison messages, and an experiment split changed mid-stream."""
from __future__ import annotations

import json
import os
import re
import signal

import pytest
import requests

from streaming import transform
from streaming.job import PAUSE_AFTER_COMMIT_FILE, PAUSED_FILE
from streaming.scoring import SCORING_UNAVAILABLE
from tests.e2e.conftest import scored_count, scoring_headers, unique_text, wait_for
from tests.e2e.streaming_helpers import (
    complaint_message,
    produce,
    produce_sentinels,
    restore_experiment,
    set_experiment,
    stream_idle,
)
from triage_core.config import addresses, var_dir
from triage_core.messages import classic_complaint_id

pytestmark = pytest.mark.e2e

STREAM_LOG = var_dir() / "log" / "stream.log"


def test_kill_9_between_the_postgres_commit_and_the_checkpoint_replays_a_stored_batch_and_changes_nothing(db, stack):
    """The stream's fault hook (streaming.job.PAUSE_AFTER_COMMIT_FILE) holds the first
    batch of these records after its Postgres commit; the kill lands there, before Spark
    records the batch in its checkpoint, with the rest of the records still unread. After
    the restart Spark runs that batch again: it must store nothing and report every row
    as already scored, and every complaint must end with one row and one score.

    Mutant tried: `ON CONFLICT (complaint_id) DO NOTHING` of the score insert in
    streaming/sink.py turned into `DO UPDATE SET scored_at = EXCLUDED.scored_at` (a replay
    rewrites the stored scores): the test failed, the replayed batch reported its rows as
    newly scored and none as already scored.
    """
    total = 5000
    texts = [unique_text(f"KILL-{n}") for n in range(total)]
    # Half new-format, half classic `{"data"}`: a classic record replayed after the kill
    # would become a second complaint if its id were not derived from its position.
    messages, new_ids = [], {}
    for n, text in enumerate(texts):
        if n % 2:
            cid, key, value = complaint_message(text)
            new_ids[n] = cid
            messages.append((key, value))
        else:
            messages.append((None, json.dumps({"data": text}).encode()))
    first, rest = messages[:total // 2], messages[total // 2:]
    # Caught up and idle first (every planned batch in the checkpoint), so the batch the
    # hook holds is made of this test's records only.
    sentinels = produce_sentinels()
    wait_for(lambda: scored_count(db, sentinels) == len(sentinels) and stream_idle(), timeout=120,
             what="the stream to catch up and go idle")
    PAUSED.unlink(missing_ok=True)
    PAUSE_AFTER_COMMIT.touch()
    try:
        positions = produce(first)
        paused = wait_for(paused_batch, timeout=180, what="a batch paused after its commit")
        positions += produce(rest)  # unread at the kill: the stream is held in the paused batch
        ids = [new_ids.get(n) or classic_complaint_id(addresses().kafka_topic, *positions[n]) for n in range(total)]
        # SIGKILL the job's process group (driver, JVM, Python workers) at once: going
        # through `scripts/stack stop` first costs a Python start-up. stack.stop then only
        # records it as stopped.
        os.killpg(paused["pid"], signal.SIGKILL)
        stack.stop("stream", kill=True)
    finally:
        PAUSE_AFTER_COMMIT.unlink(missing_ok=True)
        PAUSED.unlink(missing_ok=True)
    at_kill = scored_count(db, ids)
    assert 0 < at_kill == paused["scored"] <= len(first), "the kill must land after a commit, records in flight"

    log_start = STREAM_LOG.stat().st_size
    stack.start("stream")
    replay = wait_for(lambda: batch_reports(log_start).get(paused["batch_id"]), timeout=300, interval=1,
                      what=f"batch {paused['batch_id']} run again after the restart")
    assert (replay["scored"], replay["already_scored"]) == (0, paused["scored"])
    wait_for(lambda: scored_count(db, ids) == total, timeout=300, interval=1, what=f"all {total} complaints scored")
    sentinels = produce_sentinels()  # a duplicate would show up by the time these are scored
    wait_for(lambda: scored_count(db, sentinels) == len(sentinels), timeout=120, what="the stream to pass them")
    per_text = db.execute("""SELECT count(DISTINCT c.text), count(c.id), count(s.complaint_id)
                             FROM triage_complaint c LEFT JOIN triage_score s ON s.complaint_id = c.id
                             WHERE c.text = ANY(%s)""", (texts,)).fetchone()
    assert per_text == (total, total, total)


PAUSE_AFTER_COMMIT = var_dir() / "run" / PAUSE_AFTER_COMMIT_FILE
PAUSED = var_dir() / "run" / PAUSED_FILE
# streaming.job.write_batch's line, e.g. "batch 12: 500 records, 0 scored, 0 escalated, 500 already scored, ..."
BATCH_LINE = re.compile(rb"batch (\d+): (\d+) records, (\d+) scored, \d+ escalated, (\d+) already scored")


def paused_batch() -> dict | None:
    """What the stream's fault hook wrote once a batch waits after its commit."""
    try:
        return json.loads(PAUSED.read_text())
    except FileNotFoundError:
        return None


def batch_reports(log_start: int) -> dict[int, dict]:
    """The stream's batch lines logged after byte `log_start`, by batch id (the last one wins)."""
    with STREAM_LOG.open("rb") as log:
        log.seek(log_start)
        return {int(m[1]): {"records": int(m[2]), "scored": int(m[3]), "already_scored": int(m[4])}
                for m in BATCH_LINE.finditer(log.read())}


def test_scoring_outage_fails_batches_until_the_service_returns_and_makes_up_nothing(db, stack):
    wait_for(stream_idle, timeout=120, what="the stream to go idle")
    log_start = STREAM_LOG.stat().st_size if STREAM_LOG.exists() else 0
    stack.stop("scoring")
    messages = [complaint_message(unique_text(f"NOSCORE-{n}")) for n in range(200)]
    ids = [cid for cid, _, _ in messages]
    produce([(key, value) for _, key, value in messages])
    # The stream was idle, so the first batch after the produce holds these records.
    wait_for(lambda: outage_failures(log_start) >= 1, timeout=180, interval=1, what="a batch failed for the outage")
    assert scored_count(db, ids) == 0, "a complaint was scored while the scoring service was down"
    stack.start("scoring")
    wait_for(lambda: scored_count(db, ids) == len(ids), timeout=180, interval=1, what="the outage's complaints scored")

    with STREAM_LOG.open("rb") as log:
        log.seek(log_start)
        assert SCORING_UNAVAILABLE.encode() in log.read(), "no clear log line about the outage"
    rows = db.execute("""SELECT s.model_name, c.id::text, c.text, s.compound FROM triage_score s
                         JOIN triage_complaint c ON c.id = s.complaint_id WHERE c.id = ANY(%s::uuid[])""",
                      (ids,)).fetchall()
    for model in {r[0] for r in rows}:
        mine = [r for r in rows if r[0] == model]
        answer = requests.post(f"{addresses().scoring_url}/v1/models/{model}:predict", timeout=30,
                               headers=scoring_headers(),
                               json={"instances": [{"id": r[1], "text": r[2]} for r in mine]}).json()
        truth = {p["id"]: p["compound"] for p in answer["predictions"]}
        assert {r[1]: r[3] for r in mine} == truth


def outage_failures(log_start: int) -> int:
    """How many micro-batches the job logged as failed for the scoring outage after byte `log_start`."""
    with STREAM_LOG.open("rb") as log:
        log.seek(log_start)
        return sum(1 for line in log if b"micro-batch failed" in line and SCORING_UNAVAILABLE.encode() in line)


def test_poison_messages_are_dead_lettered_and_the_good_ones_around_them_scored(db):
    good = [complaint_message(unique_text(f"GOOD-{n}")) for n in range(6)]
    missing_text_id = complaint_message("x")[0]
    poison = [
        (b"{not json", transform.REASON_UNPARSEABLE_JSON),
        (b"\xff\xfe\x00 not utf-8", transform.REASON_INVALID_UTF8),
        (json.dumps({"data": "   "}).encode(), transform.REASON_EMPTY_TEXT),
        (json.dumps({"data": "x" * 5001}).encode(), transform.REASON_TEXT_TOO_LONG),
        (json.dumps({"id": missing_text_id, "source": "api"}).encode(), transform.REASON_MISSING_TEXT),
    ]
    records = []
    for n, (_, key, value) in enumerate(good):
        records.append((key, value))
        if n < len(poison):
            records.append((b"poison", poison[n][0]))
    positions = produce(records, partition=0)  # one partition: interleaved in this exact order
    poison_positions = [positions[2 * n + 1] for n in range(len(poison))]

    wait_for(lambda: scored_count(db, [cid for cid, _, _ in good]) == len(good), timeout=90,
             what="the good complaints scored")
    topic = addresses().kafka_topic

    def dead() -> dict:
        rows = db.execute('SELECT "partition", "offset", reason, raw_value FROM triage_dead_letter WHERE topic = %s'
                          ' AND ("partition", "offset") IN (SELECT * FROM unnest(%s::int[], %s::bigint[]))',
                          (topic, [p for p, _ in poison_positions], [o for _, o in poison_positions])).fetchall()
        return {(p, o): (reason, bytes(raw)) for p, o, reason, raw in rows}

    letters = wait_for(lambda: len(dead()) == len(poison) and dead(), timeout=30, what="the dead letters")
    assert {pos: letters[pos] for pos in poison_positions} == {
        pos: (reason, raw) for pos, (raw, reason) in zip(poison_positions, poison)}


def _models() -> set[str]:
    answer = requests.get(f"{addresses().scoring_url}/v1/models", timeout=10, headers=scoring_headers()).json()
    return {m["name"] for m in answer["models"]}


def test_a_split_changed_mid_stream_applies_from_the_next_batch_and_replays_keep_their_arm(db):
    """The split is changed through the app's service, as an admin would, with an audit
    entry, and the experiment that served before is served again afterwards."""
    (original,) = db.execute("SELECT max(version) FROM triage_experiment").fetchone()
    assert original is not None, "the migrations seed an experiment"
    second_model = "triage"
    assert second_model in _models()
    try:
        v_old = set_experiment([{"label": "A", "model": "vader", "weight": 100}])
        first = [complaint_message(unique_text(f"SPLIT-OLD-{n}")) for n in range(40)]
        produce([(key, value) for _, key, value in first])
        first_ids = [cid for cid, _, _ in first]
        wait_for(lambda: scored_count(db, first_ids) == 40, timeout=90, what="the first group scored")

        # Arm A keeps weight 0 on another model: the service refuses a shadow that also
        # serves an arm, even at weight 0.
        v_new = set_experiment([{"label": "A", "model": "triage@1.0.0", "weight": 0},
                                {"label": "B", "model": second_model, "weight": 100}], shadow_model="vader")
        audited = db.execute("SELECT u.username, a.old->>'version', a.new->>'version' FROM triage_audit_log a"
                             " JOIN auth_user u ON u.id = a.actor_id WHERE a.action = 'experiment.create'"
                             " AND (a.new->>'version')::int = %s", (v_new,)).fetchall()
        assert audited == [("admin", str(v_old), str(v_new))]
        second = [complaint_message(unique_text(f"SPLIT-NEW-{n}")) for n in range(40)]
        produce([(key, value) for _, key, value in second])
        second_ids = [cid for cid, _, _ in second]
        wait_for(lambda: scored_count(db, second_ids) == 40, timeout=90, what="the second group scored")

        def arms(ids):
            return db.execute("SELECT complaint_id::text, arm, model_name, experiment_version, scored_at"
                              " FROM triage_score WHERE complaint_id = ANY(%s::uuid[])", (ids,)).fetchall()

        before_replay = sorted(arms(first_ids))
        assert {(a, m, v) for _, a, m, v, _ in before_replay} == {("A", "vader", v_old)}
        assert {(a, m, v) for _, a, m, v, _ in arms(second_ids)} == {("B", second_model, v_new)}
        shadows = db.execute("SELECT count(*) FROM triage_shadow_score WHERE model_name = 'vader'"
                             " AND complaint_id = ANY(%s::uuid[])", (second_ids,)).fetchone()[0]
        assert shadows == 40

        # The first group's records arrive again (a producer retry, a replayed batch):
        # under the new split they would route to B, but their stored score stands.
        produce([(key, value) for _, key, value in first])
        sentinels = produce_sentinels()
        wait_for(lambda: scored_count(db, sentinels) == len(sentinels), timeout=90,
                 what="the stream to pass the replay")
        assert sorted(arms(first_ids)) == before_replay
    finally:
        restore_experiment(original)
