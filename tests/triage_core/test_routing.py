"""Deterministic A/B routing, pinned to known values and checked across processes.

A replayed micro-batch, a second Spark executor and next year's deployment must all send
a complaint to the same arm. Comparing routing with itself in one process cannot show
that: Python's salted `hash()` would pass such a test. So the buckets below are literal
(sha256 of the id, first 8 bytes big-endian, mod 100), and a second interpreter with a
different hash seed must agree. Mutant tried once: `bucket_of` returning
`hash(complaint_id) % 100` fails 7 of these 8 tests (the weight-0 one holds for any hash).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from triage_core.routing import assign_arm, bucket_of

GOLDEN = {
    "52dcb73c-fe8f-5574-bfce-64e1d47096f3": 0,
    "edcc6acb-7ddc-5061-835b-9764ca1c0c41": 42,
    "97eda4e3-e64c-5c22-ba18-9b481ef3c23f": 79,
    "372d1dce-fd26-5e8b-a97b-3df1f0ff2699": 80,
    "03c7c478-c532-51dc-9f56-f4892d9cc2f1": 99,
}
SPLIT_80_20 = [{"label": "A", "model": "triage", "weight": 80}, {"label": "B", "model": "triage@1.0.0", "weight": 20}]
WITH_EMPTY_ARM = [{"label": "A", "model": "triage", "weight": 0}, {"label": "B", "model": "vader", "weight": 100}]
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("complaint_id, bucket", GOLDEN.items())
def test_buckets_are_the_known_values(complaint_id, bucket):
    assert bucket_of(complaint_id) == bucket


def test_an_80_20_split_turns_at_bucket_80():
    assert [assign_arm(cid, SPLIT_80_20)["label"] for cid in GOLDEN] == ["A", "A", "A", "B", "B"]


def test_an_arm_of_weight_0_gets_nothing():
    assert {assign_arm(cid, WITH_EMPTY_ARM)["label"] for cid in GOLDEN} == {"B"}


def test_another_process_with_another_hash_seed_routes_the_same_way():
    script = ("import json, sys; from triage_core.routing import assign_arm, bucket_of; "
              "ids = json.loads(sys.argv[1]); arms = json.loads(sys.argv[2]); "
              "print(json.dumps([[bucket_of(i), assign_arm(i, arms)['label']] for i in ids]))")
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", script, json.dumps(list(GOLDEN)), json.dumps(SPLIT_80_20)],
                         env=env, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == [[0, "A"], [42, "A"], [79, "A"], [80, "B"], [99, "B"]]
