"""One complaint as the customer sees it (tracking page, API) and as staff see it."""
from __future__ import annotations

import uuid
from typing import Any

from triage_app.models import (
    Complaint,
    ComplaintEvent,
    Correction,
    Score,
)
from triage_app.selectors.admin_settings import policy_as_core, policy_current
from triage_app.selectors.queue import queue_item
from triage_app.serializers import queue_entry_of, score_reasons
from triage_core.priority import CATEGORY_WEIGHTS


def complaint_get_by_tracking_code(*, tracking_code: str) -> Complaint | None:
    if not isinstance(tracking_code, str) or len(tracking_code) > 64:
        return None
    return Complaint.objects.select_related("score").filter(tracking_code=tracking_code).first()


# Events whose words the customer sees: staff replies and what the customer wrote.
_PUBLIC_BODIES = frozenset({ComplaintEvent.Kind.REPLY, ComplaintEvent.Kind.CUSTOMER_REPLY})


def complaint_public_history(*, complaint: Complaint) -> list[dict]:
    """What the customer may see: status changes and staff replies, never scores or notes.

    The stream marks a complaint analysed with plain SQL and no event row, so that step
    comes from the score's commit time.
    """
    history: list[dict[str, Any]] = [
        {"kind": e.kind, "status": e.status, "body": e.body if e.kind in _PUBLIC_BODIES else "",
         "at": e.created_at}
        for e in complaint.events.filter(public=True)
    ]
    score = Score.objects.filter(complaint_id=complaint.id).only("scored_at").first()
    if score is not None:
        history.append({"kind": "analysed", "status": Complaint.Status.ANALYSED, "body": "", "at": score.scored_at})
    elif complaint.status == Complaint.Status.ANALYSED:
        history.append({"kind": "analysed", "status": Complaint.Status.ANALYSED, "body": "",
                        "at": complaint.updated_at})
    history.sort(key=lambda h: h["at"])
    return history


def complaint_public_data(*, complaint: Complaint) -> dict:
    history = complaint_public_history(complaint=complaint)
    return {
        "id": str(complaint.id),
        "tracking_code": complaint.tracking_code,
        "status": complaint.status,
        "created_at": complaint.created_at.isoformat(),
        "history": [
            {"kind": h["kind"], "status": h["status"], "at": h["at"].isoformat()}
            for h in history if h["kind"] != ComplaintEvent.Kind.REPLY
        ],
        "replies": [{"body": h["body"], "at": h["at"].isoformat()}
                    for h in history if h["kind"] == ComplaintEvent.Kind.REPLY],
        "customer_messages": [{"body": h["body"], "at": h["at"].isoformat()}
                              for h in history if h["kind"] == ComplaintEvent.Kind.CUSTOMER_REPLY],
    }


SAME_CUSTOMER_SHOWN = 20


def complaint_detail(*, complaint_id: uuid.UUID) -> dict | None:
    complaint = (Complaint.objects.select_related("score", "claimed_by", "queue", "team")
                 .filter(id=complaint_id).first())
    if complaint is None:
        return None
    policy_row = policy_current()
    policy = policy_as_core(policy_row)
    score = getattr(complaint, "score", None)
    reasons = score_reasons(score=score, policy=policy) if score is not None and score.escalated else []
    return {
        "complaint": complaint,
        "entry": queue_entry_of(complaint),
        "item": queue_item(complaint=complaint, policy=policy),
        "score": score,
        "reasons": reasons,
        "policy": policy_row,
        "shadow_scores": list(complaint.shadow_scores.order_by("model_name")),
        "timeline": complaint_timeline(complaint=complaint, score=score),
        "public_history": complaint_public_history(complaint=complaint),
        "mails": list(complaint.mails.order_by("created_at", "id")),
        "follows": complaint.follows_id,
        "follow_ups": list(complaint.follow_ups.values_list("id", flat=True)),
        "duplicates": list(complaint.duplicates.values_list("id", flat=True)),
        # The same customer's other complaints (by their address), newest first.
        "same_customer": [] if not complaint.email else list(
            Complaint.objects.filter(email__iexact=complaint.email).exclude(id=complaint.id)
            .order_by("-created_at").values("id", "created_at", "status", "text")[:SAME_CUSTOMER_SHOWN]),
        "correction_categories": list(CATEGORY_WEIGHTS),
        "correction_kinds": [(k, label) for k, label in Correction.Kind.choices if k != Correction.Kind.CATEGORY],
    }


def complaint_timeline(*, complaint: Complaint, score: Score | None) -> list[dict]:
    """Everything that happened to a complaint, for staff, oldest first."""
    timeline: list[dict[str, Any]] = [
        {"kind": e.kind, "label": e.get_kind_display(), "actor": e.actor.get_username() if e.actor else "",
         "status": e.status, "body": e.body, "public": e.public, "at": e.created_at}
        for e in complaint.events.select_related("actor")
    ]
    if score is not None:
        timeline.append({"kind": "analysed", "label": Complaint.Status.ANALYSED.label,
                         "actor": f"{score.model_name} {score.model_version}",
                         "status": Complaint.Status.ANALYSED, "body": "", "public": True, "at": score.scored_at})
    timeline.sort(key=lambda entry: entry["at"])
    return timeline
