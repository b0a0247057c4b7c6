"""The experiment (which model versions serve what share, which runs in shadow):
validated, versioned and audited."""
from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext

from triage_app import errors
from triage_app.errors import InvalidInput
from triage_app.models import (
    Experiment,
)
from triage_app.services.audit import audit_record, latest_version_locked
from triage_core.routing import validate_arms


def experiment_validate(*, arms: object, shadow_model: object) -> tuple[list[dict], str | None]:
    known = settings.TRIAGE_MODELS
    if not isinstance(arms, list) or not all(isinstance(a, dict) for a in arms):
        raise InvalidInput({"arms": ["Arms must be a list of {label, model, weight}."]})
    problems = validate_arms(arms)
    for arm in arms:
        model = arm.get("model")
        if model and model not in known:
            problems.append(gettext(errors.EXPERIMENT_UNKNOWN_MODEL).format(model=model, known=", ".join(known)))
        if not isinstance(arm.get("label"), str) or not arm.get("label", "").strip() or len(arm["label"]) > 16:
            problems.append("Every arm needs a label of 1 to 16 characters.")
    field_problems: dict[str, list[str]] = {}
    if problems:
        field_problems["arms"] = sorted(set(problems))
    shadow = shadow_model.strip() if isinstance(shadow_model, str) else None
    shadow = shadow or None
    if shadow is not None:
        if shadow not in known:
            field_problems["shadow_model"] = [
                gettext(errors.EXPERIMENT_UNKNOWN_MODEL).format(model=shadow, known=", ".join(known))]
        elif any(a.get("model") == shadow for a in arms):
            field_problems["shadow_model"] = [errors.EXPERIMENT_SHADOW_SERVING]
    if field_problems:
        raise InvalidInput(field_problems)
    cleaned = [{"label": a["label"].strip(), "model": a["model"], "weight": a["weight"]} for a in arms]
    return cleaned, shadow


def experiment_values(experiment: Experiment | None) -> dict | None:
    if experiment is None:
        return None
    return {"version": experiment.version, "arms": experiment.arms, "shadow_model": experiment.shadow_model}


def experiment_create(*, by: User | None, arms: object, shadow_model: object) -> Experiment:
    cleaned_arms, shadow = experiment_validate(arms=arms, shadow_model=shadow_model)
    with transaction.atomic():
        current = latest_version_locked(Experiment)
        experiment = Experiment.objects.create(version=(current.version if current else 0) + 1,
                                               arms=cleaned_arms, shadow_model=shadow, created_by=by)
        audit_record(actor=by, action="experiment.create", entity="experiment",
                     old=experiment_values(current), new=experiment_values(experiment))
    return experiment


def experiment_restore(*, by: User | None, version: int) -> Experiment:
    """Roll back: serve an earlier version's split again, as a new (audited) version."""
    earlier = Experiment.objects.filter(version=version).first()
    if earlier is None:
        raise InvalidInput({"restore": [gettext(errors.EXPERIMENT_UNKNOWN_VERSION).format(version=version)]})
    return experiment_create(by=by, arms=earlier.arms, shadow_model=earlier.shadow_model or "")
