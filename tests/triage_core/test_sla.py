"""Service levels (triage_core.sla): bands, targets, due times in calendar and business
hours, clock states, and the queue rank that keeps a complaint from waiting forever."""
from __future__ import annotations

import datetime as dt

import pytest

from triage_core import sla
from triage_core.sla import BusinessHours, SlaPolicy, SlaTarget

UTC = dt.UTC
MON_9 = dt.datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # a Monday
POLICY = SlaPolicy(version=1)


def test_bands_follow_escalation_then_priority():
    assert sla.band_of(priority=10, escalated=True, policy=POLICY) == "urgent"
    assert sla.band_of(priority=40, escalated=False, policy=POLICY) == "high"
    assert sla.band_of(priority=39.9, escalated=False, policy=POLICY) == "normal"


def test_a_category_target_wins_over_the_bands_and_unknown_bands_are_refused():
    policy = SlaPolicy(version=2, targets=(SlaTarget("high", None, 240, 4320), SlaTarget("high", "billing", 30, 600)))
    assert sla.target_for(policy, band="high", category="billing").first_reply_minutes == 30
    assert sla.target_for(policy, band="high", category="delivery").first_reply_minutes == 240
    # A band the admin left out keeps the default's target.
    assert sla.target_for(policy, band="urgent", category=None) == sla.DEFAULT_TARGETS[0]
    with pytest.raises(ValueError, match="unknown band"):
        sla.target_for(policy, band="whenever", category=None)


def test_calendar_due_times_are_plain_additions():
    assert sla.due_after(MON_9, 90, None) == MON_9 + dt.timedelta(minutes=90)


def test_business_hours_skip_evenings_weekends_and_holidays():
    hours = BusinessHours(start_hour=9, end_hour=17)
    friday_16 = dt.datetime(2026, 12, 4, 16, 0, tzinfo=UTC)
    # One hour left on Friday, three more from Monday 9:00.
    assert sla.due_after(friday_16, 4 * 60, hours) == dt.datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    # Submitted on Saturday night: the clock starts on Monday morning.
    saturday = dt.datetime(2026, 12, 5, 23, 0, tzinfo=UTC)
    assert sla.due_after(saturday, 60, hours) == dt.datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    # New Year holidays in Russia: 1 to 8 January 2027 are not working days.
    russian = BusinessHours(start_hour=9, end_hour=18, country="RU", timezone="Europe/Moscow")
    dec_31_17_msk = dt.datetime(2026, 12, 31, 14, 0, tzinfo=UTC)
    due = sla.due_after(dec_31_17_msk, 2 * 60, russian)
    assert due.astimezone(dt.timezone(dt.timedelta(hours=3))).date() >= dt.date(2027, 1, 9)


def test_business_hours_without_any_working_time_are_refused():
    with pytest.raises(ValueError, match="no working time"):
        sla.due_after(MON_9, 60, BusinessHours(weekdays=()))


@pytest.mark.parametrize(("minutes_in", "done_after", "state"), [
    (10, None, sla.OK), (50, None, sla.AT_RISK), (61, None, sla.BREACHED), (61, 30, sla.MET), (90, 70, sla.MISSED),
])
def test_a_clock_is_ok_at_risk_breached_met_or_missed(minutes_in, done_after, state):
    due = MON_9 + dt.timedelta(minutes=60)
    done = None if done_after is None else MON_9 + dt.timedelta(minutes=done_after)
    assert sla.clock_state(now=MON_9 + dt.timedelta(minutes=minutes_in), started=MON_9, due=due, done_at=done,
                           at_risk_fraction=0.8) == state


def test_an_unanswered_urgent_complaint_breaches_its_first_reply_and_says_so():
    result = sla.evaluate_sla(created_at=MON_9, priority=80, escalated=True, category="billing", first_reply_at=None,
                              resolved_at=None, now=MON_9 + dt.timedelta(hours=2), policy=POLICY)
    assert (result.band, result.state) == ("urgent", sla.BREACHED)
    assert result.reason == "SLA breached: first reply was due 2026-11-30 10:00 UTC"


def test_a_reply_stops_the_first_clock_and_the_resolution_clock_runs_on():
    result = sla.evaluate_sla(created_at=MON_9, priority=10, escalated=False, category=None,
                              first_reply_at=MON_9 + dt.timedelta(hours=1), resolved_at=None,
                              now=MON_9 + dt.timedelta(days=6), policy=POLICY)
    assert (result.band, result.state, result.reason) == ("normal", sla.AT_RISK, None)
    done = sla.evaluate_sla(created_at=MON_9, priority=10, escalated=False, category=None, first_reply_at=None,
                            resolved_at=MON_9 + dt.timedelta(days=8), now=MON_9 + dt.timedelta(days=9), policy=POLICY)
    assert done.state == sla.MISSED


def test_ageing_lifts_a_low_complaint_above_a_fresher_higher_one_and_a_breach_joins_the_escalated():
    """Mutant tried: ageing_cap ignored -> the 100-hour-old complaint ranked 110; the
    test failed. A complaint scored 5 that waited 30 hours passes a fresh 30."""
    old_low = sla.queue_rank(priority=5, escalated=False, state=sla.OK, waiting_hours=30, policy=POLICY)
    fresh = sla.queue_rank(priority=30, escalated=False, state=sla.OK, waiting_hours=0, policy=POLICY)
    assert old_low > fresh
    assert sla.queue_rank(priority=10, escalated=False, state=sla.OK, waiting_hours=100, policy=POLICY) == 40
    breached = sla.queue_rank(priority=0, escalated=False, state=sla.BREACHED, waiting_hours=0, policy=POLICY)
    top_unescalated = sla.queue_rank(priority=100, escalated=False, state=sla.AT_RISK, waiting_hours=99,
                                     policy=POLICY)
    assert breached > top_unescalated
    assert breached == sla.queue_rank(priority=0, escalated=True, state=sla.OK, waiting_hours=0, policy=POLICY)


def test_a_stored_policy_reads_back_with_its_targets_and_hours():
    policy = sla.sla_policy_from_values(version=3, values={
        "high_at": 50, "at_risk_fraction": 0.5, "ageing_per_hour": 2, "ageing_cap": 10,
        "targets": [{"band": "normal", "category": "", "first_reply_minutes": 600, "resolution_minutes": 6000}],
        "business_hours": {"start_hour": 8, "end_hour": 16, "weekdays": [0, 1, 2], "country": "GB"}})
    assert (policy.version, policy.high_at, policy.ageing_cap) == (3, 50.0, 10.0)
    assert policy.targets == (SlaTarget("normal", None, 600, 6000),)
    assert policy.business_hours == BusinessHours(8, 16, (0, 1, 2), "GB", "UTC")
    assert sla.sla_policy_from_values(version=1, values={}).targets == sla.DEFAULT_TARGETS


def test_the_next_change_is_the_nearest_at_risk_due_or_whole_hour():
    created = MON_9
    result = sla.evaluate_sla(created_at=created, priority=10, escalated=False, category=None, first_reply_at=None,
                              resolved_at=None, now=MON_9 + dt.timedelta(minutes=90), policy=POLICY)
    # Waiting 1.5 h: the next whole hour (2 h) comes before any clock turns at risk (19.2 h).
    assert sla.next_change_at(created_at=created, sla_result=result, first_reply_at=None,
                              now=MON_9 + dt.timedelta(minutes=90), policy=POLICY) == MON_9 + dt.timedelta(hours=2)
    # Ageing capped (30 h waited): next is the resolution clock turning at risk, 80 % of 7 days.
    late = MON_9 + dt.timedelta(hours=40)
    result = sla.evaluate_sla(created_at=created, priority=10, escalated=False, category=None, first_reply_at=late,
                              resolved_at=None, now=late, policy=POLICY)
    assert sla.next_change_at(created_at=created, sla_result=result, first_reply_at=late, now=late,
                              policy=POLICY) == created + dt.timedelta(days=7) * 0.8
    # Everything past and ageing capped: nothing happens by itself any more.
    gone = MON_9 + dt.timedelta(days=30)
    result = sla.evaluate_sla(created_at=created, priority=10, escalated=False, category=None, first_reply_at=None,
                              resolved_at=None, now=gone, policy=POLICY)
    assert sla.next_change_at(created_at=created, sla_result=result, first_reply_at=None, now=gone,
                              policy=POLICY) is None


def test_repeat_contact_adds_to_the_rank_up_to_its_cap():
    base = sla.queue_rank(priority=20, escalated=False, state=sla.OK, waiting_hours=0, policy=POLICY)
    assert sla.queue_rank(priority=20, escalated=False, state=sla.OK, waiting_hours=0, policy=POLICY,
                          repeat_contacts=1) == base + sla.REPEAT_CONTACT_BONUS
    assert sla.queue_rank(priority=20, escalated=False, state=sla.OK, waiting_hours=0, policy=POLICY,
                          repeat_contacts=50) == base + sla.REPEAT_CONTACT_CAP
    assert sla.repeat_bonus(-3) == 0
