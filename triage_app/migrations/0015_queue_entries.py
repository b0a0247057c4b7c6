"""The queue's place and SLA clocks of each open complaint move to a narrow table of their
own (triage_queue_entry, models.QueueEntry), kept current by the database itself.

Each statement that writes scores (the stream's upsert, a policy re-rank, anything
else) makes the complaint's entry at least its score's own rank, priority +
triage_core.sla.ESCALATED_BONUS when escalated: one set-based INSERT ... ON CONFLICT per
statement, from the statement's transition table. A resolved complaint's new score
(never the stream's: it scores only new and revised texts) does not put it back in the
queue. The SLA worker then sets the exact rank, with waiting time and SLA state."""
import django.db.models.deletion
from django.db import migrations, models

from triage_core.sla import ESCALATED_BONUS

FRESH = f"n.priority + CASE WHEN n.escalated THEN {ESCALATED_BONUS} ELSE 0 END"

FUNCTION = f"""
CREATE OR REPLACE FUNCTION triage_score_enters_queue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO triage_queue_entry (complaint_id, queue_rank, sla_reason)
    SELECT n.complaint_id, {FRESH}, ''
    FROM new_scores n JOIN triage_complaint c ON c.id = n.complaint_id
    WHERE c.status <> 'resolved'
    ON CONFLICT (complaint_id) DO UPDATE SET queue_rank = GREATEST(triage_queue_entry.queue_rank, EXCLUDED.queue_rank)
    WHERE triage_queue_entry.queue_rank < EXCLUDED.queue_rank;
    RETURN NULL;
END $$"""

FORWARD = ";\n".join([
    FUNCTION,
    # Transition tables allow one event per trigger: one for inserts, one for updates
    # (INSERT ... ON CONFLICT DO UPDATE fires both, each with its own rows).
    "CREATE TRIGGER triage_score_queue_on_insert AFTER INSERT ON triage_score REFERENCING NEW TABLE AS new_scores"
    " FOR EACH STATEMENT EXECUTE FUNCTION triage_score_enters_queue()",
    "CREATE TRIGGER triage_score_queue_on_update AFTER UPDATE ON triage_score REFERENCING NEW TABLE AS new_scores"
    " FOR EACH STATEMENT EXECUTE FUNCTION triage_score_enters_queue()",
    # What the SLA worker had written on the complaint rows (migration 0013), and the
    # fresh rank of every other open scored complaint.
    f"INSERT INTO triage_queue_entry (complaint_id, queue_rank, first_reply_due, resolution_due, sla_state,"
    f" sla_reason, sla_version)"
    f" SELECT c.id, GREATEST(COALESCE(c.queue_rank, 0), {FRESH}), c.first_reply_due, c.resolution_due, c.sla_state,"
    f" c.sla_reason, c.sla_version FROM triage_complaint c JOIN triage_score n ON n.complaint_id = c.id"
    f" WHERE c.status <> 'resolved'",
])
BACKWARD = ";\n".join([
    "DROP TRIGGER IF EXISTS triage_score_queue_on_update ON triage_score",
    "DROP TRIGGER IF EXISTS triage_score_queue_on_insert ON triage_score",
    "DROP FUNCTION IF EXISTS triage_score_enters_queue()",
])


class Migration(migrations.Migration):
    dependencies = [("triage_app", "0014_corrections")]

    operations = [
        migrations.CreateModel(
            name="QueueEntry",
            fields=[
                ("complaint", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True,
                                                   related_name="queue", serialize=False, to="triage_app.complaint")),
                ("queue_rank", models.FloatField()),
                ("first_reply_due", models.DateTimeField(blank=True, null=True)),
                ("resolution_due", models.DateTimeField(blank=True, null=True)),
                ("sla_state", models.CharField(blank=True, max_length=16, null=True)),
                ("sla_reason", models.CharField(blank=True, db_default="", default="", max_length=120)),
                ("sla_version", models.IntegerField(blank=True, null=True)),
            ],
            options={
                "db_table": "triage_queue_entry",
                "indexes": [models.Index(models.OrderBy(models.F("queue_rank"), descending=True),
                                         name="triage_queue_rank_idx")],
            },
        ),
        migrations.RunSQL(FORWARD, BACKWARD),
        *(migrations.RemoveField(model_name="complaint", name=name)
          for name in ("first_reply_due", "queue_rank", "resolution_due", "sla_reason", "sla_state", "sla_version")),
    ]
