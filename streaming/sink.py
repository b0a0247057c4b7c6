"""Postgres side of the stream: what a micro-batch reads first and writes last.

Writes are idempotent because foreachBatch is at-least-once: after a crash between our
commit and Spark's checkpoint commit, Spark runs the same micro-batch again. Every
insert is keyed (complaint id; topic/partition/offset for dead letters) with
ON CONFLICT DO NOTHING, so a replay changes nothing: the first score stands, with the
arm, model and policy it was computed with, and nothing is notified twice.

One exception, and it is keyed too: a message with a higher `revision` (the customer
wrote again; its text is the conversation so far) replaces its complaint's score, so
what the customer adds can move the complaint up the queue. A replay of any revision
finds the stored revision equal or higher and changes nothing.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd
import psycopg
from pyspark.sql.types import DoubleType, LongType, StructField, StructType

from streaming import rows
from triage_core import notify, routing
from triage_core import priority as priority_rules


@dataclass(frozen=True)
class Experiment:
    version: int
    arms: list[dict]
    shadow_model: str | None = None


DEFAULT_EXPERIMENT = Experiment(version=0, arms=[dict(arm) for arm in routing.DEFAULT_ARMS],
                                shadow_model=routing.DEFAULT_SHADOW_MODEL)


def current_experiment(conn: psycopg.Connection) -> Experiment:
    row = conn.execute(
        "SELECT version, arms, shadow_model FROM triage_experiment ORDER BY version DESC LIMIT 1").fetchone()
    if row is None:
        return DEFAULT_EXPERIMENT
    version, arms, shadow_model = row
    arms = json.loads(arms) if isinstance(arms, str) else arms
    if problems := routing.validate_arms(arms):
        # The app validates with the same function; failing here (the job retries the
        # batch) is better than routing traffic by a broken split.
        raise ValueError(f"experiment version {version} is invalid: " + "; ".join(problems))
    return Experiment(version=version, arms=list(arms), shadow_model=shadow_model or None)


def current_policy(conn: psycopg.Connection) -> priority_rules.Policy:
    columns = ", ".join(priority_rules.POLICY_FIELDS)
    row = conn.execute(
        f"SELECT version, {columns} FROM triage_escalation_policy ORDER BY version DESC LIMIT 1").fetchone()
    if row is None:
        return priority_rules.DEFAULT_POLICY
    return priority_rules.policy_from_values(version=row[0], values=dict(zip(priority_rules.POLICY_FIELDS, row[1:])))


@dataclass
class BatchResult:
    """What storing one chunk of a micro-batch did (write_outcomes), or, summed over the
    chunks the executors stored (BatchResult.total), the whole batch."""
    input_rows: int = 0
    scored: int = 0  # newly stored scores
    escalated: int = 0
    replayed_rows: int = 0
    shadow_rows: int = 0
    dead_letter_rows: int = 0  # dead letters stored now
    dead_lines: int = 0  # records that are dead letters, stored now or by an earlier run
    scoring_ms: float | None = None  # the sum of the serving requests' per-text latency
    scored_ids: list[str] = field(default_factory=list)  # of a chunk: the complaints it scored
    escalated_ids: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        """One STORED_SCHEMA row: what an executor sends the driver for the chunk."""
        return {f.name: getattr(self, f.name) for f in STORED_SCHEMA.fields}

    @classmethod
    def total(cls, summaries: pd.DataFrame) -> BatchResult:
        """The batch's figures from its chunks' STORED_SCHEMA rows."""
        counts: dict[str, Any] = {name: int(summaries[name].sum()) for name in _COUNTS}
        return cls(**counts, scoring_ms=_sum_or_none(summaries["scoring_ms"]))


def _sum_or_none(values: pd.Series) -> float | None:
    """The sum of the values present; None when none is (no chunk had a serving request)."""
    present = values.dropna()
    return float(present.sum()) if len(present) else None


_COUNTS = ("input_rows", "scored", "escalated", "replayed_rows", "shadow_rows", "dead_letter_rows", "dead_lines")
STORED_SCHEMA = StructType([*(StructField(name, LongType(), False) for name in _COUNTS),
                            StructField("scoring_ms", DoubleType())])


# Lines per copy.write(): ~0.5 MB for typical complaints; the batch never sits in one buffer twice.
COPY_CHUNK_LINES = 2000


def _temp_table(conn: psycopg.Connection, name: str, columns: Sequence[tuple[str, str]],
                lines: Sequence[bytes]) -> None:
    """A temp table (no index: it is read once, whole) filled with COPY lines as
    streaming.rows encoded them: no per-row work here."""
    ddl = ", ".join(f'"{c}" {t}' for c, t in columns)
    conn.execute(f"CREATE TEMP TABLE {name} ({ddl}) ON COMMIT DROP")
    names = ", ".join(f'"{c}"' for c, _ in columns)
    with conn.cursor().copy(f"COPY {name} ({names}) FROM STDIN") as copy:
        for start in range(0, len(lines), COPY_CHUNK_LINES):
            copy.write(b"".join(lines[start:start + COPY_CHUNK_LINES]))


def _present(column: pd.Series) -> list:
    return column[column.notna()].tolist()


def write_outcomes(conn: psycopg.Connection, *, outcomes: pd.DataFrame, experiment_version: int,
                   policy: priority_rules.Policy, notify_channel: str = notify.CHANNEL) -> BatchResult:
    """What a chunk of a micro-batch stores, in one transaction, ending with NOTIFY.

    `outcomes` has one streaming.rows.OUTCOME_SCHEMA row per Kafka record of the chunk;
    priority and escalation in it were computed under `policy` on the executors, which
    call this for each chunk they scored (streaming.job.store_records). The statements
    are idempotent, so a chunk stored twice (a replayed batch, a retried task) and
    chunks of one batch committed by different executors store each record once.
    """
    score_lines, shadow_lines, dead_lines = (_present(outcomes[c]) for c in ("score_line", "shadow_line", "dead_line"))
    result = BatchResult(input_rows=len(outcomes), dead_lines=len(dead_lines),
                         scoring_ms=_sum_or_none(outcomes["scoring_ms"]))
    with conn.transaction():
        # No JIT: the temp tables have no statistics, so a chunk's statements look costly
        # enough for PostgreSQL to compile them with LLVM, which took longer than running
        # them (a fifth of the chunk's CPU in a profile; ~10-15 % less with it off).
        conn.execute("SET LOCAL jit = off")
        _temp_table(conn, "stream_score_in", rows.SCORE_COLUMNS, score_lines)
        _temp_table(conn, "stream_shadow_in", rows.SHADOW_COLUMNS, shadow_lines)
        _temp_table(conn, "stream_dead_in", rows.DEAD_COLUMNS, dead_lines)
        # A complaint the app stored already keeps its row; the classic demo's
        # `{"data"}` messages and producers that bypass the app (load generator, bulk
        # import) get one here, already 'analysed': its score commits with it, so nobody
        # ever sees it 'received', and the UPDATE below has nothing to rewrite for it.
        conn.execute("""
            INSERT INTO triage_complaint (id, tracking_code, text, email, source, status, created_at, updated_at)
            SELECT DISTINCT ON (complaint_id)
                   complaint_id, tracking_code, text, NULL, source, 'analysed', enqueued_at, now()
            FROM stream_score_in ORDER BY complaint_id, kafka_partition, kafka_offset
            ON CONFLICT (id) DO NOTHING""")
        # DO UPDATE only for a higher revision: foreachBatch is at-least-once, and a
        # replayed batch must not overwrite a score (its arm may differ if the split
        # changed); a newer revision of the conversation must. Within one batch the
        # highest revision of a complaint is the one kept (DISTINCT ON ... revision DESC).
        # Shadow scores only for complaints this very statement scored: a replay under a
        # newer experiment must not add a shadow score to a complaint scored before it.
        # (Joining the RETURNING rows in the same statement, rather than sending their ids
        # back as a parameter, costs nothing when there is no shadow model.)
        inserted = conn.execute("""
            WITH scored AS (
                INSERT INTO triage_score (complaint_id, model_name, model_version, arm, experiment_version,
                    compound, neg, neu, pos, label, category, signals, explanation, language, complaint_probability,
                    priority, escalated, policy_version, kafka_topic, kafka_partition, kafka_offset, enqueued_at,
                    scored_at, scoring_ms, revision)
                SELECT DISTINCT ON (complaint_id) complaint_id, model_name, model_version, arm, %(experiment)s,
                    compound, neg, neu, pos, label, category, signals, explanation, language, complaint_probability,
                    priority, escalated, %(policy)s, kafka_topic, kafka_partition, kafka_offset, enqueued_at,
                    clock_timestamp(), scoring_ms, revision
                FROM stream_score_in ORDER BY complaint_id, revision DESC, kafka_partition, kafka_offset
                ON CONFLICT (complaint_id) DO UPDATE SET
                    model_name = EXCLUDED.model_name, model_version = EXCLUDED.model_version, arm = EXCLUDED.arm,
                    experiment_version = EXCLUDED.experiment_version, compound = EXCLUDED.compound,
                    neg = EXCLUDED.neg, neu = EXCLUDED.neu, pos = EXCLUDED.pos, label = EXCLUDED.label,
                    category = EXCLUDED.category, signals = EXCLUDED.signals, explanation = EXCLUDED.explanation,
                    language = EXCLUDED.language, complaint_probability = EXCLUDED.complaint_probability,
                    priority = EXCLUDED.priority, escalated = EXCLUDED.escalated,
                    policy_version = EXCLUDED.policy_version, kafka_topic = EXCLUDED.kafka_topic,
                    kafka_partition = EXCLUDED.kafka_partition, kafka_offset = EXCLUDED.kafka_offset,
                    enqueued_at = EXCLUDED.enqueued_at, scored_at = EXCLUDED.scored_at,
                    scoring_ms = EXCLUDED.scoring_ms, revision = EXCLUDED.revision
                WHERE triage_score.revision < EXCLUDED.revision
                RETURNING complaint_id, escalated),
            shadow AS (
                INSERT INTO triage_shadow_score (complaint_id, model_name, model_version, compound, neg, neu, pos,
                    label, category, signals, explanation, language, complaint_probability, scored_at)
                SELECT DISTINCT ON (complaint_id) complaint_id, model_name, model_version,
                    compound, neg, neu, pos, label, category, signals, explanation, language, complaint_probability,
                    clock_timestamp()
                FROM stream_shadow_in JOIN scored USING (complaint_id)
                ORDER BY complaint_id, kafka_partition, kafka_offset
                ON CONFLICT (complaint_id, model_name) DO NOTHING
                RETURNING 1)
            SELECT complaint_id::text, escalated, (SELECT count(*) FROM shadow) FROM scored""",
            {"experiment": experiment_version, "policy": policy.version}).fetchall()
        result.shadow_rows = inserted[0][2] if inserted else 0
        dead_cur = conn.execute("""
            INSERT INTO triage_dead_letter
                   (topic, "partition", "offset", raw_key, raw_value, reason, detail, created_at)
            SELECT topic, "partition", "offset", raw_key, raw_value, reason, detail, now() FROM stream_dead_in
            ON CONFLICT (topic, "partition", "offset") DO NOTHING""")
        result.dead_letter_rows = dead_cur.rowcount
        conn.execute("""
            UPDATE triage_complaint c SET status = 'analysed', updated_at = now()
            FROM (SELECT DISTINCT complaint_id FROM stream_score_in) s
            WHERE c.id = s.complaint_id AND c.status = 'received'""")
        result.scored_ids = [row[0] for row in inserted]
        result.escalated_ids = [row[0] for row in inserted if row[1]]
        result.scored, result.escalated = len(result.scored_ids), len(result.escalated_ids)
        result.replayed_rows = len(score_lines) - result.scored
        if payloads := notify.payloads(result.scored_ids, set(result.escalated_ids), policy.version):
            # executemany pipelines the statements: one round trip, in order.
            conn.cursor().executemany("SELECT pg_notify(%s, %s)", [(notify_channel, p) for p in payloads])
    return result


def record_batch(conn: psycopg.Connection, *, batch_id: int, result: BatchResult, started_at: datetime,
                 duration_ms: float) -> None:
    """The health page's record of one run of a micro-batch (docs/contracts.md), on the
    driver once every chunk is stored. Optional there, so a database without the table
    (older migrations) still gets its scores. Not keyed: a replayed batch adds a second row."""
    if (found := conn.execute("SELECT to_regclass('triage_stream_batch')").fetchone()) and found[0] is not None:
        conn.execute("""
            INSERT INTO triage_stream_batch (batch_id, rows, dead_letters, duration_ms, scoring_ms,
                started_at, finished_at)
            VALUES (%s, %s, %s, %s, %s, %s, clock_timestamp())""",
            (batch_id, result.input_rows, result.dead_lines, duration_ms, result.scoring_ms, started_at))


class ChunkWriter:
    """The Postgres writer of one Spark task: one connection (opened at the first chunk)
    and one thread, so that a chunk is stored while the task scores the next one.

    At most one chunk is being stored at a time; a failure to store it is raised by the
    next submit() or by finish(), so the task, and with it the micro-batch, fails.
    """

    def __init__(self, database_url: str, *, experiment_version: int, policy: priority_rules.Policy,
                 notify_channel: str = notify.CHANNEL):
        self.database_url = database_url
        self.experiment_version = experiment_version
        self.policy = policy
        self.notify_channel = notify_channel
        self._conn: psycopg.Connection | None = None
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="sink")
        self._pending: Future | None = None

    def _store(self, outcomes: pd.DataFrame) -> dict:
        if self._conn is None:
            # autocommit: write_outcomes' transaction is the only one, never left open.
            self._conn = psycopg.connect(self.database_url, autocommit=True)
        return write_outcomes(self._conn, outcomes=outcomes, experiment_version=self.experiment_version,
                              policy=self.policy, notify_channel=self.notify_channel).summary()

    def submit(self, outcomes: pd.DataFrame) -> dict | None:
        """Starts storing `outcomes`; returns the summary of the chunk before it, if any."""
        stored = self.finish()
        self._pending = self._pool.submit(self._store, outcomes)
        return stored

    def finish(self) -> dict | None:
        """Waits for the chunk being stored; its summary (None when there is none)."""
        pending, self._pending = self._pending, None
        return None if pending is None else pending.result()

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        if self._conn is not None:
            self._conn.close()
