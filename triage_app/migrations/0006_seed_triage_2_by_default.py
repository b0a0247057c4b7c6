"""Policy v2 and experiment v2: triage 2.0 serves all traffic with vader in shadow, and
the policy uses its evidence. Written out rather than imported from triage_core, so a
later change of the defaults there cannot rewrite history.

Only a database still on the seeded versions gets them: an admin's own choices are
never overridden by a migration."""
from django.db import migrations

POLICY_V2 = {"escalate_at": 60.0, "negative_compound": -0.75, "weight_sentiment": 0.35,
             "weight_severity": 0.25, "weight_category": 0.1, "weight_complaint": 0.3, "min_complaint": 0.3,
             "signal_triggers": ["legal_threat", "safety_risk"], "unsupported_priority": 50.0}
EXPERIMENT_V2 = {"arms": [{"label": "A", "model": "triage", "weight": 100}], "shadow_model": "vader"}


def only_seeded(model) -> bool:
    return not model.objects.exclude(version=1, created_by=None).exists()


def seed(apps, schema_editor):
    EscalationPolicy = apps.get_model("triage_app", "EscalationPolicy")
    Experiment = apps.get_model("triage_app", "Experiment")
    if only_seeded(EscalationPolicy):
        EscalationPolicy.objects.get_or_create(version=2, defaults=POLICY_V2)
    if only_seeded(Experiment):
        Experiment.objects.get_or_create(version=2, defaults=EXPERIMENT_V2)


def unseed(apps, schema_editor):
    apps.get_model("triage_app", "EscalationPolicy").objects.filter(version=2, created_by=None).delete()
    apps.get_model("triage_app", "Experiment").objects.filter(version=2, created_by=None).delete()


class Migration(migrations.Migration):
    dependencies = [("triage_app", "0005_model_evidence_and_policy_triggers")]
    operations = [migrations.RunPython(seed, unseed)]
