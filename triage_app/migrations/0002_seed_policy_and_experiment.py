"""Version 1 of the escalation policy and of the experiment, so the stream has a current
row to read from the first start. Values are written out rather than imported from
triage_core, so a later change of the defaults there cannot rewrite history."""
from django.db import migrations

POLICY_V1 = {"escalate_at": 60.0, "negative_compound": -0.75, "weight_sentiment": 0.6,
             "weight_severity": 0.3, "weight_category": 0.1}
EXPERIMENT_V1_ARMS = [{"label": "A", "model": "vader", "weight": 100}]


def seed(apps, schema_editor):
    EscalationPolicy = apps.get_model("triage_app", "EscalationPolicy")
    Experiment = apps.get_model("triage_app", "Experiment")
    EscalationPolicy.objects.get_or_create(version=1, defaults=POLICY_V1)
    Experiment.objects.get_or_create(version=1, defaults={"arms": EXPERIMENT_V1_ARMS, "shadow_model": None})


def unseed(apps, schema_editor):
    apps.get_model("triage_app", "EscalationPolicy").objects.filter(version=1, created_by=None).delete()
    apps.get_model("triage_app", "Experiment").objects.filter(version=1, created_by=None).delete()


class Migration(migrations.Migration):
    dependencies = [("triage_app", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
