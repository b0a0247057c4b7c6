"""The pure part of the stream: Kafka records -> complaints or dead letters -> arms.

Every function here takes a pandas DataFrame and returns one with the columns of an
explicit schema, and reads nothing from the outside world, so it is tested on a few
rows without Spark or Kafka (tests/streaming/test_transform.py). It runs on the
executors, inside the batch's one mapInPandas pass (streaming/scoring.py:
score_records), followed by the scoring call and streaming/rows.py. The I/O shell is
streaming/job.py; the Postgres writes are streaming/sink.py.
"""
from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd
from pyspark.sql.types import BinaryType, IntegerType, LongType, StringType, StructField, StructType, TimestampType

from triage_core import routing
from triage_core.messages import (
    DETAIL_MAX_CHARS,
    MAX_TEXT_CHARS,
    SOURCE_CLASSIC,
    SOURCES_APP_ONLY,
    SOURCES_NAMED_IN_MESSAGES,
    TEXT_EMPTY,
    TEXT_TOO_LONG,
    TEXT_UNSTORABLE,
    classic_complaint_id,
    text_problem,
)

# Why a record became a dead letter (triage_dead_letter.reason). Admins filter on these
# and the tests assert on them, so they are constants, never ad-hoc strings.
REASON_EMPTY_MESSAGE = "empty_message"
REASON_INVALID_UTF8 = "invalid_utf8"
REASON_UNPARSEABLE_JSON = "unparseable_json"
REASON_NOT_AN_OBJECT = "not_an_object"
REASON_INVALID_ID = "invalid_id"
REASON_MISSING_TEXT = "missing_text"
REASON_INVALID_TEXT = "invalid_text"
REASON_EMPTY_TEXT = "empty_text"
REASON_TEXT_TOO_LONG = "text_too_long"
# A record saying it came from the app's form or API on a topic other than the app's:
# only the app's Kafka login may write that topic, so this one was not the app's.
REASON_SOURCE_NOT_ALLOWED = "source_not_allowed"
# Set by the sink, not here: the scoring service answered this one text with an error
# (the service itself was up, so retrying would give the same answer).
REASON_SCORING_REJECTED = "scoring_rejected"


# The columns the Kafka source gives that the stream uses.
KAFKA_SCHEMA = StructType([
    StructField("key", BinaryType()),
    StructField("value", BinaryType()),
    StructField("topic", StringType(), False),
    StructField("partition", IntegerType(), False),
    StructField("offset", LongType(), False),
    StructField("timestamp", TimestampType()),
])

PARSED_SCHEMA = StructType([
    StructField("kafka_topic", StringType()),
    StructField("kafka_partition", IntegerType()),
    StructField("kafka_offset", LongType()),
    StructField("enqueued_at", TimestampType()),
    StructField("raw_key", BinaryType()),
    StructField("raw_value", BinaryType()),
    StructField("complaint_id", StringType()),
    StructField("text", StringType()),
    StructField("source", StringType()),
    StructField("revision", IntegerType()),
    StructField("reason", StringType()),
    StructField("detail", StringType()),
])



@dataclass(frozen=True)
class ParsedMessage:
    """A record's meaning: a complaint (reason is None) or why it is a dead letter."""
    complaint_id: str | None = None
    text: str | None = None
    source: str | None = None
    revision: int = 0  # the customer wrote again: the text is the conversation so far
    reason: str | None = None
    detail: str | None = None


def _dead(reason: str, detail: str) -> ParsedMessage:
    return ParsedMessage(reason=reason, detail=detail[:DETAIL_MAX_CHARS])


def parse_message(value: bytes | None, *, topic: str, partition: int, offset: int,
                  app_topic: str | None = None) -> ParsedMessage:
    """One Kafka record value, as docs/contracts.md defines it.

    A source only the app writes (SOURCES_APP_ONLY: web, api) is believed only on
    `app_topic`, the topic only the app's login may write; anywhere else the record is a
    dead letter (REASON_SOURCE_NOT_ALLOWED), never ranked as a customer's.

    `{"id": uuid, "text": ..., "source": ...}` is a complaint with that id;
    an optional `"revision"` (1, 2, ...) says the customer wrote again and `text` is the
    conversation so far (the sink then replaces that complaint's score);
    `{"data": text}` (the classic demo) is a complaint whose id derives from the record's
    position, so a replay makes the same complaint again rather than a second one.
    """
    if value is None or len(value) == 0:
        return _dead(REASON_EMPTY_MESSAGE, "the record has no value")
    try:
        decoded = bytes(value).decode("utf-8")
    except UnicodeDecodeError as exc:
        return _dead(REASON_INVALID_UTF8, str(exc))
    try:
        payload = json.loads(decoded)
    except ValueError as exc:
        return _dead(REASON_UNPARSEABLE_JSON, str(exc))
    if not isinstance(payload, dict):
        return _dead(REASON_NOT_AN_OBJECT, f"JSON {type(payload).__name__}, expected an object")

    if "id" in payload:
        raw_id = payload["id"]
        try:
            complaint_id = str(uuid.UUID(raw_id)) if isinstance(raw_id, str) else None
        except ValueError:
            complaint_id = None
        if complaint_id is None:
            return _dead(REASON_INVALID_ID, f"id {raw_id!r} is not a UUID string")
        text = payload.get("text")
        source = payload.get("source")
        # An unknown source is stored as the classic one rather than dead-lettered: the
        # label is informational and must fit varchar(16).
        source = source if isinstance(source, str) and source in SOURCES_NAMED_IN_MESSAGES else SOURCE_CLASSIC
        revision = payload.get("revision", 0)
        # Like the source, a ranking hint: one that is not a whole number from 0 is 0.
        revision = revision if isinstance(revision, int) and not isinstance(revision, bool) and 0 <= revision < 2**31 \
            else 0
    elif "data" in payload:
        complaint_id = classic_complaint_id(topic, partition, offset)
        text = payload["data"]
        source = SOURCE_CLASSIC
        revision = 0
    else:
        return _dead(REASON_MISSING_TEXT, "object has neither \"id\"/\"text\" nor \"data\"")

    if text is None:
        return _dead(REASON_MISSING_TEXT, "text is missing or null")
    if not isinstance(text, str):
        return _dead(REASON_INVALID_TEXT, f"text is a JSON {type(text).__name__}, expected a string")
    text = text.strip()
    # No minimum length here: the form's minimum is for people typing; a message from
    # another system (the classic demo's producer, say) is scored whatever its length.
    problem = text_problem(text, min_chars=1)
    if problem == TEXT_UNSTORABLE:
        return _dead(REASON_INVALID_TEXT, "text contains NUL or an unpaired surrogate")
    if problem == TEXT_EMPTY:
        return _dead(REASON_EMPTY_TEXT, "text is empty after trimming")
    if problem == TEXT_TOO_LONG:
        return _dead(REASON_TEXT_TOO_LONG, f"text has {len(text)} characters, limit {MAX_TEXT_CHARS}")
    if source in SOURCES_APP_ONLY and topic != app_topic:
        return _dead(REASON_SOURCE_NOT_ALLOWED, f"source {source!r} is written only by the app, to topic "
                                                f"{app_topic!r}; this record came from topic {topic!r}")
    return ParsedMessage(complaint_id=complaint_id, text=text, source=source, revision=revision)


def parse_frame(records: pd.DataFrame, *, app_topic: str | None = None) -> pd.DataFrame:
    """KAFKA_SCHEMA columns -> PARSED_SCHEMA columns, one row per record (app_topic as
    parse_message takes it).

    A valid record keeps no raw bytes (nobody needs them and they cost transfer); a dead
    letter keeps its key and value as they came.
    """
    parsed = [parse_message(value, topic=topic, partition=int(partition), offset=int(offset), app_topic=app_topic)
              for value, topic, partition, offset in zip(
                  records["value"], records["topic"], records["partition"], records["offset"])]
    dead = [p.reason is not None for p in parsed]
    return pd.DataFrame({
        "kafka_topic": records["topic"].to_numpy(),
        "kafka_partition": records["partition"].to_numpy(),
        "kafka_offset": records["offset"].to_numpy(),
        "enqueued_at": records["timestamp"].to_numpy(),
        "raw_key": [k if d else None for k, d in zip(records["key"], dead)],
        "raw_value": [v if d else None for v, d in zip(records["value"], dead)],
        "complaint_id": [p.complaint_id for p in parsed],
        "text": [p.text for p in parsed],
        "source": [p.source for p in parsed],
        "revision": [p.revision for p in parsed],
        "reason": [p.reason for p in parsed],
        "detail": [p.detail for p in parsed],
    })


def route_frame(parsed: pd.DataFrame, arms: Sequence[Mapping]) -> pd.DataFrame:
    """Adds `arm` (label) and `model` by triage_core.routing; None for dead letters.

    The bucket is a hash of the complaint id, so a replayed batch routes every complaint
    as before, as long as the experiment is the same.
    """
    chosen = [routing.assign_arm(cid, arms) if reason is None else None
              for cid, reason in zip(parsed["complaint_id"], parsed["reason"])]
    out = parsed.copy()
    out["arm"] = [a["label"] if a else None for a in chosen]
    out["model"] = [a["model"] if a else None for a in chosen]
    return out


ROUTED_SCHEMA = StructType(PARSED_SCHEMA.fields + [
    StructField("arm", StringType()),
    StructField("model", StringType()),
])


def checked_arms(arms: Sequence[Mapping]) -> list[dict]:
    """The experiment's arms, or ValueError when they cannot route (the batch then fails)."""
    if problems := routing.validate_arms(arms):
        raise ValueError("invalid experiment arms: " + "; ".join(problems))
    return [dict(arm) for arm in arms]


def prepare_frame(records: pd.DataFrame, arms: Sequence[Mapping], *, app_topic: str | None = None) -> pd.DataFrame:
    """KAFKA_SCHEMA columns -> ROUTED_SCHEMA columns: each record parsed, validated and,
    when it is a complaint, routed to an experiment arm (arms as checked_arms returns)."""
    return route_frame(parse_frame(records, app_topic=app_topic), arms)
