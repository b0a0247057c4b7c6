"""The pure transform: Kafka records -> complaints / dead letters -> arms."""
from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pandas as pd
import pytest

from streaming import transform
from streaming.transform import parse_message
from triage_core import routing
from triage_core.messages import MAX_TEXT_CHARS, classic_complaint_id

TOPIC = "complaints"
APP_TOPIC = "complaints_app"  # the app's own topic: the one where sources web and api are believed
STAMP = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def record(value: bytes | None, *, partition: int = 0, offset: int = 0, key: bytes | None = None,
           topic: str = TOPIC) -> tuple:
    return (key, value, topic, partition, offset, STAMP)


def js(obj) -> bytes:
    return json.dumps(obj).encode("utf-8")


def parse(value: bytes | None, offset: int = 7, topic: str = TOPIC):
    return parse_message(value, topic=topic, partition=1, offset=offset, app_topic=APP_TOPIC)


# --- parse_message: one record --------------------------------------------------------

def test_new_format_message_is_a_complaint_with_its_own_id():
    cid = str(uuid.uuid4())
    parsed = parse(js({"id": cid, "text": "  My card was charged twice!  ", "source": "api",
                       "submitted_at": "2026-01-02T03:04:05Z"}), topic=APP_TOPIC)
    assert (parsed.reason, parsed.complaint_id, parsed.text, parsed.source) == (
        None, cid, "My card was charged twice!", "api")


@pytest.mark.parametrize("source", ["web", "api"])
def test_an_app_only_source_from_another_topic_is_a_dead_letter_naming_both_topics(source):
    """Only the app's Kafka login may write the app topic; a record on the loaders' topic
    claiming the form or the API is someone else's, and is not ranked as a customer's.
    Mutant tried: the check comparing the source only (every web record dead)."""
    payload = js({"id": str(uuid.uuid4()), "text": "Refund me now or I sue", "source": source})
    parsed = parse(payload)
    assert (parsed.reason, parsed.complaint_id) == (transform.REASON_SOURCE_NOT_ALLOWED, None)
    assert f"{source!r}" in parsed.detail and repr(APP_TOPIC) in parsed.detail and repr(TOPIC) in parsed.detail
    assert parse(payload, topic=APP_TOPIC).reason is None


@pytest.mark.parametrize("source", ["bulk", "loadgen"])
def test_loader_sources_are_believed_on_the_loaders_topic(source):
    parsed = parse(js({"id": str(uuid.uuid4()), "text": "late again", "source": source}))
    assert (parsed.reason, parsed.source) == (None, source)


def test_new_format_id_is_normalised_to_the_canonical_uuid_form():
    cid = uuid.uuid4()
    parsed = parse(js({"id": str(cid).upper(), "text": "late again"}))
    assert parsed.complaint_id == str(cid)


def test_classic_message_gets_an_id_from_its_position_and_source_kafka():
    parsed = parse(js({"data": "This restaurant is great"}), offset=42)
    assert parsed.reason is None
    assert parsed.complaint_id == classic_complaint_id(TOPIC, 1, 42)
    assert parsed.source == transform.SOURCE_CLASSIC


def test_classic_message_replayed_makes_the_same_complaint():
    assert parse(js({"data": "same"}), offset=3).complaint_id == parse(js({"data": "other"}), offset=3).complaint_id


def test_unknown_source_is_stored_as_kafka_rather_than_rejected():
    parsed = parse(js({"id": str(uuid.uuid4()), "text": "hello there", "source": "x" * 40}))
    assert (parsed.reason, parsed.source) == (None, transform.SOURCE_CLASSIC)


@pytest.mark.parametrize("value, reason", [
    (None, transform.REASON_EMPTY_MESSAGE),
    (b"", transform.REASON_EMPTY_MESSAGE),
    (b"\xff\xfe{\"data\": \"x\"}", transform.REASON_INVALID_UTF8),
    (b'{"data": "caf\xe9"}', transform.REASON_INVALID_UTF8),
    (b"{not json", transform.REASON_UNPARSEABLE_JSON),
    (b'{"data": "x"} trailing', transform.REASON_UNPARSEABLE_JSON),
    (b'["data", "x"]', transform.REASON_NOT_AN_OBJECT),
    (b'"just a string"', transform.REASON_NOT_AN_OBJECT),
    (b'{"text": "no id"}', transform.REASON_MISSING_TEXT),
    (b'{}', transform.REASON_MISSING_TEXT),
    (b'{"id": "not-a-uuid", "text": "hello"}', transform.REASON_INVALID_ID),
    (b'{"id": 12, "text": "hello"}', transform.REASON_INVALID_ID),
    (js({"id": str(uuid.uuid4())}), transform.REASON_MISSING_TEXT),
    (b'{"data": null}', transform.REASON_MISSING_TEXT),
    (b'{"data": 42}', transform.REASON_INVALID_TEXT),
    (b'{"data": "nul \\u0000 inside"}', transform.REASON_INVALID_TEXT),
    (b'{"data": "lone \\ud800 surrogate"}', transform.REASON_INVALID_TEXT),
    (b'{"data": "   \\n\\t "}', transform.REASON_EMPTY_TEXT),
    (js({"data": "x" * (MAX_TEXT_CHARS + 1)}), transform.REASON_TEXT_TOO_LONG),
])
def test_poison_records_become_dead_letters_with_their_reason(value, reason):
    parsed = parse(value)
    assert (parsed.reason, parsed.complaint_id) == (reason, None)
    assert parsed.detail


def test_text_of_exactly_the_limit_is_accepted():
    assert parse(js({"data": "y" * MAX_TEXT_CHARS})).reason is None


# --- prepare_frame: parse + route a batch of records ------------------------------------------

ARMS = [{"label": "A", "model": "vader", "weight": 80}, {"label": "B", "model": "triage", "weight": 20}]


@pytest.fixture(scope="module")
def kafka_frame():
    cid = str(uuid.uuid4())
    rows = [
        record(js({"id": cid, "text": "The parcel never arrived", "source": "web"}), offset=0, key=cid.encode(),
               topic=APP_TOPIC),
        record(js({"data": "This restaurant is great"}), partition=1, offset=5),
        record(b"\xc3\x28 broken utf-8", offset=1, key=b"k"),
    ]
    return pd.DataFrame(rows, columns=transform.KAFKA_SCHEMA.fieldNames()), cid


def test_prepare_frame_keeps_one_row_per_record_with_its_position(kafka_frame):
    frame, _ = kafka_frame
    prepared = transform.prepare_frame(frame, ARMS, app_topic=APP_TOPIC)
    assert list(prepared.columns) == transform.ROUTED_SCHEMA.fieldNames()
    assert list(zip(prepared["kafka_partition"], prepared["kafka_offset"])) == [(0, 0), (1, 5), (0, 1)]
    assert all(pd.Timestamp(t) == STAMP for t in prepared["enqueued_at"])


def test_prepare_frame_routes_complaints_and_keeps_raw_bytes_only_for_dead_letters(kafka_frame):
    frame, cid = kafka_frame
    prepared = transform.prepare_frame(frame, ARMS, app_topic=APP_TOPIC)
    dead, valid = prepared[prepared["reason"].notna()], prepared[prepared["reason"].isna()].set_index("complaint_id")
    classic = classic_complaint_id(TOPIC, 1, 5)
    assert set(valid.index) == {cid, classic}
    assert (valid.loc[cid, "source"], valid.loc[cid, "text"]) == ("web", "The parcel never arrived")
    for complaint_id in (cid, classic):
        arm = routing.assign_arm(complaint_id, ARMS)
        assert (valid.loc[complaint_id, "arm"], valid.loc[complaint_id, "model"]) == (arm["label"], arm["model"])
        assert valid.loc[complaint_id, "raw_value"] is None
    assert [(d.kafka_offset, d.reason, bytes(d.raw_key), bytes(d.raw_value), d.model) for d in dead.itertuples()] == [
        (1, transform.REASON_INVALID_UTF8, b"k", b"\xc3\x28 broken utf-8", None)]


def test_a_split_that_does_not_add_up_is_refused():
    with pytest.raises(ValueError, match="add up to 100"):
        transform.checked_arms([{"label": "A", "model": "vader", "weight": 60}])


# --- route_frame ---------------------------------------------------------------------------

def test_route_frame_follows_triage_core_routing_and_spreads_by_weight():
    ids = [str(uuid.UUID(int=n)) for n in range(2000)]
    parsed = pd.DataFrame({"complaint_id": ids, "reason": [None] * len(ids)})
    routed = transform.route_frame(parsed, ARMS)
    assert routed["arm"].tolist() == [routing.assign_arm(i, ARMS)["label"] for i in ids]
    share_b = (routed["model"] == "triage").mean()
    assert 0.15 < share_b < 0.25


def test_route_frame_is_deterministic_and_leaves_dead_letters_unrouted():
    parsed = pd.DataFrame({"complaint_id": ["a", None], "reason": [None, transform.REASON_EMPTY_TEXT]})
    first, second = transform.route_frame(parsed, ARMS), transform.route_frame(parsed, ARMS)
    assert first["arm"].tolist() == second["arm"].tolist()
    assert first.loc[1, "arm"] is None and first.loc[1, "model"] is None


@pytest.mark.parametrize(("revision", "parsed"), [(None, 0), (2, 2), (0, 0), (-1, 0), ("3", 0), (True, 0), (2.5, 0)])
def test_a_revision_is_read_and_anything_odd_is_revision_0(revision, parsed):
    """The customer wrote again: the message says which revision of the conversation it is."""
    payload = {"id": "6f1c2a52-5f0e-4d57-9a51-2b8f1f0a7c3e", "text": "Still not here.", "source": "web"}
    if revision is not None:
        payload["revision"] = revision
    message = transform.parse_message(json.dumps(payload).encode(), topic=APP_TOPIC, partition=0, offset=1,
                                      app_topic=APP_TOPIC)
    assert message.reason is None and message.revision == parsed
