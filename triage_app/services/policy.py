"""The escalation policy: validated, versioned and audited; a new version re-ranks the
open complaints."""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils.translation import gettext

from triage_app import errors, live
from triage_app.errors import InvalidInput
from triage_app.models import (
    Complaint,
    EscalationPolicy,
    Score,
)
from triage_app.selectors import policy_as_core, policy_current
from triage_app.services.audit import audit_record, latest_version_locked
from triage_app.validation import number_in_range
from triage_core.priority import DEFAULT_POLICY, POLICY_FIELDS, POLICY_RANGES, SIGNALS, evaluate


def policy_values(policy: EscalationPolicy | None) -> dict | None:
    if policy is None:
        return None
    return {"version": policy.version, **{f: getattr(policy, f) for f in POLICY_FIELDS}}


def _signal_triggers_validate(raw: object) -> list[str]:
    if raw is None or raw == "":
        return []
    if isinstance(raw, str):
        raw = [part.strip() for part in raw.split(",") if part.strip()]
    if not isinstance(raw, (list, tuple)) or not all(isinstance(name, str) and name in SIGNALS for name in raw):
        message = gettext(errors.POLICY_TRIGGERS_INVALID).format(known=", ".join(SIGNALS))
        raise InvalidInput({"signal_triggers": [message]})
    return [name for name in SIGNALS if name in raw]


def policy_validate(*, values: Mapping[str, object]) -> dict[str, object]:
    problems: dict[str, list[str]] = {}
    cleaned: dict[str, object] = {}
    numbers: dict[str, float] = {}
    for field, (low, high) in POLICY_RANGES.items():
        if (value := number_in_range(values, field, low, high, problems)) is not None:
            cleaned[field] = numbers[field] = value
    if not problems and sum(numbers[f] for f in ("weight_sentiment", "weight_severity", "weight_category")) <= 0:
        # The complaint weight alone is not enough: vader gives no complaint probability.
        problems["weight_sentiment"] = [errors.POLICY_WEIGHTS_ZERO]
    try:
        cleaned["signal_triggers"] = _signal_triggers_validate(values.get("signal_triggers"))
    except InvalidInput as exc:
        problems.update(exc.errors)
    if problems:
        raise InvalidInput(problems)
    return cleaned


def policy_create(*, by: User | None, values: Mapping[str, object]) -> EscalationPolicy:
    """A new policy version; open complaints are re-evaluated under it and pushed live.

    A field left out keeps the current policy's value (the policy's defaults when there
    is none), so a client written before a field existed does not reset it."""
    with transaction.atomic():
        current = latest_version_locked(EscalationPolicy)
        before = policy_values(current) or {name: getattr(DEFAULT_POLICY, name) for name in POLICY_FIELDS}
        cleaned = policy_validate(values={**{k: v for k, v in before.items() if k != "version"},
                                          **{k: v for k, v in values.items() if k in POLICY_FIELDS}})
        policy = EscalationPolicy.objects.create(version=(current.version if current else 0) + 1,
                                                 created_by=by, **cleaned)
        changed = complaints_reevaluate(policy=policy)
        audit_record(actor=by, action="policy.create", entity="escalation_policy",
                     old=policy_values(current), new={**(policy_values(policy) or {}), "reevaluated": changed})
        transaction.on_commit(live.queue_push_refresh)
    return policy


def complaints_reevaluate(*, policy: EscalationPolicy, complaint_ids: Iterable | None = None) -> int:
    """Re-rank open complaints under `policy`; returns how many rows changed.

    Reads plain tuples and writes with one COPY + UPDATE: an admin's policy change may
    re-rank hundreds of thousands of open complaints, and model instances with
    bulk_update's CASE expressions took minutes for 800k rows where this takes seconds.
    """
    core_policy = policy_as_core(policy)
    scores = Score.objects.exclude(complaint__status=Complaint.Status.RESOLVED)
    if complaint_ids is not None:
        scores = scores.filter(complaint_id__in=list(complaint_ids))
    changed = []
    for (complaint_id, compound, signals, category, complaint, label, language, priority, escalated,
         version) in scores.values_list(
            "complaint_id", "compound", "signals", "category", "complaint_probability", "label", "language",
            "priority", "escalated", "policy_version",
    ).iterator(chunk_size=10000):
        result = evaluate(compound=compound, signals=signals, category=category, policy=core_policy,
                          complaint=complaint, label=label, language=language)
        if (priority, escalated, version) != (result.priority, result.escalated, policy.version):
            changed.append((complaint_id, result.priority, result.escalated))
    _scores_rerank(changed, policy_version=policy.version)
    return len(changed)


def _scores_rerank(rows: Sequence[tuple], *, policy_version: int) -> None:
    if not rows:
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE score_rerank (complaint_id uuid PRIMARY KEY, priority float8,"
                       " escalated bool) ON COMMIT DROP")
        with cursor.copy("COPY score_rerank (complaint_id, priority, escalated) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute("UPDATE triage_score s SET priority = r.priority, escalated = r.escalated,"
                       " policy_version = %s FROM score_rerank r WHERE s.complaint_id = r.complaint_id",
                       [policy_version])
        cursor.execute("DROP TABLE score_rerank")


def scores_reevaluate_stale(*, complaint_ids: Sequence, ranked_under: int | None = None) -> int:
    """Re-rank just-scored complaints that a batch ranked under an older policy.

    The stream reads the policy when a micro-batch starts; an admin change committed
    while that batch ran would otherwise leave its rows on the old thresholds.
    `ranked_under`: the policy version the batch says it used (its notification); when
    that is the current one, nothing is stale and no score is read.
    """
    policy = policy_current()
    if policy is None or (ranked_under is not None and ranked_under >= policy.version):
        return 0
    stale = Score.objects.filter(complaint_id__in=list(complaint_ids), policy_version__lt=policy.version)
    ids = list(stale.values_list("complaint_id", flat=True))
    if not ids:
        return 0
    with transaction.atomic():
        return complaints_reevaluate(policy=policy, complaint_ids=ids)
