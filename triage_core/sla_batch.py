"""triage_core.sla's rules over arrays: due times, SLA state, queue rank and next change
of a whole pass's open complaints at once (the SLA worker's pass; at 800k open
complaints the per-complaint functions took ~15 s of Python, this ~1 s).

The answers are those of the per-complaint functions, to the microsecond and to the
last bit of the rank (tests/triage_core/test_sla_batch.py compares them on random
complaints and policies, business hours and time zones with daylight saving included):

- instants are integers, microseconds since the Unix epoch (UTC);
- business hours count in the zone's wall-clock time, as `sla.due_after` does (Python's
  arithmetic on datetimes of one zone is wall-clock arithmetic), from a table of the
  working intervals of every day the batch can reach;
- a duration scaled by the at-risk fraction is rounded as `timedelta * float` rounds
  (exactly, half to even), and the rank as `round(rank, 3)`, on each distinct value.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np

from triage_core import sla

US = 1_000_000
MINUTE_US = 60 * US
HOUR_US = 3600 * US
DAY_US = 24 * HOUR_US
NONE = np.iinfo(np.int64).min  # no instant (never replied, not resolved, no next change)
STATE_NAMES = np.array(sla.STATES, dtype=object)
OK, AT_RISK, BREACHED, MET, MISSED = range(len(sla.STATES))  # sla.STATES by index
_OPEN_RANK = np.array([sla._OPEN_ORDER.get(s, -1) for s in sla.STATES])  # -1: not running
# Offsets from UTC are looked up once per quarter hour: every zone's transitions fall on one.
_QUARTER_US = 15 * MINUTE_US
_EPOCH = dt.datetime(1970, 1, 1)


def micros(instant: dt.datetime) -> int:
    """An aware datetime as this module's instants: microseconds since the epoch."""
    return (instant - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)


@dataclass(frozen=True)
class Complaints:
    """One array per field, all of one length; instants as in the module docstring."""

    created: np.ndarray  # int64
    first_reply: np.ndarray  # int64, NONE when not replied
    resolved: np.ndarray  # int64, NONE when not resolved
    priority: np.ndarray  # float64
    escalated: np.ndarray  # bool
    category: Sequence[str | None]
    repeat_contacts: np.ndarray  # int64


@dataclass(frozen=True)
class Evaluation:
    first_reply_due: np.ndarray  # int64
    resolution_due: np.ndarray  # int64
    state: np.ndarray  # int: index into sla.STATES
    reason: np.ndarray  # object: "SLA breached: ..." or ""
    queue_rank: np.ndarray  # float64
    next_change: np.ndarray  # int64, NONE when the clock alone changes nothing more


def evaluate(rows: Complaints, *, now: int, policy: sla.SlaPolicy) -> Evaluation:
    """sla.evaluate_sla, sla.queue_rank and sla.next_change_at of every row."""
    band = np.where(rows.escalated, 0, np.where(rows.priority >= policy.high_at, 1, 2))
    first_minutes, resolution_minutes = _target_minutes(policy, band, rows.category)
    first_due = due_after(rows.created, first_minutes, policy.business_hours)
    resolution_due = due_after(rows.created, resolution_minutes, policy.business_hours)
    # A resolution answers the customer too (sla.evaluate_sla).
    replied = np.where(rows.first_reply != NONE, rows.first_reply, rows.resolved)
    f = policy.at_risk_fraction
    first_at_risk = rows.created + _scaled(first_due - rows.created, f)
    resolution_at_risk = rows.created + _scaled(resolution_due - rows.created, f)
    first_state = _clock(now, rows.created, first_due, first_at_risk, replied)
    resolution_state = _clock(now, rows.created, resolution_due, resolution_at_risk, rows.resolved)

    # The worse running clock; of two as bad, the one due first (the first reply on a tie,
    # as max() keeps the first of equals). Neither running: missed if either was.
    first_open, resolution_open = _OPEN_RANK[first_state], _OPEN_RANK[resolution_state]
    pick_resolution = (resolution_open >= 0) & (
        (resolution_open > first_open)
        | ((resolution_open == first_open) & (resolution_due / US < first_due / US)))
    running = (first_open >= 0) | (resolution_open >= 0)
    state = np.where(running, np.where(pick_resolution, resolution_state, first_state),
                     np.where((first_state == MISSED) | (resolution_state == MISSED), MISSED, MET))
    reason = _reasons(state == BREACHED, pick_resolution, first_due, resolution_due)

    waited = np.floor(np.maximum(0.0, ((now - rows.created) / US) / 3600.0))
    rank = rows.priority + np.minimum(policy.ageing_cap, policy.ageing_per_hour * waited)
    rank = rank + np.minimum(sla.REPEAT_CONTACT_CAP, sla.REPEAT_CONTACT_BONUS * np.maximum(0, rows.repeat_contacts))
    rank = rank + np.where(rows.escalated | (state == BREACHED), sla.ESCALATED_BONUS,
                           np.where(state == AT_RISK, sla.AT_RISK_BONUS, 0.0))

    # The next instant the clock alone changes something (sla.next_change_at): the first
    # reply's clock counts while not replied (the first reply itself, not a resolution).
    first_running = rows.first_reply == NONE
    candidates = [np.where(resolution_at_risk > now, resolution_at_risk, NONE),
                  np.where(resolution_due > now, resolution_due, NONE),
                  np.where(first_running & (first_at_risk > now), first_at_risk, NONE),
                  np.where(first_running & (first_due > now), first_due, NONE)]
    if policy.ageing_per_hour > 0:
        ageing = policy.ageing_per_hour * waited < policy.ageing_cap
        candidates.append(np.where(ageing, rows.created + (waited.astype(np.int64) + 1) * HOUR_US, NONE))
    stacked = np.stack(candidates)
    next_change = np.where(stacked == NONE, np.iinfo(np.int64).max, stacked).min(axis=0)
    next_change = np.where(next_change == np.iinfo(np.int64).max, NONE, next_change)
    return Evaluation(first_reply_due=first_due, resolution_due=resolution_due, state=state, reason=reason,
                      queue_rank=_per_value(rank, lambda r: round(r, 3)), next_change=next_change)


def _target_minutes(policy: sla.SlaPolicy, band: np.ndarray,
                    category: Sequence[str | None]) -> tuple[np.ndarray, np.ndarray]:
    """sla.target_for of each row, looked up once per (band, category) present."""
    categories, codes = np.unique(np.array([c or "" for c in category], dtype=object), return_inverse=True)
    first = np.empty((len(sla.BANDS), len(categories)), dtype=np.int64)
    resolution = np.empty_like(first)
    for b, band_name in enumerate(sla.BANDS):
        for c, name in enumerate(categories):
            target = sla.target_for(policy, band=band_name, category=name or None)
            first[b, c], resolution[b, c] = target.first_reply_minutes, target.resolution_minutes
    return first[band, codes.reshape(-1)], resolution[band, codes.reshape(-1)]


def _clock(now: int, started: np.ndarray, due: np.ndarray, at_risk: np.ndarray, done: np.ndarray) -> np.ndarray:
    """sla.clock_state of each row; `at_risk` is started + the scaled time to due."""
    finished = done != NONE
    return np.where(finished, np.where(done <= due, MET, MISSED),
                    np.where(now >= due, BREACHED,
                             np.where(now - started >= at_risk - started, AT_RISK, OK)))


def _scaled(durations: np.ndarray, fraction: float) -> np.ndarray:
    """`timedelta(microseconds=d) * fraction` in microseconds, for each d."""
    one = dt.timedelta(microseconds=1)
    return _per_value(durations, lambda d: (dt.timedelta(microseconds=int(d)) * fraction) // one).astype(np.int64)


def _per_value(values: np.ndarray, function) -> np.ndarray:
    """function() of each distinct value, spread back over the rows."""
    distinct, where = np.unique(values, return_inverse=True)
    return np.array([function(v) for v in distinct.tolist()], dtype=values.dtype)[where.reshape(-1)] \
        if len(values) else values.copy()


def _reasons(breached: np.ndarray, resolution: np.ndarray, first_due: np.ndarray,
             resolution_due: np.ndarray) -> np.ndarray:
    reason = np.full(len(breached), "", dtype=object)
    if breached.any():
        due = np.where(resolution, resolution_due, first_due)[breached]
        minutes = np.datetime_as_string(due.astype("datetime64[us]"), unit="m")
        names = np.where(resolution[breached], "resolution", "first reply")
        reason[breached] = [f"SLA breached: {name} was due {when[:10]} {when[11:]} UTC"
                            for name, when in zip(names.tolist(), minutes.tolist(), strict=True)]
    return reason


# --------------------------------------------------------------------------- business hours

def due_after(start: np.ndarray, minutes: np.ndarray, hours: sla.BusinessHours | None) -> np.ndarray:
    """sla.due_after of each (start, minutes)."""
    if hours is None:
        return start + minutes * MINUTE_US
    if not len(start):
        return start.copy()
    zone = ZoneInfo(hours.timezone)
    local = start + _offsets(start, zone, wall=False)
    first_day = int(local.min() // DAY_US)
    opens, closes, days = _working_intervals(first_day, int(local.max() // DAY_US) + 3 * 366, hours)
    lengths = closes - opens
    ends = np.cumsum(lengths)  # working time up to each interval's close
    before = ends - lengths
    # Working time from the table's start up to each local start, plus the target.
    j = np.searchsorted(opens, local, side="right") - 1
    worked = np.where(j >= 0, before[np.maximum(j, 0)] + np.minimum(local - opens[np.maximum(j, 0)],
                                                                    lengths[np.maximum(j, 0)]), 0)
    target = worked + minutes * MINUTE_US
    k = np.searchsorted(ends, target, side="left")
    # sla.due_after looks 3 x 366 days ahead of the start's day, no further.
    if len(ends) == 0 or (k >= len(ends)).any() or \
            (days[np.minimum(k, len(ends) - 1)] >= local // DAY_US + 3 * 366).any():
        raise ValueError("business hours give no working time in three years: check the weekdays and hours")
    due_local = closes[k] - (ends[k] - target)
    return due_local - _offsets(due_local, zone, wall=True)


def _working_intervals(first_day: int, last_day: int,
                       hours: sla.BusinessHours) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each working day's opening and closing, in wall-clock microseconds, and its day."""
    days = [d for d in range(first_day, last_day + 1)
            if sla._working_day(dt.date(1970, 1, 1) + dt.timedelta(days=d), hours)]
    day = np.array(days, dtype=np.int64)
    return day * DAY_US + hours.start_hour * HOUR_US, day * DAY_US + hours.end_hour * HOUR_US, day


def _offsets(instants: np.ndarray, zone: ZoneInfo, *, wall: bool) -> np.ndarray:
    """The zone's offset from UTC, in microseconds, at each UTC instant, or (wall) at each
    wall-clock time, read as Python reads a datetime of that zone with fold 0."""
    quarters, where = np.unique(instants // _QUARTER_US, return_inverse=True)
    offsets = []
    for quarter in quarters.tolist():
        moment = _EPOCH + dt.timedelta(microseconds=quarter * _QUARTER_US)
        offset = moment.replace(tzinfo=zone).utcoffset() if wall else \
            moment.replace(tzinfo=dt.UTC).astimezone(zone).utcoffset()
        offsets.append((offset or dt.timedelta(0)) // dt.timedelta(microseconds=1))
    return np.array(offsets, dtype=np.int64)[where.reshape(-1)]
