"""Service levels: when a complaint must have its first reply and its resolution, whether
it is on time, and where it ranks in the staff queue (issue 11, "SLAs and ageing").

Pure, like triage_core.priority: the SLA worker (manage.py sla_worker), the queue and
the tests compute exactly the same thing.

- A complaint's **band** comes from the model's evidence under the escalation policy:
  `urgent` when escalated, `high` from priority `high_at`, else `normal`.
- Its **targets** are the admin's for (band, category), else for the band (any category).
- **Due times** count from submission, in calendar time, or in business hours when the
  policy has them (working days and hours in one time zone, without the public holidays
  of a country, from the `holidays` package).
- Each clock is `ok`, `at_risk` (at least `at_risk_fraction` of the time has passed),
  `breached` (past due, not done), `met` or `missed` (done, on time or late). The
  complaint's state is the worse of its open clocks, else `met`/`missed`.
- **Queue rank**, the one number the queue is sorted by (highest first):

      rank = priority                        model evidence under the policy, 0..100
           + ESCALATED_BONUS  if escalated or an SLA is breached (they come first)
           + AT_RISK_BONUS    if an SLA is at risk
           + min(ageing_cap, ageing_per_hour * whole hours waiting)
           + min(REPEAT_CONTACT_CAP, REPEAT_CONTACT_BONUS * repeat contacts)

  where repeat contacts are the customer's other complaints (same address) in the
  REPEAT_WINDOW_DAYS before this one: a customer who has to write again is waiting too,
  and a complaint nobody answers rises by itself and cannot wait forever: at the latest
  when its target passes it joins the escalated ones, with the reason "SLA breached".
"""
from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

BANDS = ("urgent", "high", "normal")
ESCALATED_BONUS = 1000.0
AT_RISK_BONUS = 20.0
REPEAT_WINDOW_DAYS = 30
REPEAT_CONTACT_BONUS = 5.0
REPEAT_CONTACT_CAP = 15.0

OK, AT_RISK, BREACHED, MET, MISSED = "ok", "at_risk", "breached", "met", "missed"
STATES = (OK, AT_RISK, BREACHED, MET, MISSED)
_OPEN_ORDER = {OK: 0, AT_RISK: 1, BREACHED: 2}


@dataclass(frozen=True)
class SlaTarget:
    band: str
    category: str | None  # None: any category
    first_reply_minutes: int
    resolution_minutes: int


@dataclass(frozen=True)
class BusinessHours:
    start_hour: int = 9
    end_hour: int = 18
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)  # Monday = 0
    country: str | None = None  # public holidays of this country (ISO 3166 code, e.g. "RU")
    timezone: str = "UTC"


DEFAULT_TARGETS = (
    SlaTarget("urgent", None, 60, 24 * 60),
    SlaTarget("high", None, 4 * 60, 3 * 24 * 60),
    SlaTarget("normal", None, 24 * 60, 7 * 24 * 60),
)


@dataclass(frozen=True)
class SlaPolicy:
    version: int
    targets: tuple[SlaTarget, ...] = DEFAULT_TARGETS
    high_at: float = 40.0
    at_risk_fraction: float = 0.8
    ageing_per_hour: float = 1.0
    ageing_cap: float = 30.0
    business_hours: BusinessHours | None = None


DEFAULT_SLA_POLICY = SlaPolicy(version=0)

# The admin-tunable numbers, with their ranges (the form, the service's validation).
SLA_RANGES: Mapping[str, tuple[float, float]] = {
    "high_at": (0.0, 100.0),
    "at_risk_fraction": (0.05, 1.0),
    "ageing_per_hour": (0.0, 100.0),
    "ageing_cap": (0.0, 500.0),
}
TARGET_MINUTES_MAX = 365 * 24 * 60
# Every stored field of an SLA policy besides its version.
SLA_FIELDS = (*SLA_RANGES, "targets", "business_hours")


@dataclass(frozen=True)
class Sla:
    band: str
    first_reply_due: dt.datetime
    resolution_due: dt.datetime
    state: str
    reason: str | None  # "SLA breached: first reply due ..." when breached, else None


def band_of(*, priority: float, escalated: bool, policy: SlaPolicy) -> str:
    if escalated:
        return "urgent"
    return "high" if priority >= policy.high_at else "normal"


def target_for(policy: SlaPolicy, *, band: str, category: str | None) -> SlaTarget:
    """The admin's target for (band, category), else for the band, else the default's."""
    for target in policy.targets:
        if target.band == band and target.category is not None and target.category == category:
            return target
    for target in (*policy.targets, *DEFAULT_TARGETS):
        if target.band == band and target.category is None:
            return target
    raise ValueError(f"unknown band {band!r}")


@functools.lru_cache(maxsize=64)
def _holidays(country: str, year: int) -> frozenset[dt.date]:
    import holidays

    return frozenset(holidays.country_holidays(country, years=year))


def _working_day(day: dt.date, hours: BusinessHours) -> bool:
    return day.weekday() in hours.weekdays and not (hours.country and day in _holidays(hours.country, day.year))


def due_after(start: dt.datetime, minutes: int, hours: BusinessHours | None) -> dt.datetime:
    """`minutes` after `start` (aware), counting only business hours when given."""
    if hours is None:
        return start + dt.timedelta(minutes=minutes)
    zone = ZoneInfo(hours.timezone)
    local = start.astimezone(zone)
    left = dt.timedelta(minutes=minutes)
    day = local.date()
    for _ in range(3 * 366):  # bounded: three years of calendar without a working hour is a mistake
        if _working_day(day, hours):
            opens = dt.datetime.combine(day, dt.time(hours.start_hour), zone)
            closes = dt.datetime.combine(day, dt.time(0), zone) + dt.timedelta(hours=hours.end_hour)
            begin = max(opens, local)
            if begin < closes:
                if begin + left <= closes:
                    return (begin + left).astimezone(start.tzinfo)
                left -= closes - begin
        day += dt.timedelta(days=1)
    raise ValueError("business hours give no working time in three years: check the weekdays and hours")


def clock_state(*, now: dt.datetime, started: dt.datetime, due: dt.datetime, done_at: dt.datetime | None,
                at_risk_fraction: float) -> str:
    if done_at is not None:
        return MET if done_at <= due else MISSED
    if now >= due:
        return BREACHED
    if now - started >= (due - started) * at_risk_fraction:
        return AT_RISK
    return OK


def evaluate_sla(*, created_at: dt.datetime, priority: float, escalated: bool, category: str | None,
                 first_reply_at: dt.datetime | None, resolved_at: dt.datetime | None, now: dt.datetime,
                 policy: SlaPolicy) -> Sla:
    band = band_of(priority=priority, escalated=escalated, policy=policy)
    target = target_for(policy, band=band, category=category)
    first_due = due_after(created_at, target.first_reply_minutes, policy.business_hours)
    resolution_due = due_after(created_at, target.resolution_minutes, policy.business_hours)
    # A resolution answers the customer too: no first-reply clock runs on a resolved complaint.
    replied = first_reply_at or resolved_at
    clocks = {"first reply": (clock_state(now=now, started=created_at, due=first_due, done_at=replied,
                                          at_risk_fraction=policy.at_risk_fraction), first_due),
              "resolution": (clock_state(now=now, started=created_at, due=resolution_due, done_at=resolved_at,
                                         at_risk_fraction=policy.at_risk_fraction), resolution_due)}
    running = [(state, name, due) for name, (state, due) in clocks.items() if state in _OPEN_ORDER]
    if running:
        state, name, due = max(running, key=lambda c: (_OPEN_ORDER[c[0]], -c[2].timestamp()))
    else:
        state = MISSED if MISSED in (s for s, _ in clocks.values()) else MET
        name, due = "", resolution_due
    reason = f"SLA breached: {name} was due {due.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC" if state == BREACHED \
        else None
    return Sla(band=band, first_reply_due=first_due, resolution_due=resolution_due, state=state, reason=reason)


def repeat_bonus(repeat_contacts: int) -> float:
    return min(REPEAT_CONTACT_CAP, REPEAT_CONTACT_BONUS * max(0, repeat_contacts))


def queue_rank(*, priority: float, escalated: bool, state: str | None, waiting_hours: float,
               policy: SlaPolicy, repeat_contacts: int = 0) -> float:
    """The queue's sort key (module docstring); higher first. Waiting counts in whole
    hours, so a complaint's rank moves at most once an hour between changes of its score
    or SLA state (the SLA worker then rewrites few rows per pass)."""
    rank = float(priority) + min(policy.ageing_cap, policy.ageing_per_hour * math.floor(max(0.0, waiting_hours)))
    rank += repeat_bonus(repeat_contacts)
    if escalated or state == BREACHED:
        rank += ESCALATED_BONUS
    elif state == AT_RISK:
        rank += AT_RISK_BONUS
    return round(rank, 3)


def next_change_at(*, created_at: dt.datetime, sla_result: Sla, first_reply_at: dt.datetime | None,
                   now: dt.datetime, policy: SlaPolicy) -> dt.datetime | None:
    """The next instant at which this complaint's state or rank can change by the clock
    alone: a running clock turning at risk or breached, or the next whole hour of
    waiting while ageing is below its cap. None: nothing more happens by itself (a score
    change, a reply or a new policy puts it back in line; the SLA worker evaluates only
    complaints whose instant has come)."""
    candidates = []
    running = [sla_result.resolution_due] if first_reply_at else [sla_result.resolution_due, sla_result.first_reply_due]
    for due in running:
        at_risk = created_at + (due - created_at) * policy.at_risk_fraction
        candidates += [t for t in (at_risk, due) if t > now]
    waited = math.floor(max(0.0, (now - created_at).total_seconds()) / 3600.0)
    if policy.ageing_per_hour > 0 and policy.ageing_per_hour * waited < policy.ageing_cap:
        candidates.append(created_at + dt.timedelta(hours=waited + 1))
    return min(candidates, default=None)


def effective_rank(*, queue_rank: float | None, priority: float, escalated: bool) -> float:
    """Where a complaint stands in the queue: its queue entry's rank, never below its
    score's own rank (the rule the trigger of migration 0015 and the SLA worker's write
    keep in the database); a complaint with no entry (resolved) by its score alone."""
    fresh = float(priority) + (ESCALATED_BONUS if escalated else 0.0)
    return max(queue_rank or 0.0, fresh)


def sla_policy_from_values(*, version: int, values: Mapping[str, Any]) -> SlaPolicy:
    """An SlaPolicy from stored values (a database row, a validated form)."""
    numbers = {name: float(values[name]) for name in SLA_RANGES if values.get(name) is not None}
    targets: Iterable[Mapping[str, Any]] = values.get("targets") or ()
    hours = values.get("business_hours")
    return SlaPolicy(
        version=version,
        targets=tuple(SlaTarget(band=str(t["band"]), category=t.get("category") or None,
                                first_reply_minutes=int(t["first_reply_minutes"]),
                                resolution_minutes=int(t["resolution_minutes"])) for t in targets) or DEFAULT_TARGETS,
        business_hours=business_hours_from(hours) if hours else None,
        **numbers,
    )


def business_hours_from(values: Mapping[str, Any]) -> BusinessHours:
    """BusinessHours from stored or posted values (defaults for what is left out): weekdays
    as a sorted set, the country code upper-case. ValueError/TypeError for values that are
    not numbers; the ranges are the SLA policy's validation's to check."""
    return BusinessHours(start_hour=int(values.get("start_hour", 9)), end_hour=int(values.get("end_hour", 18)),
                         weekdays=tuple(sorted({int(d) for d in values.get("weekdays", (0, 1, 2, 3, 4))})),
                         country=str(values.get("country") or "").upper() or None,
                         timezone=str(values.get("timezone") or "UTC"))
