"""The queue item: the one shape staff see, in the queue API, the complaint API, the live
WebSocket push and the complaint page. This serializer produces it and documents it in
the OpenAPI schema, so the two cannot drift.

Reasons for an escalation depend on the admin's current policy, which the caller passes
in the context (`{"policy": triage_core.priority.Policy}`): one policy read per list.
"""
from __future__ import annotations

from django.contrib.auth.models import User
from rest_framework import serializers

from triage_app.models import Complaint, QueueEntry, Score
from triage_core.priority import Policy, escalation_reasons, needs_person
from triage_core.sla import STATES as SLA_STATES
from triage_core.sla import effective_rank


def user_display_name(user: User | None) -> str:
    if user is None:
        return "someone"
    full = user.get_full_name() if hasattr(user, "get_full_name") else ""
    return full or user.get_username()


def score_reasons(*, score: Score, policy: Policy) -> list[str]:
    """Why a score escalates, from its stored priority (the stream's number, which a
    scoring model may have computed itself) against the policy's thresholds."""
    return escalation_reasons(priority=score.priority, compound=score.compound, policy=policy,
                              signals=score.signals, complaint=score.complaint_probability, label=score.label)


# The fields below are the documented shape; `to_representation` builds the same keys
# by hand, because DRF's field-by-field path cost 0.8 ms an item (415 ms for a 500-item
# queue, 55x this). tests/triage_app/test_api.py pins the keys to the fields.

class QueueScoreOut(serializers.Serializer):
    priority = serializers.FloatField(help_text="0..100 under the policy the stream applied")
    escalated = serializers.BooleanField()
    reasons = serializers.ListField(child=serializers.CharField(),
                                    help_text="why it escalates under the current policy")
    compound = serializers.FloatField(help_text="tone, -1 (most negative) .. 1")
    # `label` and `source` are also attributes of DRF's Field, which its stubs type.
    label = serializers.CharField(  # type: ignore[assignment]
        help_text="positive, neutral, negative or language_unsupported")
    category = serializers.CharField(allow_null=True)
    signals = serializers.DictField(child=serializers.ListField(child=serializers.CharField()),
                                    help_text="severity signal -> the customer's words that state it")
    explanation = serializers.CharField()
    language = serializers.CharField(allow_null=True)
    complaint_probability = serializers.FloatField(allow_null=True)
    needs_person = serializers.CharField(
        allow_null=True, help_text='"needs a person: language X" when no model could read the text, else null')
    model_name = serializers.CharField()
    model_version = serializers.CharField()
    arm = serializers.CharField()
    scored_at = serializers.DateTimeField()

    def to_representation(self, score: Score) -> dict:
        return {
            "priority": score.priority,
            "escalated": score.escalated,
            "reasons": score_reasons(score=score, policy=self.context["policy"]) if score.escalated else [],
            "compound": score.compound,
            "label": score.label,
            "category": score.category,
            "signals": score.signals or {},
            "explanation": score.explanation,
            "language": score.language,
            "complaint_probability": score.complaint_probability,
            "needs_person": needs_person(label=score.label, language=score.language),
            "model_name": score.model_name,
            "model_version": score.model_version,
            "arm": score.arm,
            "scored_at": score.scored_at.isoformat(),
        }


class QueueSlaOut(serializers.Serializer):
    state = serializers.ChoiceField(choices=list(SLA_STATES), allow_null=True,
                                    help_text="null until the SLA worker has seen it")
    reason = serializers.CharField(allow_null=True, help_text='"SLA breached: ..." when breached')
    first_reply_due = serializers.DateTimeField(allow_null=True)
    resolution_due = serializers.DateTimeField(allow_null=True)
    first_reply_at = serializers.DateTimeField(allow_null=True)
    repeat_contacts = serializers.IntegerField(help_text="the customer's other complaints in the 30 days before "
                                                         "this one: each lifts its rank (triage_core.sla)")


def queue_entry_of(complaint: Complaint) -> QueueEntry | None:
    """The complaint's place in the queue, None when it has none (resolved, not scored)."""
    try:
        return complaint.queue
    except QueueEntry.DoesNotExist:
        return None


def _iso(value) -> str | None:
    return None if value is None else value.isoformat()


class QueueItemOut(serializers.Serializer):
    id = serializers.UUIDField()
    text = serializers.CharField()
    status = serializers.ChoiceField(choices=Complaint.Status.choices)
    source = serializers.ChoiceField(choices=Complaint.Source.choices)  # type: ignore[assignment]
    created_at = serializers.DateTimeField()
    claimed_by = serializers.CharField(allow_null=True, help_text="display name of the staff member holding it")
    claimed_by_id = serializers.IntegerField(allow_null=True, help_text="user id of the staff member holding it")
    team = serializers.CharField(allow_null=True, help_text="name of the team working it")
    team_id = serializers.IntegerField(allow_null=True)
    score = QueueScoreOut(allow_null=True)
    rank = serializers.FloatField(allow_null=True, help_text="the queue's sort key, highest first (triage_core.sla)")
    sla = QueueSlaOut()

    def to_representation(self, complaint: Complaint) -> dict:
        score: Score | None = getattr(complaint, "score", None)
        entry = queue_entry_of(complaint)
        clocks = {"state": None, "reason": None, "first_reply_due": None, "resolution_due": None,
                  "repeat_contacts": 0} if entry is None \
            else {"state": entry.sla_state, "reason": entry.sla_reason or None,
                  "first_reply_due": _iso(entry.first_reply_due), "resolution_due": _iso(entry.resolution_due),
                  "repeat_contacts": entry.repeat_contacts}
        return {
            "rank": None if score is None else effective_rank(queue_rank=entry.queue_rank if entry else None,
                                                              priority=score.priority, escalated=score.escalated),
            "sla": {**clocks, "first_reply_at": _iso(complaint.first_reply_at)},
            "id": str(complaint.id),
            "text": complaint.text,
            "status": complaint.status,
            "source": complaint.source,
            "created_at": complaint.created_at.isoformat(),
            "claimed_by": user_display_name(complaint.claimed_by) if complaint.claimed_by_id else None,
            "claimed_by_id": complaint.claimed_by_id,
            "team": complaint.team.name if complaint.team is not None else None,
            "team_id": complaint.team_id,
            "score": None if score is None else self.fields["score"].to_representation(score),
        }
