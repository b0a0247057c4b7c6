"""The executors' side of the sink: priority under the policy, and COPY text that Postgres
reads back exactly (escapes, NULLs, bytea, doubles bit for bit, UTC stamps)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from streaming import rows
from streaming.scoring import SCORE_FIELDS
from triage_core import priority
from triage_core.priority import Policy

AWKWARD = "tab\there, new\nline, cr\rhere, back\\slash \\N, quote ' \" — ünïcode 🙂"


def copy_back(pg, columns, lines):
    ddl = ", ".join(f'"{c}" {t}' for c, t in columns)
    pg.execute(f"CREATE TEMP TABLE copy_check ({ddl})")
    with pg.cursor().copy("COPY copy_check FROM STDIN") as copy:
        copy.write(b"".join(lines))
    return pg.execute("SELECT * FROM copy_check").fetchall()


def test_copy_lines_read_back_exactly(pg):
    columns = [("t", "text"), ("f", "float8"), ("i", "bigint"), ("b", "bool"), ("raw", "bytea"),
               ("at", "timestamptz"), ("j", "jsonb")]
    stamp = datetime(2026, 1, 2, 3, 4, 5, 678901)
    values = {"t": [AWKWARD, None, ""], "f": [0.1 + 0.2, float("nan"), -1e-300], "i": [2**40, None, 0],
              "b": [True, False, None], "raw": [b"\x00\t\\\n\xff", None, b""],
              "at": pd.Series([stamp, pd.NaT, stamp + timedelta(hours=1)]),
              "j": ['{"fraud": ["tab\\there"]}', "{}", None]}
    back = copy_back(pg, columns, rows.copy_lines(columns, values))
    assert back[0][:5] == (AWKWARD, 0.1 + 0.2, 2**40, True, b"\x00\t\\\n\xff")
    assert back[0][5] == stamp.replace(tzinfo=UTC) and back[0][6] == {"fraud": ["tab\there"]}
    assert back[1] == (None, None, None, False, None, None, {})
    assert back[2][:5] == ("", -1e-300, 0, None, b"")


def test_aware_stamps_are_written_in_utc(pg):
    aware = pd.Series([pd.Timestamp("2026-01-02T05:04:05+02:00")])
    (row,) = copy_back(pg, [("at", "timestamptz")], rows.copy_lines([("at", "timestamptz")], {"at": aware}))
    assert row[0] == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def record(**overrides) -> dict:
    row = {"complaint_id": "11111111-1111-4111-8111-111111111111", "text": AWKWARD, "source": "web",
           "kafka_topic": "complaints", "kafka_partition": 1, "kafka_offset": 42,
           "enqueued_at": pd.Timestamp("2026-01-02T03:04:05"), "raw_key": None, "raw_value": None,
           "reason": None, "detail": None, "arm": "A", "model": "triage", "model_name": "triage",
           "model_version": "t-1", "compound": -0.3, "neg": 0.4, "neu": 0.6, "pos": 0.0, "label": "negative",
           "category": "billing", "signals": '{"legal_threat": ["lawyer"]}', "explanation": "legal threat",
           "language": "en", "complaint": 0.8, "error": None, "scoring_ms": 2.5}
    row.update({"shadow_" + f.name: None for f in SCORE_FIELDS})
    row.update(overrides)
    return row


def fields(line: bytes, columns) -> dict:
    return dict(zip([c for c, _ in columns], line.decode().rstrip("\n").split("\t")))


def test_priority_and_escalation_follow_triage_core_under_the_batch_policy():
    policy = Policy(version=3, escalate_at=40)
    (line,) = rows.outcome_frame(pd.DataFrame([record()]), policy)["score_line"]
    expected = priority.evaluate(compound=-0.3, signals={"legal_threat": ["lawyer"]}, category="billing",
                                 policy=policy, complaint=0.8, label="negative", language="en")
    got = fields(line, rows.SCORE_COLUMNS)
    assert (float(got["priority"]), got["escalated"]) == (expected.priority, "t")
    # (0.35*0.3 + 0.25*1.0 + 0.1*0.6 + 0.3*0.8) / 1.0, the model's complaint probability counted
    assert expected.priority == 65.5
    assert (got["language"], got["complaint_probability"]) == ("en", "0.8")
    assert got["explanation"] == "legal threat"  # reasons are derived when read, never stored stale
    assert len(got["tracking_code"]) == 32 and got["enqueued_at"] == "2026-01-02T03:04:05.000000+00:00"


def test_each_record_has_exactly_one_outcome_and_rejected_texts_are_dead_letters():
    frame = pd.DataFrame([
        record(),
        record(complaint_id="22222222-2222-4222-8222-222222222222", kafka_offset=43, compound=np.nan,
              error="text must not be empty", shadow_model_name="vader", shadow_compound=0.1),
        record(complaint_id=None, text=None, kafka_offset=44, model=None, model_name=None, compound=np.nan,
              raw_key=b"k", raw_value=b"\xff", reason="invalid_utf8", detail="bad\tbyte", scoring_ms=np.nan),
        record(complaint_id="33333333-3333-4333-8333-333333333333", kafka_offset=45, shadow_model_name="vader",
              shadow_model_version="v-1", shadow_compound=0.2, shadow_label="positive", shadow_signals="{}"),
    ])
    out = rows.outcome_frame(frame, Policy(version=1))
    assert out["score_line"].notna().tolist() == [True, False, False, True]
    assert out["dead_line"].notna().tolist() == [False, True, True, False]
    assert out["shadow_line"].notna().tolist() == [False, False, False, True]  # a rejected text gets no shadow
    rejected = fields(out.loc[1, "dead_line"], rows.DEAD_COLUMNS)
    assert (rejected["offset"], rejected["reason"], rejected["detail"]) == (
        "43", "scoring_rejected", "model triage: text must not be empty")
    parse_failure = fields(out.loc[2, "dead_line"], rows.DEAD_COLUMNS)
    assert (parse_failure["raw_value"], parse_failure["detail"]) == ("\\\\xff", "bad\\tbyte")
    assert out["scoring_ms"].tolist()[:2] == [2.5, 2.5] and np.isnan(out["scoring_ms"][2])
