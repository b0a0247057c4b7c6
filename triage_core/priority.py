"""Priority (0..100) and escalation of a scored complaint under an escalation policy.

Pure, so the stream (at scoring time) and the app (when an admin changes the policy
and open complaints are re-evaluated) compute exactly the same thing.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# How much each severity signal weighs (0..1). A threat to sue or a safety risk is more
# urgent than a repeated contact.
SIGNAL_WEIGHTS: Mapping[str, float] = {
    "legal_threat": 1.0,
    "safety_risk": 1.0,
    "fraud": 0.9,
    "cancel_intent": 0.7,
    "repeated_contact": 0.5,
}
# How urgent a category is on its own (0..1); unknown categories count as "other".
CATEGORY_WEIGHTS: Mapping[str, float] = {
    "account_security": 0.8,
    "billing": 0.6,
    "product_quality": 0.5,
    "delivery": 0.4,
    "staff_service": 0.4,
    "other": 0.2,
}


@dataclass(frozen=True)
class Policy:
    version: int
    escalate_at: float = 60.0
    negative_compound: float = -0.75
    weight_sentiment: float = 0.6
    weight_severity: float = 0.3
    weight_category: float = 0.1


@dataclass(frozen=True)
class Evaluation:
    priority: float
    escalated: bool
    reasons: list[str] = field(default_factory=list)


def severity_of(signals: Mapping[str, object] | None) -> float:
    """The strongest signal present, 0 when none (a vader score has none)."""
    if not signals:
        return 0.0
    return max((SIGNAL_WEIGHTS.get(name, 0.5) for name, hits in signals.items() if hits), default=0.0)


def evaluate(*, compound: float, signals: Mapping[str, object] | None, category: str | None,
             policy: Policy) -> Evaluation:
    negativity = max(0.0, -float(compound))
    severity = severity_of(signals)
    category_weight = CATEGORY_WEIGHTS.get(category or "other", CATEGORY_WEIGHTS["other"]) if category else 0.0
    total = policy.weight_sentiment + policy.weight_severity + policy.weight_category
    if total <= 0:
        raise ValueError("policy weights must add up to more than 0")
    raw = (policy.weight_sentiment * negativity + policy.weight_severity * severity
           + policy.weight_category * category_weight) / total
    priority = round(100.0 * min(1.0, max(0.0, raw)), 2)
    reasons = escalation_reasons(priority=priority, compound=compound, policy=policy)
    return Evaluation(priority=priority, escalated=bool(reasons), reasons=reasons)


def escalation_reasons(*, priority: float, compound: float, policy: Policy) -> list[str]:
    """Why a complaint with this priority and sentiment escalates under `policy`; [] if it does not."""
    reasons = []
    if priority >= policy.escalate_at:
        reasons.append(f"priority {priority:g} >= {policy.escalate_at:g}")
    if compound <= policy.negative_compound:
        reasons.append(f"sentiment {compound:+.2f} <= {policy.negative_compound:+.2f}")
    return reasons
