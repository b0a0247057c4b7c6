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


def test_the_policy_version_travels_with_every_chunk():
    ids = [str(uuid.UUID(int=n, version=4)) for n in range(600)]
    payloads = notify.payloads(ids, set(ids[:5]), policy_version=7)
    assert len(payloads) > 1 and all(len(p.encode()) < 8000 for p in payloads)
    read = [notify.read(p) for p in payloads]
    assert {r.policy_version for r in read} == {7}
    assert [i for r in read for i in r.ids] == ids
    assert notify.read(notify.payloads(ids[:1], set())[0]).policy_version is None


@pytest.mark.parametrize("policy", ['"7"', "true", "null", "7.5"])
def test_a_policy_version_that_is_not_a_whole_number_is_not_trusted(policy):
    payload = f'{{"ids": ["{uuid.UUID(int=1, version=4)}"], "policy": {policy}}}'
    assert notify.read(payload).policy_version is None
