"""triage_core.priority with literal expected numbers, at and around each threshold.

Every expected value is worked out by hand from the formula in the module docstring
(a weighted mean of negativity, severity, category urgency and complaint probability),
never by calling `evaluate` itself. Mutants tried once, by hand: both thresholds made
strict (`>` / `<`): 2 tests fail; the "very negative sentiment escalates" rule dropped:
4 tests fail.
"""
from __future__ import annotations

import pytest

from triage_core.priority import (
    LANGUAGE_UNSUPPORTED,
    POLICY_FIELDS,
    Policy,
    escalation_reasons,
    evaluate,
    needs_person,
    policy_from_values,
)

DEFAULT = Policy(version=1)


def test_the_default_weights_combine_all_four_kinds_of_evidence():
    # (0.35 * 0.5 + 0.25 * 0.5 (repeated_contact) + 0.1 * 0.6 (billing) + 0.3 * 0.9) / 1.0
    result = evaluate(compound=-0.5, signals={"repeated_contact": ["twice"]}, category="billing",
                      policy=DEFAULT, complaint=0.9)
    assert result.priority == 63.0
    assert result.escalated and result.reasons == ["priority 63 >= 60"]


def test_a_model_without_complaint_probability_is_ranked_on_the_other_three_weights():
    # vader: 0.35 * 0.8 / (0.35 + 0.25 + 0.1)
    assert evaluate(compound=-0.8, signals={}, category=None, policy=DEFAULT).priority == 40.0


def test_positive_tone_adds_nothing():
    # 0.1 * 0.2 (other) + 0.3 * 0.04
    result = evaluate(compound=0.9, signals={}, category="other", policy=DEFAULT, complaint=0.04)
    assert result.priority == 3.2 and not result.escalated and result.reasons == []


@pytest.mark.parametrize("escalate_at, escalated", [(62.99, True), (63.0, True), (63.01, False)])
def test_the_priority_threshold_is_inclusive(escalate_at, escalated):
    policy = Policy(version=2, escalate_at=escalate_at)
    result = evaluate(compound=-0.5, signals={"repeated_contact": ["twice"]}, category="billing",
                      policy=policy, complaint=0.9)
    assert result.priority == 63.0
    assert result.escalated is escalated


@pytest.mark.parametrize("compound, escalated", [(-0.74, False), (-0.75, True), (-0.76, True)])
def test_very_negative_sentiment_escalates_at_and_below_the_threshold(compound, escalated):
    # priority stays low (under 60) so only the sentiment rule can escalate
    result = evaluate(compound=compound, signals={}, category="other", policy=DEFAULT, complaint=0.5)
    assert result.priority < 60
    assert result.escalated is escalated
    if escalated:
        assert result.reasons == [f"sentiment {compound:+.2f} <= -0.75"]


@pytest.mark.parametrize("complaint, escalated", [(0.29, False), (0.3, True), (0.31, True)])
def test_sentiment_and_signal_rules_apply_only_from_the_minimum_complaint_probability(complaint, escalated):
    out_of_reach = Policy(version=2, escalate_at=100.0)  # only the two rules can escalate
    result = evaluate(compound=-0.9, signals={"legal_threat": ["lawyer"]}, category="other", policy=out_of_reach,
                      complaint=complaint)
    assert result.escalated is escalated
    if escalated:
        assert result.reasons == ["sentiment -0.90 <= -0.75", "legal_threat (lawyer)"]


def test_a_trigger_signal_escalates_whatever_the_tone_and_names_its_evidence():
    result = evaluate(compound=0.6, signals={"legal_threat": ["lawyer", "sue"]}, category="delivery",
                      policy=DEFAULT, complaint=0.8)
    # (0.25 * 1.0 + 0.1 * 0.4 + 0.3 * 0.8) / 1.0
    assert result.priority == 53.0
    assert result.escalated and result.reasons == ["legal_threat (lawyer, sue)"]


def test_a_signal_that_is_no_trigger_only_raises_the_priority():
    result = evaluate(compound=0.0, signals={"cancel_intent": ["cancel"]}, category="other", policy=DEFAULT,
                      complaint=0.6)
    # 0.25 * 0.7 + 0.1 * 0.2 + 0.3 * 0.6
    assert result.priority == 37.5 and not result.escalated


def test_an_admin_can_make_any_signal_a_trigger_or_none():
    policy = Policy(version=3, signal_triggers=("cancel_intent",))
    assert evaluate(compound=0.0, signals={"cancel_intent": ["cancel"]}, category="other", policy=policy,
                    complaint=0.6).reasons == ["cancel_intent (cancel)"]
    none = Policy(version=4, signal_triggers=())
    assert not evaluate(compound=0.0, signals={"legal_threat": ["sue"]}, category="other", policy=none,
                        complaint=0.6).escalated


def test_an_unsupported_language_gets_the_floor_priority_and_is_marked_for_a_person():
    result = evaluate(compound=0.0, signals={}, category=None, policy=DEFAULT, complaint=None,
                      label=LANGUAGE_UNSUPPORTED, language="es")
    assert result.priority == 50.0 and not result.escalated
    assert needs_person(label=LANGUAGE_UNSUPPORTED, language="es") == "needs a person: language es"
    assert needs_person(label="negative", language="en") is None
    high = Policy(version=5, unsupported_priority=70.0)
    escalated = evaluate(compound=0.0, signals={}, category=None, policy=high, label=LANGUAGE_UNSUPPORTED,
                         language="de")
    assert (escalated.priority, escalated.reasons) == (70.0, ["priority 70 >= 60"])


def test_the_sentiment_rule_does_not_read_the_placeholder_tone_of_an_unsupported_text():
    assert escalation_reasons(priority=10.0, compound=-1.0, policy=DEFAULT, label=LANGUAGE_UNSUPPORTED) == []


def test_weights_that_add_up_to_nothing_are_refused():
    policy = Policy(version=6, weight_sentiment=0, weight_severity=0, weight_category=0, weight_complaint=0)
    with pytest.raises(ValueError):
        evaluate(compound=-0.5, signals={}, category="billing", policy=policy, complaint=0.5)


def test_a_policy_is_read_from_stored_values_with_its_types():
    stored = {"escalate_at": 55, "negative_compound": "-0.7", "weight_sentiment": 0.4, "weight_severity": 0.2,
              "weight_category": 0.1, "weight_complaint": 0.3, "min_complaint": 0.25,
              "signal_triggers": '["fraud"]', "unsupported_priority": 40}
    policy = policy_from_values(version=7, values=stored)
    assert policy == Policy(version=7, escalate_at=55.0, negative_compound=-0.7, weight_sentiment=0.4,
                            weight_severity=0.2, weight_category=0.1, weight_complaint=0.3, min_complaint=0.25,
                            signal_triggers=("fraud",), unsupported_priority=40.0)
    assert set(POLICY_FIELDS) == set(stored)
