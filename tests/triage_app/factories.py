"""Factories for the models the stream writes, so tests can stand in for it."""
from __future__ import annotations

import itertools

from django.utils import timezone

from triage_app.models import Complaint, Score, ShadowScore

_offsets = itertools.count()


def complaint_make(*, text: str = "The parcel never arrived and nobody answers.", status: str = "received",
                   source: str = "api", **extra) -> Complaint:
    return Complaint.objects.create(text=text, status=status, source=source, **extra)


def score_make(*, complaint: Complaint, compound: float = -0.5, priority: float = 30.0, escalated: bool = False,
               model_name: str = "vader", model_version: str = "1", arm: str = "A", label: str = "negative",
               category: str | None = None, signals: dict | None = None, policy_version: int = 1,
               scoring_ms: float | None = 0.4, mark_analysed: bool = True, explanation: str = "", **extra) -> Score:
    now = timezone.now()
    score = Score.objects.create(
        complaint=complaint, model_name=model_name, model_version=model_version, arm=arm, experiment_version=1,
        compound=compound, neg=max(0.0, -compound), neu=1 - abs(compound), pos=max(0.0, compound), label=label,
        category=category, signals=signals or {}, explanation=explanation, priority=priority, escalated=escalated,
        policy_version=policy_version, kafka_topic="complaints", kafka_partition=0, kafka_offset=next(_offsets),
        enqueued_at=now, scored_at=now, scoring_ms=scoring_ms, **extra,
    )
    if mark_analysed and complaint.status == Complaint.Status.RECEIVED:
        Complaint.objects.filter(id=complaint.id).update(status=Complaint.Status.ANALYSED)
        complaint.status = Complaint.Status.ANALYSED
    return score


def shadow_make(*, complaint: Complaint, compound: float = -0.4, label: str = "negative",
                model_name: str = "triage", model_version: str = "1") -> ShadowScore:
    return ShadowScore.objects.create(
        complaint=complaint, model_name=model_name, model_version=model_version, compound=compound,
        neg=max(0.0, -compound), neu=1 - abs(compound), pos=max(0.0, compound), label=label,
        signals={}, explanation="", scored_at=timezone.now(), scoring_ms=1.0,
    )
