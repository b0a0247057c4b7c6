"""Deterministic assignment of a complaint to an experiment arm.

The bucket is a hash of the complaint id, never a random draw, so a replayed
micro-batch assigns every complaint the version it had the first time.
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

BUCKETS = 100
# The split before an admin saves an experiment: the default model serves everything,
# vader (the classic model) is scored beside it in shadow.
DEFAULT_ARMS: tuple[Mapping, ...] = ({"label": "A", "model": "triage", "weight": 100},)
DEFAULT_SHADOW_MODEL = "vader"


def bucket_of(complaint_id: str) -> int:
    digest = hashlib.sha256(complaint_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def validate_arms(arms: Sequence[Mapping]) -> list[str]:
    """Problems with an arms list, as sentences an admin can act on; empty when valid."""
    problems = []
    if not arms:
        problems.append("an experiment needs at least one arm")
    # Compared as they will be stored, trimmed: "A" and "A " are one label.
    labels = [label.strip() if isinstance(label := a.get("label"), str) else None for a in arms]
    if None in labels:
        problems.append("arm labels must be text")
    elif len(set(labels)) != len(labels):
        problems.append("arm labels must be unique")
    for arm in arms:
        weight = arm.get("weight")
        if not isinstance(weight, int) or isinstance(weight, bool) or not 0 <= weight <= 100:
            problems.append(f"arm {arm.get('label')!r}: weight must be a whole number 0..100")
        if not arm.get("model") or not isinstance(arm.get("model"), str):
            problems.append(f"arm {arm.get('label')!r}: model is required (a model name)")
    if not problems and sum(a["weight"] for a in arms) != BUCKETS:
        problems.append("arm weights must add up to 100")
    return problems


def assign_arm(complaint_id: str, arms: Sequence[Mapping]) -> Mapping:
    """The arm whose cumulative weight range holds the complaint's bucket."""
    bucket = bucket_of(complaint_id)
    upper = 0
    for arm in arms:
        upper += arm["weight"]
        if bucket < upper:
            return arm
    raise ValueError("arm weights must add up to 100")
