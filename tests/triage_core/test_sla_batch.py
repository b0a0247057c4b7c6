"""triage_core.sla_batch answers what triage_core.sla answers, row by row, on random
complaints and policies: calendar time and business hours, in zones with daylight saving
and with public holidays, replies and resolutions before and after their due times."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from triage_core import sla, sla_batch
from triage_core.sla import BusinessHours, SlaPolicy, SlaTarget

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC)  # Europe's spring change that night
CATEGORIES = (None, "billing", "delivery", "product")


def micros(instant: dt.datetime | None) -> int:
    return sla_batch.NONE if instant is None else sla_batch.micros(instant)


def instant(value: int) -> dt.datetime | None:
    return None if value == sla_batch.NONE else EPOCH + dt.timedelta(microseconds=int(value))


@st.composite
def policies(draw) -> SlaPolicy:
    targets = []
    for band in draw(st.lists(st.sampled_from(sla.BANDS), unique=True, max_size=3)):
        for category in draw(st.lists(st.sampled_from(CATEGORIES), unique=True, min_size=1, max_size=2)):
            first = draw(st.integers(1, 3 * 24 * 60))
            targets.append(SlaTarget(band, category, first, first + draw(st.integers(0, 20 * 24 * 60))))
    hours = None
    if draw(st.booleans()):
        start = draw(st.integers(0, 22))
        hours = BusinessHours(start_hour=start, end_hour=draw(st.integers(start + 1, 24)),
                              weekdays=tuple(sorted(draw(st.sets(st.integers(0, 6), min_size=1)))),
                              country=draw(st.sampled_from([None, "RU", "GB", "US"])),
                              timezone=draw(st.sampled_from(["UTC", "Europe/Moscow", "Europe/London",
                                                             "America/New_York", "Australia/Lord_Howe"])))
    return SlaPolicy(version=draw(st.integers(1, 9)), targets=tuple(targets) or sla.DEFAULT_TARGETS,
                     high_at=draw(st.floats(0, 100)), at_risk_fraction=draw(st.floats(0.05, 1.0)),
                     ageing_per_hour=draw(st.sampled_from([0.0, 0.5, 1.0, 3.7])),
                     ageing_cap=draw(st.floats(0, 500)), business_hours=hours)


@st.composite
def complaints(draw) -> dict:
    created = NOW - dt.timedelta(microseconds=draw(st.integers(-10**9, 60 * 24 * 3600 * 10**6)))

    def later() -> dt.datetime | None:
        if draw(st.booleans()):
            return None
        return created + dt.timedelta(microseconds=draw(st.integers(0, 40 * 24 * 3600 * 10**6)))

    return {"created_at": created, "priority": draw(st.floats(0, 100)), "escalated": draw(st.booleans()),
            "category": draw(st.sampled_from(CATEGORIES)), "first_reply_at": later(), "resolved_at": later(),
            "repeat_contacts": draw(st.integers(0, 6))}


def per_complaint(row: dict, policy: SlaPolicy) -> tuple:
    result = sla.evaluate_sla(created_at=row["created_at"], priority=row["priority"], escalated=row["escalated"],
                              category=row["category"], first_reply_at=row["first_reply_at"],
                              resolved_at=row["resolved_at"], now=NOW, policy=policy)
    rank = sla.queue_rank(priority=row["priority"], escalated=row["escalated"], state=result.state,
                          waiting_hours=(NOW - row["created_at"]).total_seconds() / 3600.0, policy=policy,
                          repeat_contacts=row["repeat_contacts"])
    after = sla.next_change_at(created_at=row["created_at"], sla_result=result,
                               first_reply_at=row["first_reply_at"], now=NOW, policy=policy)
    return result.first_reply_due, result.resolution_due, result.state, result.reason or "", rank, after


def batch(rows: list[dict], policy: SlaPolicy) -> list[tuple]:
    answer = sla_batch.evaluate(sla_batch.Complaints(
        created=np.array([micros(r["created_at"]) for r in rows], dtype=np.int64),
        first_reply=np.array([micros(r["first_reply_at"]) for r in rows], dtype=np.int64),
        resolved=np.array([micros(r["resolved_at"]) for r in rows], dtype=np.int64),
        priority=np.array([r["priority"] for r in rows], dtype=np.float64),
        escalated=np.array([r["escalated"] for r in rows], dtype=bool),
        category=[r["category"] for r in rows],
        repeat_contacts=np.array([r["repeat_contacts"] for r in rows], dtype=np.int64)), now=micros(NOW), policy=policy)
    return [(instant(answer.first_reply_due[n]), instant(answer.resolution_due[n]),
             sla.STATES[answer.state[n]], answer.reason[n], float(answer.queue_rank[n]),
             instant(answer.next_change[n])) for n in range(len(rows))]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policy=policies(), rows=st.lists(complaints(), min_size=1, max_size=25))
def test_the_batch_answers_what_the_per_complaint_rules_answer(policy, rows):
    """Mutants tried: the at-risk time scaled in floating point instead of as timedelta
    does; the business-hours close of a day excluded (searchsorted side="right"); the
    tie of two equally bad clocks given to the resolution. Each failed here."""
    try:
        expected = [per_complaint(row, policy) for row in rows]
    except ValueError:  # no working time within three years: the batch refuses too
        with pytest.raises(ValueError, match="no working time"):
            batch(rows, policy)
        return
    assert batch(rows, policy) == expected


def test_business_hours_across_the_spring_change_and_a_holiday_match():
    hours = BusinessHours(start_hour=0, end_hour=24, weekdays=(0, 1, 2, 3, 4, 5, 6), country="GB",
                          timezone="Europe/London")
    starts = [dt.datetime(2026, 3, 28, 23, 30, tzinfo=dt.UTC), dt.datetime(2026, 3, 29, 0, 59, tzinfo=dt.UTC),
              dt.datetime(2026, 12, 24, 17, 0, tzinfo=dt.UTC)]
    minutes = [90, 60, 24 * 60]
    got = sla_batch.due_after(np.array([micros(s) for s in starts]), np.array(minutes), hours)
    assert [instant(g) for g in got] == [sla.due_after(s, m, hours) for s, m in zip(starts, minutes, strict=True)]
    assert instant(got[2]) > dt.datetime(2026, 12, 26, tzinfo=dt.UTC)  # Christmas and Boxing Day do not count


def test_an_empty_batch_is_empty():
    empty = np.array([], dtype=np.int64)
    answer = sla_batch.evaluate(sla_batch.Complaints(created=empty, first_reply=empty, resolved=empty,
                                                     priority=np.array([], dtype=np.float64),
                                                     escalated=np.array([], dtype=bool), category=[],
                                                     repeat_contacts=empty), now=0, policy=SlaPolicy(version=1))
    assert len(answer.queue_rank) == len(answer.reason) == 0


def test_the_at_risk_time_is_rounded_as_timedelta_rounds():
    """5 µs x 0.7 is 3.4999... exactly (0.7 is a little under 0.7 in binary) and 3.5 in
    floating point. Mutant tried: np.rint(d * f) -> 4 µs; the test failed."""
    durations = np.array([5, 35, 3 * 10**12 + 1, 0], dtype=np.int64)
    expected = [(dt.timedelta(microseconds=int(d)) * 0.7) // dt.timedelta(microseconds=1) for d in durations]
    assert sla_batch._scaled(durations, 0.7).tolist() == expected
    assert expected[0] == 3
