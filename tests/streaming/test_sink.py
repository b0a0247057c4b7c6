"""The sink's SQL against Postgres: one transaction per batch, replays change nothing."""
from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pandas as pd
import psycopg
import pytest

from streaming import rows, sink, transform
from streaming.scoring import SCORE_FIELDS, SHADOW_PREFIX
from triage_core import priority as priority_rules
from triage_core.priority import Policy

CHANNEL = "complaint_scored_test"  # never the app's channel: its listener must not see test ids
ENQUEUED = datetime(2026, 1, 2, 3, 4, 5)


def scored_row(cid: str, *, compound: float = -0.9, arm: str = "A", model: str = "vader", offset: int = 0,
               text: str = "Terrible, I want my money back", shadow: str | None = None, error: str | None = None,
               category: str | None = None, signals: dict | None = None) -> dict:
    row = {"complaint_id": cid, "text": text, "source": "kafka", "kafka_topic": "complaints", "kafka_partition": 0,
           "kafka_offset": offset, "enqueued_at": pd.Timestamp(ENQUEUED), "arm": arm, "model": model}
    score = {"model_name": model, "model_version": f"{model}-1", "compound": None if error else compound,
             "neg": 0.5, "neu": 0.5, "pos": 0.0, "label": "negative", "category": category,
             "signals": json.dumps(signals or {}), "explanation": "", "language": None, "complaint": None,
             "error": error, "scoring_ms": 1.5}
    row.update(score)
    for field in SCORE_FIELDS:
        row[SHADOW_PREFIX + field.name] = None
    if shadow:
        row.update({SHADOW_PREFIX + k: v for k, v in {**score, "model_name": shadow, "model_version": f"{shadow}-2",
                                                      "compound": 0.1, "error": None}.items()})
    return row


def frames(scored: list[dict], dead: list[dict] | None = None) -> pd.DataFrame:
    """One batch as streaming.scoring.score_frame hands it to streaming.rows: scored rows, then dead letters."""
    columns = list(scored_row("x").keys()) + ["raw_key", "raw_value", "reason", "detail"]
    if any("revision" in row for row in scored):
        columns.append("revision")
    return pd.DataFrame([*scored, *(dead or [])], columns=columns)


def write(pg, batch: pd.DataFrame, *, batch_id=1, experiment=None, policy=None):
    """One batch as the stream stores it: its chunk (here one) by write_outcomes, as an
    executor does, then the driver's record of the batch."""
    policy = policy or Policy(version=5)
    experiment = experiment or sink.Experiment(3, [{"label": "A", "model": "vader", "weight": 100}])
    result = sink.write_outcomes(pg, outcomes=rows.outcome_frame(batch, policy), experiment_version=experiment.version,
                                 policy=policy, notify_channel=CHANNEL)
    sink.record_batch(pg, batch_id=batch_id, result=result, started_at=datetime.now(UTC), duration_ms=12.5)
    pg.commit()
    return result


@pytest.fixture
def pg_listening(pg):
    pg.execute(f"LISTEN {CHANNEL}")
    pg.commit()
    return pg


def test_a_batch_stores_complaints_scores_shadow_scores_dead_letters_and_metrics(pg_listening):
    pg = pg_listening
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    batch = frames(
        [scored_row(a, compound=-0.9, shadow="triage"), scored_row(b, compound=0.4, offset=1)],
        [{"kafka_topic": "complaints", "kafka_partition": 1, "kafka_offset": 9, "raw_key": b"k",
          "raw_value": b"\xff", "reason": transform.REASON_INVALID_UTF8, "detail": "bad byte"}])
    result = write(pg, batch)

    assert sorted(result.scored_ids) == sorted([a, b]) and result.escalated_ids == [a]
    assert (result.shadow_rows, result.dead_letter_rows, result.replayed_rows) == (1, 1, 0)
    rows = {r[0]: r[1:] for r in pg.execute(
        "SELECT complaint_id::text, arm, model_version, experiment_version, policy_version, escalated, priority"
        " FROM triage_score").fetchall()}
    assert rows[a] == ("A", "vader-1", 3, 5, True, 45.0)  # 0.35 * 0.9 / 0.7: vader has no complaint probability
    assert rows[b][4] is False
    complaints = pg.execute("SELECT status, source, length(tracking_code) FROM triage_complaint").fetchall()
    assert complaints == [("analysed", "kafka", 32)] * 2
    assert pg.execute("SELECT model_name, model_version, compound FROM triage_shadow_score").fetchall() == [
        ("triage", "triage-2", 0.1)]
    assert pg.execute('SELECT "offset", reason, raw_value FROM triage_dead_letter').fetchall() == [
        (9, transform.REASON_INVALID_UTF8, b"\xff")]
    assert pg.execute("SELECT batch_id, rows, dead_letters, scoring_ms, started_at IS NOT NULL"
                      " FROM triage_stream_batch").fetchall() == [(1, 3, 1, 3.0, True)]
    notes = [json.loads(n.payload) for n in pg.notifies(timeout=1, stop_after=1)]
    assert sorted(notes[0]["ids"]) == sorted([a, b]) and notes[0]["escalated"] == [a]
    assert notes[0]["policy"] == 5  # the batch's policy (write()): the listener then needs no stale check


def test_a_replayed_batch_changes_nothing_and_the_first_score_stands(pg_listening):
    pg = pg_listening
    cid = str(uuid.uuid4())
    write(pg, frames([scored_row(cid, compound=-0.9, arm="A")]), batch_id=7)
    list(pg.notifies(timeout=0.5, stop_after=1))
    # the same records again, but the split changed meanwhile: the stored arm must not
    replay = write(pg, frames([scored_row(cid, compound=0.3, arm="B", model="triage", shadow="vader")]), batch_id=7,
                   experiment=sink.Experiment(4, [{"label": "B", "model": "triage", "weight": 100}]))
    assert (replay.scored_ids, replay.replayed_rows, replay.shadow_rows) == ([], 1, 0)
    assert pg.execute("SELECT count(*) FROM triage_shadow_score").fetchone() == (0,)
    assert pg.execute("SELECT arm, model_name, compound, experiment_version FROM triage_score").fetchall() == [
        ("A", "vader", -0.9, 3)]
    assert pg.execute("SELECT count(*) FROM triage_complaint").fetchone() == (1,)
    assert list(pg.notifies(timeout=0.5, stop_after=1)) == []


def test_a_replayed_dead_letter_is_stored_once_and_the_first_record_of_it_stands(pg):
    """The only replay of a dead letter the product has: Spark re-running a micro-batch
    after a crash (foreachBatch is at-least-once). There is no path that sends a dead
    letter back to Kafka or the outbox, and none that audits it: the admin shows dead
    letters read-only. The position (topic, partition, offset) is the key, so the replay
    adds no row and does not rewrite the first one, even if it describes the record
    differently (a newer job version's wording). Mutant tried: the dead-letter INSERT's
    `ON CONFLICT (topic, "partition", "offset") DO NOTHING` changed to `DO UPDATE SET
    detail = EXCLUDED.detail` -> the replay counted 1 dead letter (and rewrote the
    detail); the test failed."""
    def batch(detail: str) -> pd.DataFrame:
        return frames([], [{"kafka_topic": "complaints", "kafka_partition": 1, "kafka_offset": 41, "raw_key": b"k",
                            "raw_value": b"not json", "reason": transform.REASON_UNPARSEABLE_JSON,
                            "detail": detail}])

    first = write(pg, batch("first reading"), batch_id=11)
    replay = write(pg, batch("second reading"), batch_id=11)
    assert (first.dead_letter_rows, replay.dead_letter_rows) == (1, 0)
    assert pg.execute('SELECT topic, "partition", "offset", raw_value, reason, detail FROM triage_dead_letter'
                      ).fetchall() == [("complaints", 1, 41, b"not json", transform.REASON_UNPARSEABLE_JSON,
                                        "first reading")]
    assert pg.execute("SELECT count(*) FROM triage_complaint").fetchone() == (0,)
    # The health page's batch record is per run, not per record (docs/contracts.md: "a
    # replayed batch may add a second row"): both runs saw one dead-lettered record.
    assert pg.execute("SELECT batch_id, rows, dead_letters FROM triage_stream_batch ORDER BY id").fetchall() == [
        (11, 1, 1), (11, 1, 1)]


def test_a_complaint_the_app_stored_keeps_its_row_and_becomes_analysed(pg_listening):
    pg = pg_listening
    cid = str(uuid.uuid4())
    pg.execute("INSERT INTO triage_complaint (id, tracking_code, text, email, source, status, created_at, updated_at)"
               " VALUES (%s, 'APP-CODE', 'from the form', 'a@b.example', 'web', 'received', now(), now())", (cid,))
    pg.commit()
    write(pg, frames([scored_row(cid, text="from the form")]))
    assert pg.execute("SELECT tracking_code, email, source, status FROM triage_complaint").fetchall() == [
        ("APP-CODE", "a@b.example", "web", "analysed")]


def test_duplicate_records_of_one_complaint_in_a_batch_store_one_score_from_the_first_offset(pg_listening):
    pg = pg_listening
    cid = str(uuid.uuid4())
    result = write(pg, frames([scored_row(cid, offset=5, compound=-0.2), scored_row(cid, offset=4, compound=-0.1)]))
    assert result.scored_ids == [cid]
    assert pg.execute("SELECT kafka_offset, compound FROM triage_score").fetchall() == [(4, -0.1)]


def test_a_text_the_model_rejected_is_a_dead_letter_not_a_score(pg_listening):
    pg = pg_listening
    ok, bad = str(uuid.uuid4()), str(uuid.uuid4())
    result = write(pg, frames([scored_row(ok), scored_row(bad, offset=1, error="too weird")]))
    assert result.scored_ids == [ok]
    assert pg.execute("SELECT complaint_id::text FROM triage_score").fetchall() == [(ok,)]
    reason, detail, raw = pg.execute("SELECT reason, detail, raw_value FROM triage_dead_letter").fetchone()
    assert (reason, detail) == (transform.REASON_SCORING_REJECTED, "model vader: too weird")
    assert json.loads(raw)["id"] == bad


def test_severity_signals_and_category_raise_priority_under_the_policy(pg_listening):
    pg = pg_listening
    cid = str(uuid.uuid4())
    write(pg, frames([scored_row(cid, compound=-0.2, model="triage", category="account_security",
                                  signals={"legal_threat": ["lawyer"]})]),
          policy=Policy(version=9, escalate_at=40))
    priority, escalated, policy_version = pg.execute(
        "SELECT priority, escalated, policy_version FROM triage_score").fetchone()
    # (0.35 * 0.2 + 0.25 * 1.0 + 0.1 * 0.8) / 0.7 = 57.14, over the policy's 40
    assert (priority, escalated, policy_version) == (57.14, True, 9)


def test_current_experiment_and_policy_are_the_highest_versions(pg):
    assert sink.current_experiment(pg) == sink.DEFAULT_EXPERIMENT
    assert sink.current_policy(pg) == priority_rules.DEFAULT_POLICY
    for version, arms, shadow in [(1, [{"label": "A", "model": "vader", "weight": 100}], None),
                                  (2, [{"label": "A", "model": "vader", "weight": 80},
                                       {"label": "B", "model": "triage", "weight": 20}], "triage")]:
        pg.execute("INSERT INTO triage_experiment (version, arms, shadow_model, created_at) VALUES (%s, %s, %s, now())",
                   (version, json.dumps(arms), shadow))
    pg.execute("INSERT INTO triage_escalation_policy (version, escalate_at, negative_compound, weight_sentiment,"
               " weight_severity, weight_category, created_at) VALUES (4, 70, -0.8, 0.5, 0.4, 0.1, now())")
    experiment, policy = sink.current_experiment(pg), sink.current_policy(pg)
    weights = [a["weight"] for a in experiment.arms]
    assert (experiment.version, weights, experiment.shadow_model) == (2, [80, 20], "triage")
    # Columns a row written before they existed gets from their database defaults: no
    # complaint weight, no minimum, no trigger, so such a policy ranks as it always did.
    assert policy == Policy(version=4, escalate_at=70, negative_compound=-0.8, weight_sentiment=0.5,
                            weight_severity=0.4, weight_category=0.1, weight_complaint=0.0, min_complaint=0.0,
                            signal_triggers=(), unsupported_priority=50.0)


def test_an_invalid_split_in_the_database_is_refused(pg):
    pg.execute("INSERT INTO triage_experiment (version, arms, created_at) VALUES (1, %s, now())",
               (json.dumps([{"label": "A", "model": "vader", "weight": 50}]),))
    with pytest.raises(ValueError, match="add up to 100"):
        sink.current_experiment(pg)


def revised(cid: str, revision: int, **kwargs) -> dict:
    return {**scored_row(cid, **kwargs), "revision": revision}


def test_a_newer_revision_replaces_the_score_and_a_replay_of_any_revision_changes_nothing(pg_listening):
    """The customer wrote again (revision 1): the conversation's score replaces the first,
    with its priority, and is notified; replaying revision 0 or 1 later changes nothing.
    Mutant tried: the DO UPDATE without its WHERE (any record overwrites): the replay of
    revision 0 put the first score back and the test failed."""
    pg = pg_listening
    cid = str(uuid.uuid4())
    write(pg, frames([revised(cid, 0, compound=-0.2, offset=1)]), batch_id=1)
    list(pg.notifies(timeout=0.5, stop_after=1))
    legal = {"legal_threat": ["my lawyer"]}
    again = write(pg, frames([revised(cid, 1, compound=-0.8, offset=2, signals=legal)]), batch_id=2)
    assert again.scored_ids == [cid]
    assert [n.payload for n in pg.notifies(timeout=2, stop_after=1)]  # pushed to staff
    row = pg.execute("SELECT revision, compound, signals, kafka_offset, priority FROM triage_score").fetchone()
    assert row[:4] == (1, -0.8, legal, 2)
    pg.commit()  # end the read's transaction: each write is a transaction of its own, as in the job
    for revision, offset in ((0, 1), (1, 2)):  # replays of either revision
        replay = write(pg, frames([revised(cid, revision, compound=0.5, offset=offset)]), batch_id=1 + revision)
        assert (replay.scored_ids, replay.replayed_rows) == ([], 1)
    assert pg.execute("SELECT revision, compound, priority FROM triage_score").fetchone() == (1, -0.8, row[4])
    assert pg.execute("SELECT count(*) FROM triage_score").fetchone() == (1,)


def test_in_one_batch_the_highest_revision_of_a_complaint_is_kept(pg_listening):
    pg = pg_listening
    cid = str(uuid.uuid4())
    result = write(pg, frames([revised(cid, 0, compound=-0.1, offset=1), revised(cid, 2, compound=-0.7, offset=3),
                               revised(cid, 1, compound=-0.4, offset=2)]))
    assert result.scored_ids == [cid]
    assert pg.execute("SELECT revision, compound FROM triage_score").fetchall() == [(2, -0.7)]


def test_a_batch_total_sums_its_chunks_counts():
    chunks = pd.DataFrame([sink.BatchResult(input_rows=3, scored=2, escalated=1, replayed_rows=1, shadow_rows=2,
                                            dead_letter_rows=0, dead_lines=0, scoring_ms=4.0).summary(),
                           sink.BatchResult(input_rows=2, scored=1, dead_letter_rows=1, dead_lines=1).summary()])
    total = sink.BatchResult.total(chunks)
    assert (total.input_rows, total.scored, total.escalated, total.replayed_rows, total.shadow_rows,
            total.dead_letter_rows, total.dead_lines, total.scoring_ms) == (5, 3, 1, 1, 2, 1, 1, 4.0)
    assert sink.BatchResult.total(chunks.iloc[1:]).scoring_ms is None  # no chunk had a serving request


def test_the_chunk_writer_stores_a_chunk_while_the_next_is_scored_and_reports_each_once(pg, pg_url):
    """submit() hands back the chunk before: the task yields it while this one is written.
    Mutant tried: submit() returning its own chunk's future result (waiting for it) ->
    the first submit returned a summary; the test failed."""
    policy = Policy(version=5)
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    writer = sink.ChunkWriter(pg_url, experiment_version=3, policy=policy, notify_channel=CHANNEL)
    try:
        first = writer.submit(rows.outcome_frame(frames([scored_row(a)]), policy))
        second = writer.submit(rows.outcome_frame(frames([scored_row(b, offset=1), scored_row(a)]), policy))
        last = writer.finish()
    finally:
        writer.close()
    assert first is None
    assert (second["input_rows"], second["scored"], last["input_rows"], last["scored"], last["replayed_rows"]) == (
        1, 1, 2, 1, 1)
    assert writer.finish() is None
    assert sorted(r[0] for r in pg.execute("SELECT complaint_id::text FROM triage_score").fetchall()) == sorted([a, b])


def test_a_chunk_the_writer_could_not_store_fails_the_task():
    writer = sink.ChunkWriter("postgresql://nobody@127.0.0.1:1/none?connect_timeout=1", experiment_version=1,
                              policy=Policy(version=1))
    try:
        assert writer.submit(rows.outcome_frame(frames([scored_row(str(uuid.uuid4()))]), Policy(version=1))) is None
        with pytest.raises(psycopg.OperationalError):
            writer.finish()
    finally:
        writer.close()
