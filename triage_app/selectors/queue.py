"""The staff queue: its order, filters and the shape of one item."""
from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db.models import F, QuerySet

from triage_app.models import (
    Complaint,
    Score,
    Team,
)
from triage_app.selectors.admin_settings import policy_as_core, policy_current
from triage_app.selectors.teams import SEES_ALL, Viewer, queue_holder_filter
from triage_app.serializers import QueueItemOut
from triage_core.priority import Policy

QUEUE_LIMIT = 500


def complaint_queue(*, status: str | None = None, category: str | None = None, model: str | None = None,
                    include_resolved: bool = False, limit: int = QUEUE_LIMIT, viewer: Viewer = SEES_ALL,
                    team: int | str | None = None, assignee: int | str | None = None) -> QuerySet[Complaint]:
    """Open scored complaints by their queue rank (triage_core.sla: escalated and
    SLA-breached first, then priority lifted by waiting time and SLA risk), oldest first
    on a tie; read in order from the index of triage_queue_entry. Resolved complaints
    have no place in the queue: asked for, they come by their score, most urgent first.

    `viewer`: who reads, and so what they may see (selectors.teams);
    `team` and `assignee`: as selectors.teams.queue_holder_filter reads them."""
    complaints = Complaint.objects.filter(score__isnull=False).select_related("score", "claimed_by", "queue", "team")
    complaints = complaints.filter(viewer.visible(), queue_holder_filter(team=team, assignee=assignee, viewer=viewer))
    if category:
        complaints = complaints.filter(score__category=category)
    if model:
        complaints = complaints.filter(score__model_name=model)
    if status == Complaint.Status.RESOLVED or (include_resolved and not status):
        if status:
            complaints = complaints.filter(status=status)
        return complaints.order_by("-score__escalated", "-score__priority", "score__compound", "created_at")[:limit]
    complaints = complaints.filter(queue__isnull=False).exclude(status=Complaint.Status.RESOLVED)
    if status:
        complaints = complaints.filter(status=status)
    return complaints.order_by(F("queue__queue_rank").desc(), "created_at")[:limit]


def queue_item(*, complaint: Complaint, policy: Policy) -> dict:
    """One queue row for staff: what it says, where it ranks and why (serializers.QueueItemOut)."""
    return QueueItemOut(complaint, context={"policy": policy}).data


def queue_items(*, complaints: Iterable[Complaint]) -> list[dict]:
    return list(QueueItemOut(complaints, many=True, context={"policy": policy_as_core(policy_current())}).data)


def queue_items_by_ids(*, complaint_ids: Sequence) -> list[dict]:
    complaints = (Complaint.objects.filter(id__in=list(complaint_ids))
                  .select_related("score", "claimed_by", "queue", "team"))
    return queue_items(complaints=complaints)


def queue_filter_choices() -> dict:
    return {
        "statuses": [s for s in Complaint.Status if s != Complaint.Status.RECEIVED],
        "categories": list(Score.objects.exclude(category__isnull=True).order_by("category")
                           .values_list("category", flat=True).distinct()),
        "models": list(Score.objects.order_by("model_name").values_list("model_name", flat=True).distinct()),
        "teams": list(Team.objects.order_by("name").values("id", "name")),
    }
