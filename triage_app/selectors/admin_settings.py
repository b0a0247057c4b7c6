"""The admin's current settings: the escalation policy and the experiment."""
from __future__ import annotations

from triage_app.models import (
    EscalationPolicy,
    Experiment,
)
from triage_core.priority import DEFAULT_POLICY, POLICY_FIELDS, Policy, policy_from_values


def policy_current() -> EscalationPolicy | None:
    return EscalationPolicy.objects.order_by("-version").first()


def policy_as_core(policy: EscalationPolicy | None) -> Policy:
    if policy is None:
        return DEFAULT_POLICY
    return policy_from_values(version=policy.version,
                              values={name: getattr(policy, name) for name in POLICY_FIELDS})


def experiment_current() -> Experiment | None:
    return Experiment.objects.order_by("-version").first()
