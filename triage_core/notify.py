"""The "scored" notification between the stream and the live dashboards: the stream's
batch transaction sends `NOTIFY complaint_scored, '{"ids": [...], "escalated": [...]}'`,
Postgres delivers it once the scores are committed, and the app's score listener reads
the ids and pushes those complaints to staff. One module writes and reads the payload.
"""
from __future__ import annotations

import json
import uuid
from collections.abc import Sequence

CHANNEL = "complaint_scored"
# Postgres refuses NOTIFY payloads of 8000 bytes or more.
MAX_PAYLOAD_BYTES = 7900


def payloads(ids: Sequence[str], escalated: set[str]) -> list[str]:
    """`{"ids": [...], "escalated": [...]}` chunks, each under Postgres' NOTIFY limit."""
    def encode(part: list[str]) -> str:
        return json.dumps({"ids": part, "escalated": [i for i in part if i in escalated]}, separators=(",", ":"))

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


def complaint_ids(payload: str) -> tuple[list[str], int]:
    """(the UUIDs of a payload's `ids`, how many other entries it had), or PayloadInvalid."""
    try:
        data = json.loads(payload)
    except ValueError:
        raise PayloadInvalid("not JSON") from None
    ids = data.get("ids") if isinstance(data, dict) else None
    if not isinstance(ids, list):
        raise PayloadInvalid("no ids list")
    valid = [i for i in ids if isinstance(i, str) and _is_uuid(i)]
    return valid, len(ids) - len(valid)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
