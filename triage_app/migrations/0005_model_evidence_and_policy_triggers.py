"""triage 2.0's evidence on every score (language, complaint probability), and the
policy fields that decide on it: a complaint weight, the least complaint probability the
sentiment rule and signal triggers apply to, signals that escalate whatever the tone,
and the priority of a text in a language no model reads.

Existing policy versions keep their behaviour: weight 0 and min 0 change nothing, and
no signal triggered before."""
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("triage_app", "0004_queue_order_index")]
    operations = [
        migrations.AddField("score", "language", models.CharField(max_length=16, null=True, blank=True)),
        migrations.AddField("score", "complaint_probability", models.FloatField(null=True, blank=True)),
        migrations.AddField("shadowscore", "language", models.CharField(max_length=16, null=True, blank=True)),
        migrations.AddField("shadowscore", "complaint_probability", models.FloatField(null=True, blank=True)),
        migrations.AddField("escalationpolicy", "weight_complaint", models.FloatField(db_default=0.0)),
        migrations.AddField("escalationpolicy", "min_complaint", models.FloatField(db_default=0.0)),
        migrations.AddField("escalationpolicy", "signal_triggers", models.JSONField(default=list, db_default=[])),
        migrations.AddField("escalationpolicy", "unsupported_priority", models.FloatField(db_default=50.0)),
    ]
