"""The scored notification: what the stream writes, the score listener reads back."""
from __future__ import annotations

import json
import uuid

import pytest

from triage_core import notify


def test_payloads_stay_under_the_postgres_limit_and_keep_every_id():
    ids = [str(uuid.uuid4()) for _ in range(1000)]
    escalated = set(ids[::3])
    payloads = notify.payloads(ids, escalated)
    decoded = [json.loads(p) for p in payloads]
    assert len(payloads) > 1 and all(len(p.encode()) < 8000 for p in payloads)
    assert [i for d in decoded for i in d["ids"]] == ids
    assert {i for d in decoded for i in d["escalated"]} == escalated


def test_what_the_stream_writes_the_listener_reads_back():
    ids = [str(uuid.UUID(int=n, version=4)) for n in range(300)]
    read = [notify.complaint_ids(p) for p in notify.payloads(ids, {ids[0]})]
    assert [i for got, _ in read for i in got] == ids
    assert all(invalid == 0 for _, invalid in read)


def test_a_payload_it_did_not_write_is_refused_with_a_reason():
    with pytest.raises(notify.PayloadInvalid, match="not JSON"):
        notify.complaint_ids("{")
    with pytest.raises(notify.PayloadInvalid, match="no ids list"):
        notify.complaint_ids('{"ids": "x"}')
    assert notify.complaint_ids(f'{{"ids": ["not-a-uuid", "{uuid.UUID(int=1, version=4)}"]}}') == (
        [str(uuid.UUID(int=1, version=4))], 1)
