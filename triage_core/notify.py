"""The "scored" notification between the stream and the live dashboards: the stream's
batch transaction sends `NOTIFY complaint_scored, '{"ids": [...], "escalated": [...]}'`,
Postgres delivers it once the scores are committed, and the app's score listener reads
the ids and pushes those complaints to staff. One module writes and reads the payload.

The payload also names the escalation policy version the batch ranked under
(`"policy": N`), so the listener re-ranks only when an admin changed the policy while the
batch ran, without asking Postgres about every id.
"""
from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

CHANNEL = "complaint_scored"
# Postgres refuses NOTIFY payloads of 8000 bytes or more.
MAX_PAYLOAD_BYTES = 7900


def payloads(ids: Sequence[str], escalated: set[str], policy_version: int | None = None) -> list[str]:
    """`{"ids": [...], "escalated": [...], "policy": N}` chunks, each under Postgres'
    NOTIFY limit ("policy" only when `policy_version` is given)."""
    extra = {} if policy_version is None else {"policy": int(policy_version)}

    def encode(part: list[str]) -> str:
        return json.dumps({"ids": part, "escalated": [i for i in part if i in escalated], **extra},
                          separators=(",", ":"))

    empty = len(encode([]))
    out: list[str] = []
    chunk: list[str] = []
    size = empty
    for complaint_id in ids:
        # Each id costs its JSON string plus a comma, twice when it is escalated too.
        cost = (len(json.dumps(complaint_id)) + 1) * (2 if complaint_id in escalated else 1)
        if chunk and size + cost > MAX_PAYLOAD_BYTES:
            out.append(encode(chunk))
            chunk, size = [], empty
        chunk.append(complaint_id)
        size += cost
    if chunk:
        out.append(encode(chunk))
    return out


class PayloadInvalid(ValueError):
    """A payload this module did not write; the message says what is wrong with it."""


@dataclass(frozen=True)
class Scored:
    """What one payload says: the UUIDs it names, how many other entries it had, and the
    policy version its batch ranked under (None when it does not say, or says nonsense)."""
    ids: list[str]
    invalid: int
    policy_version: int | None


def read(payload: str) -> Scored:
    """A payload as `payloads` wrote it, or PayloadInvalid."""
    try:
        data = json.loads(payload)
    except ValueError:
        raise PayloadInvalid("not JSON") from None
    ids = data.get("ids") if isinstance(data, dict) else None
    if not isinstance(ids, list):
        raise PayloadInvalid("no ids list")
    valid = [i for i in ids if isinstance(i, str) and _is_uuid(i)]
    policy = data.get("policy")
    return Scored(ids=valid, invalid=len(ids) - len(valid),
                  policy_version=policy if isinstance(policy, int) and not isinstance(policy, bool) else None)


def complaint_ids(payload: str) -> tuple[list[str], int]:
    """(the UUIDs of a payload's `ids`, how many other entries it had), or PayloadInvalid."""
    scored = read(payload)
    return scored.ids, scored.invalid


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
