"""Staff corrections of the model: what a person who read the complaint says the model
got wrong (issue 11, "corrections that train the model").

Each correction is stored with who, when, and what the model said then (model, version,
arm, its category, priority and escalation), so the A/B page can compare the arms with
staff judgement and `manage.py export_corrections` can turn them into a labelled source
for `make train` (docs/data.md). It is also an event on the complaint's timeline.
"""
from __future__ import annotations

import uuid

from django.contrib.auth.models import User
from django.db import transaction

from triage_app import errors
from triage_app.errors import InvalidInput
from triage_app.models import Complaint, ComplaintEvent, Correction, Score
from triage_app.selectors.teams import complaint_visible
from triage_core.priority import CATEGORY_WEIGHTS


def _describe(kind: str, value: str, score: Score) -> str:
    if kind == Correction.Kind.CATEGORY:
        return f"category: {score.category or 'none'} -> {value}"
    described: dict[str, str] = {
        Correction.Kind.NOT_COMPLAINT: "not a complaint",
        Correction.Kind.URGENCY_TOO_HIGH: f"urgency too high (priority {score.priority:g})",
        Correction.Kind.URGENCY_TOO_LOW: f"urgency too low (priority {score.priority:g})"}
    return described[kind]


def complaint_correct(*, complaint_id: uuid.UUID, by: User, kind: object, value: object = "") -> Correction:
    """Record one correction of the model's reading of a scored complaint."""
    if kind not in Correction.Kind.values:
        raise InvalidInput({"kind": [errors.CORRECTION_KIND_UNKNOWN.format(known=", ".join(Correction.Kind.values))]})
    value = value.strip() if isinstance(value, str) else ""
    if kind == Correction.Kind.CATEGORY and value not in CATEGORY_WEIGHTS:
        raise InvalidInput({"value": [errors.CORRECTION_CATEGORY_UNKNOWN.format(known=", ".join(CATEGORY_WEIGHTS))]})
    if kind != Correction.Kind.CATEGORY:
        value = ""
    with transaction.atomic():
        complaint = Complaint.objects.select_for_update().get(id=complaint_id)
        if not complaint_visible(complaint=complaint, user=by):
            raise Complaint.DoesNotExist  # another team's: not there for this agent
        score = Score.objects.filter(complaint=complaint).first()
        if score is None:
            raise InvalidInput({"kind": [errors.CORRECTION_NOT_SCORED]})
        correction = Correction.objects.create(
            complaint=complaint, kind=kind, value=value, by=by, model_name=score.model_name,
            model_version=score.model_version, arm=score.arm, model_category=score.category,
            model_priority=score.priority, model_escalated=score.escalated)
        ComplaintEvent.objects.create(complaint=complaint, kind=ComplaintEvent.Kind.CORRECTED, actor=by,
                                      body=_describe(kind, value, score), public=False)
    return correction
