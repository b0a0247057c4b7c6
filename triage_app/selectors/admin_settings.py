"""The admin's current settings: the escalation policy, the SLA policy and the experiment."""
from __future__ import annotations

from triage_app.models import (
    EscalationPolicy,
    Experiment,
    ServiceLevelPolicy,
)
from triage_core.priority import DEFAULT_POLICY, POLICY_FIELDS, Policy, policy_from_values
from triage_core.sla import DEFAULT_SLA_POLICY, SLA_FIELDS, SlaPolicy, sla_policy_from_values


def policy_current() -> EscalationPolicy | None:
    return EscalationPolicy.objects.order_by("-version").first()


def policy_as_core(policy: EscalationPolicy | None) -> Policy:
    if policy is None:
        return DEFAULT_POLICY
    return policy_from_values(version=policy.version,
                              values={name: getattr(policy, name) for name in POLICY_FIELDS})


def sla_policy_current() -> ServiceLevelPolicy | None:
    return ServiceLevelPolicy.objects.order_by("-version").first()


def sla_policy_as_core(policy: ServiceLevelPolicy | None) -> SlaPolicy:
    if policy is None:
        return DEFAULT_SLA_POLICY
    return sla_policy_from_values(version=policy.version, values={name: getattr(policy, name) for name in SLA_FIELDS})


def experiment_current() -> Experiment | None:
    return Experiment.objects.order_by("-version").first()
