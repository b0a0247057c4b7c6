"""Postgres side of the stream: what a micro-batch reads first and writes last.

Writes are idempotent because foreachBatch is at-least-once: after a crash between our
commit and Spark's checkpoint commit, Spark runs the same micro-batch again. Every
insert is keyed (complaint id; topic/partition/offset for dead letters) with
ON CONFLICT DO NOTHING, so a replay changes nothing: the first score stands, with the
arm, model and policy it was computed with, and nothing is notified twice.
"""
from __future__ import annotations

import json
import math
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

import pandas as pd
import psycopg

from streaming.scoring import SHADOW_PREFIX
from streaming.transform import REASON_SCORING_REJECTED
from triage_core import priority as priority_rules
from triage_core import routing

NOTIFY_CHANNEL = "complaint_scored"
# Postgres refuses NOTIFY payloads of 8000 bytes or more.
NOTIFY_MAX_BYTES = 7900


@dataclass(frozen=True)
class Experiment:
    version: int
    arms: list[dict]
    shadow_model: str | None = None


# Before an admin saves the first experiment every complaint goes to the seed model.
DEFAULT_EXPERIMENT = Experiment(version=0, arms=[{"label": "A", "model": "vader", "weight": 100}])
DEFAULT_POLICY = priority_rules.Policy(version=0)


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
    row = conn.execute(
        "SELECT version, escalate_at, negative_compound, weight_sentiment, weight_severity,"
        " weight_category FROM triage_escalation_policy ORDER BY version DESC LIMIT 1").fetchone()
    if row is None:
        return DEFAULT_POLICY
    version, escalate_at, negative_compound, w_sentiment, w_severity, w_category = row
    return priority_rules.Policy(version=version, escalate_at=escalate_at, negative_compound=negative_compound,
                                 weight_sentiment=w_sentiment, weight_severity=w_severity,
                                 weight_category=w_category)


@dataclass
class BatchResult:
    batch_id: int
    input_rows: int
    scored_ids: list[str] = field(default_factory=list)  # newly stored scores
    escalated_ids: list[str] = field(default_factory=list)
    replayed_rows: int = 0
    shadow_rows: int = 0
    dead_letter_rows: int = 0
    duration_ms: float = 0.0


def _utc(value) -> datetime | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    stamp = pd.Timestamp(value)
    # The job runs Spark with session time zone UTC, so naive stamps are UTC.
    return (stamp.tz_localize(timezone.utc) if stamp.tzinfo is None else stamp).to_pydatetime()


def _opt_float(value) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def _opt(value):
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def explanation_of(*, service_explanation: str | None, compound: float, reasons: Sequence[str]) -> str:
    """Why the complaint ranks where it does, for staff."""
    why = service_explanation or f"sentiment {compound:+.2f}"
    return why + (f". Escalated: {'; '.join(reasons)}" if reasons else "")


SCORE_IN_COLUMNS = [
    ("complaint_id", "uuid"), ("tracking_code", "text"), ("text", "text"), ("source", "text"),
    ("model_name", "text"), ("model_version", "text"), ("arm", "text"),
    ("compound", "float8"), ("neg", "float8"), ("neu", "float8"), ("pos", "float8"),
    ("label", "text"), ("category", "text"), ("signals", "jsonb"), ("explanation", "text"),
    ("priority", "float8"), ("escalated", "bool"),
    ("kafka_topic", "text"), ("kafka_partition", "int"), ("kafka_offset", "bigint"),
    ("enqueued_at", "timestamptz"), ("scoring_ms", "float8"),
    ("shadow_model_name", "text"), ("shadow_model_version", "text"),
    ("shadow_compound", "float8"), ("shadow_neg", "float8"), ("shadow_neu", "float8"),
    ("shadow_pos", "float8"), ("shadow_label", "text"), ("shadow_category", "text"),
    ("shadow_signals", "jsonb"), ("shadow_explanation", "text"),
]
DEAD_IN_COLUMNS = [("topic", "text"), ("partition", "int"), ("offset", "bigint"), ("raw_key", "bytea"),
                   ("raw_value", "bytea"), ("reason", "text"), ("detail", "text")]


def score_rows(scored: pd.DataFrame, policy: priority_rules.Policy) -> list[tuple]:
    """Rows for SCORE_IN_COLUMNS from scored complaints without a serving error."""
    rows = []
    for r in scored.itertuples(index=False):
        signals = json.loads(r.signals) if r.signals else {}
        evaluation = priority_rules.evaluate(compound=r.compound, signals=signals,
                                             category=_opt(r.category), policy=policy)
        shadow_ok = _opt(r.shadow_model_name) is not None and _opt(r.shadow_error) is None
        shadow = ([r.shadow_model_name, r.shadow_model_version, r.shadow_compound, r.shadow_neg,
                   r.shadow_neu, r.shadow_pos, r.shadow_label, _opt(r.shadow_category),
                   r.shadow_signals or "{}", r.shadow_explanation or ""]
                  if shadow_ok else [None] * 10)
        rows.append((
            # Used only when the complaint has no row yet (docs/contracts.md); a replay
            # draws a new code, but ON CONFLICT (id) DO NOTHING discards it.
            r.complaint_id, secrets.token_urlsafe(24), r.text, r.source, r.model_name, r.model_version, r.arm,
            r.compound, r.neg, r.neu, r.pos, r.label, _opt(r.category), r.signals or "{}",
            explanation_of(service_explanation=r.explanation, compound=r.compound, reasons=evaluation.reasons),
            evaluation.priority, evaluation.escalated,
            r.kafka_topic, int(r.kafka_partition), int(r.kafka_offset), _utc(r.enqueued_at),
            _opt_float(r.scoring_ms), *shadow,
        ))
    return rows


def dead_letter_rows(dead: pd.DataFrame, rejected: pd.DataFrame) -> list[tuple]:
    """Rows for DEAD_IN_COLUMNS: parse failures, and texts the serving model rejected."""
    rows = [(r.kafka_topic, int(r.kafka_partition), int(r.kafka_offset), _opt(r.raw_key), _opt(r.raw_value),
             r.reason, r.detail or "") for r in dead.itertuples(index=False)]
    rows += [(r.kafka_topic, int(r.kafka_partition), int(r.kafka_offset), None,
              json.dumps({"id": r.complaint_id, "text": r.text}).encode("utf-8"),
              REASON_SCORING_REJECTED, f"model {r.model_name}: {r.error}"[:500])
             for r in rejected.itertuples(index=False)]
    return rows


def notify_payloads(ids: Sequence[str], escalated: set[str]) -> list[str]:
    """`{"ids": [...], "escalated": [...]}` chunks, each under Postgres' NOTIFY limit."""
    def encode(part: list[str]) -> str:
        return json.dumps({"ids": part, "escalated": [i for i in part if i in escalated]}, separators=(",", ":"))

    empty = len(encode([]))
    payloads, chunk, size = [], [], empty
    for complaint_id in ids:
        # Each id costs its JSON string plus a comma, twice when it is escalated too.
        cost = (len(json.dumps(complaint_id)) + 1) * (2 if complaint_id in escalated else 1)
        if chunk and size + cost > NOTIFY_MAX_BYTES:
            payloads.append(encode(chunk))
            chunk, size = [], empty
        chunk.append(complaint_id)
        size += cost
    if chunk:
        payloads.append(encode(chunk))
    return payloads


def _temp_table(conn: psycopg.Connection, name: str, columns: Sequence[tuple[str, str]], rows: list[tuple]) -> None:
    ddl = ", ".join(f'"{c}" {t}' for c, t in columns)
    conn.execute(f"CREATE TEMP TABLE {name} ({ddl}) ON COMMIT DROP")
    names = ", ".join(f'"{c}"' for c, _ in columns)
    with conn.cursor().copy(f"COPY {name} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _scoring_ms_total(scored: pd.DataFrame) -> float | None:
    """Time spent waiting for the scoring service, summed over requests (serving model)."""
    if not len(scored) or scored["scoring_ms"].isna().all():
        return None
    return float(scored["scoring_ms"].sum())


def write_batch_rows(conn: psycopg.Connection, *, batch_id: int, input_rows: int, scored: pd.DataFrame,
                     dead: pd.DataFrame, experiment: Experiment, policy: priority_rules.Policy,
                     started_at: datetime, started_monotonic: float,
                     notify_channel: str = NOTIFY_CHANNEL) -> BatchResult:
    """Everything one micro-batch stores, in one transaction, ending with NOTIFY."""
    rejected = scored[scored["error"].notna()] if len(scored) else scored
    accepted = scored[scored["error"].isna()] if len(scored) else scored
    result = BatchResult(batch_id=batch_id, input_rows=input_rows)
    with conn.transaction():
        _temp_table(conn, "stream_score_in", SCORE_IN_COLUMNS, score_rows(accepted, policy))
        _temp_table(conn, "stream_dead_in", DEAD_IN_COLUMNS, dead_letter_rows(dead, rejected))
        # A complaint the app stored already keeps its row; the classic demo's
        # `{"data"}` messages and producers that bypass the app (load generator, bulk
        # import) get one here, already 'analysed': its score commits with it, so nobody
        # ever sees it 'received', and the UPDATE below has nothing to rewrite for it.
        conn.execute("""
            INSERT INTO triage_complaint (id, tracking_code, text, email, source, status, created_at, updated_at)
            SELECT DISTINCT ON (complaint_id) complaint_id, tracking_code, text, NULL, source, 'analysed', enqueued_at, now()
            FROM stream_score_in ORDER BY complaint_id, kafka_partition, kafka_offset
            ON CONFLICT (id) DO NOTHING""")
        # DO NOTHING, not DO UPDATE: foreachBatch is at-least-once, and a replayed batch
        # must not overwrite the first score (its arm may differ if the split changed).
        inserted = conn.execute("""
            INSERT INTO triage_score (complaint_id, model_name, model_version, arm, experiment_version,
                compound, neg, neu, pos, label, category, signals, explanation, priority, escalated,
                policy_version, kafka_topic, kafka_partition, kafka_offset, enqueued_at, scored_at, scoring_ms)
            SELECT DISTINCT ON (complaint_id) complaint_id, model_name, model_version, arm, %(experiment)s,
                compound, neg, neu, pos, label, category, signals, explanation, priority, escalated,
                %(policy)s, kafka_topic, kafka_partition, kafka_offset, enqueued_at, clock_timestamp(), scoring_ms
            FROM stream_score_in ORDER BY complaint_id, kafka_partition, kafka_offset
            ON CONFLICT (complaint_id) DO NOTHING
            RETURNING complaint_id::text, escalated""",
            {"experiment": experiment.version, "policy": policy.version}).fetchall()
        # Shadow scores only for complaints this batch scored: a replay under a newer
        # experiment must not add a shadow score to a complaint scored before it.
        shadow = conn.execute("""
            INSERT INTO triage_shadow_score (complaint_id, model_name, model_version, compound, neg, neu, pos,
                label, category, signals, explanation, scored_at)
            SELECT DISTINCT ON (complaint_id) complaint_id, shadow_model_name, shadow_model_version,
                shadow_compound, shadow_neg, shadow_neu, shadow_pos, shadow_label, shadow_category,
                shadow_signals, shadow_explanation, clock_timestamp()
            FROM stream_score_in WHERE shadow_model_name IS NOT NULL AND complaint_id = ANY(%s::uuid[])
            ORDER BY complaint_id, kafka_partition, kafka_offset
            ON CONFLICT (complaint_id, model_name) DO NOTHING""", ([row[0] for row in inserted],))
        result.shadow_rows = shadow.rowcount
        dead_cur = conn.execute("""
            INSERT INTO triage_dead_letter (topic, "partition", "offset", raw_key, raw_value, reason, detail, created_at)
            SELECT topic, "partition", "offset", raw_key, raw_value, reason, detail, now() FROM stream_dead_in
            ON CONFLICT (topic, "partition", "offset") DO NOTHING""")
        result.dead_letter_rows = dead_cur.rowcount
        conn.execute("""
            UPDATE triage_complaint c SET status = 'analysed', updated_at = now()
            FROM (SELECT DISTINCT complaint_id FROM stream_score_in) s
            WHERE c.id = s.complaint_id AND c.status = 'received'""")
        result.scored_ids = [row[0] for row in inserted]
        result.escalated_ids = [row[0] for row in inserted if row[1]]
        result.replayed_rows = len(accepted) - len(result.scored_ids)
        for payload in notify_payloads(result.scored_ids, set(result.escalated_ids)):
            conn.execute("SELECT pg_notify(%s, %s)", (notify_channel, payload))
        result.duration_ms = (time.monotonic() - started_monotonic) * 1000.0
        # The health page's record of this batch (docs/contracts.md). Optional there, so
        # a database without the table (older migrations) still gets its scores.
        if conn.execute("SELECT to_regclass('triage_stream_batch')").fetchone()[0] is not None:
            conn.execute("""
                INSERT INTO triage_stream_batch (batch_id, rows, dead_letters, duration_ms, scoring_ms,
                    started_at, finished_at)
                VALUES (%s, %s, %s, %s, %s, %s, clock_timestamp())""",
                (batch_id, input_rows, len(dead) + len(rejected), result.duration_ms,
                 _scoring_ms_total(scored), started_at))
    return result
