"""next_check_at was indexed twice: by 0016's triage_queue_check_idx and by 0024's
triage_queue_next_check_idx (the model's). Every SLA write paid for both."""
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("triage_app", "0024_queue_due_indexes")]

    operations = [
        migrations.RunSQL("DROP INDEX IF EXISTS triage_queue_check_idx",
                          "CREATE INDEX IF NOT EXISTS triage_queue_check_idx ON triage_queue_entry (next_check_at)"),
    ]
