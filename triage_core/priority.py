"""Priority (0..100) and escalation of a scored complaint under an escalation policy.

The model gives evidence (tone, complaint probability, category, severity signals,
language); the product decides, here, once. Pure, so the stream (at scoring time) and
the app (when an admin changes the policy and open complaints are re-evaluated)
compute exactly the same thing.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

LANGUAGE_UNSUPPORTED = "language_unsupported"  # the label models give a text they cannot read

# How much each severity signal weighs (0..1). A threat to sue or a safety risk is more
# urgent than a repeated contact.
SIGNAL_WEIGHTS: Mapping[str, float] = {
    "legal_threat": 1.0,
    "safety_risk": 1.0,
    "fraud": 0.9,
    "cancel_intent": 0.7,
    "repeated_contact": 0.5,
}
SIGNALS = tuple(SIGNAL_WEIGHTS)
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
    weight_sentiment: float = 0.35
    weight_severity: float = 0.25
    weight_category: float = 0.1
    # Weight of the model's complaint probability; models without one (vader) are ranked
    # on the other three weights alone.
    weight_complaint: float = 0.3
    # The sentiment rule and the signal triggers apply only to texts at least this likely
    # to be complaints (always, for models that give no probability): swearing about the
    # weather is very negative and no complaint.
    min_complaint: float = 0.3
    # Signals that escalate whatever the tone and the priority.
    signal_triggers: tuple[str, ...] = ("legal_threat", "safety_risk")
    # The priority of a text in a language the models do not read: a person must look.
    unsupported_priority: float = 50.0


# The admin-tunable numbers of a policy, with their allowed ranges: one list for the
# form, the API, the stream's SQL and the admin.
POLICY_RANGES: Mapping[str, tuple[float, float]] = {
    "escalate_at": (0.0, 100.0),
    "negative_compound": (-1.0, 1.0),
    "weight_sentiment": (0.0, 10.0),
    "weight_severity": (0.0, 10.0),
    "weight_category": (0.0, 10.0),
    "weight_complaint": (0.0, 10.0),
    "min_complaint": (0.0, 1.0),
    "unsupported_priority": (0.0, 100.0),
}
POLICY_FIELDS = tuple(POLICY_RANGES) + ("signal_triggers",)
# The policy before an admin saves one (the migrations seed version 1 with these numbers).
DEFAULT_POLICY = Policy(version=0)
assert set(POLICY_FIELDS) == {f.name for f in fields(Policy)} - {"version"}


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


def needs_person(*, label: str | None, language: str | None) -> str | None:
    """What staff must be told about a text no model could read, else None."""
    if label != LANGUAGE_UNSUPPORTED:
        return None
    return f"needs a person: language {language or 'unknown'}"


def evaluate(*, compound: float, signals: Mapping[str, Sequence[str]] | None, category: str | None,
             policy: Policy, complaint: float | None = None, label: str | None = None,
             language: str | None = None) -> Evaluation:
    if label == LANGUAGE_UNSUPPORTED:
        priority = round(float(policy.unsupported_priority), 2)
    else:
        negativity = max(0.0, -float(compound))
        category_weight = CATEGORY_WEIGHTS.get(category or "other", CATEGORY_WEIGHTS["other"]) if category else 0.0
        terms = [(policy.weight_sentiment, negativity), (policy.weight_severity, severity_of(signals)),
                 (policy.weight_category, category_weight)]
        if complaint is not None:
            terms.append((policy.weight_complaint, float(complaint)))
        total = sum(weight for weight, _ in terms)
        if total <= 0:
            raise ValueError("policy weights must add up to more than 0")
        raw = sum(weight * value for weight, value in terms) / total
        priority = round(100.0 * min(1.0, max(0.0, raw)), 2)
    reasons = escalation_reasons(priority=priority, compound=compound, policy=policy, signals=signals,
                                 complaint=complaint, label=label)
    return Evaluation(priority=priority, escalated=bool(reasons), reasons=reasons)


def escalation_reasons(*, priority: float, compound: float, policy: Policy,
                       signals: Mapping[str, Sequence[str]] | None = None, complaint: float | None = None,
                       label: str | None = None) -> list[str]:
    """Why a complaint with these scores escalates under `policy`; [] if it does not."""
    reasons = []
    if priority >= policy.escalate_at:
        reasons.append(f"priority {priority:g} >= {policy.escalate_at:g}")
    if label == LANGUAGE_UNSUPPORTED:
        return reasons
    if complaint is not None and complaint < policy.min_complaint:
        return reasons
    if compound <= policy.negative_compound:
        reasons.append(f"sentiment {compound:+.2f} <= {policy.negative_compound:+.2f}")
    for name in policy.signal_triggers:
        evidence = (signals or {}).get(name)
        if evidence:
            words = ", ".join(str(w) for w in evidence) if isinstance(evidence, (list, tuple)) else str(evidence)
            reasons.append(f"{name} ({words})")
    return reasons


def policy_from_values(*, version: int, values: Mapping[str, object]) -> Policy:
    """A Policy from stored values (a database row, a form): the one place that knows how
    each field is typed."""
    known = {name: values[name] for name in POLICY_FIELDS if name in values and values[name] is not None}
    stored = known.pop("signal_triggers", None)
    fields: dict[str, Any] = {name: float(value) for name, value in known.items()}  # type: ignore[arg-type]
    if stored is not None:
        triggers: Iterable[object] = json.loads(stored) if isinstance(stored, str) else stored  # type: ignore[assignment]
        fields["signal_triggers"] = tuple(str(t) for t in triggers)
    return Policy(version=version, **fields)
