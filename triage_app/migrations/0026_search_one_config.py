"""Full text in one configuration (triage_app/selectors/search.py): `russian` stems
Cyrillic words with the Russian stemmer and Latin-letter words with the English one, so
the `english` indexes of migration 0012 only repeated it for English text. Each
complaint the stream stored paid for both full-text indexes, a third of its insert."""
from django.db import migrations

EVENT_KINDS = "'note', 'reply', 'customer_reply'"


class Migration(migrations.Migration):
    dependencies = [("triage_app", "0025_queue_check_index_once")]

    operations = [
        migrations.RunSQL("DROP INDEX IF EXISTS triage_complaint_fts_en",
                          "CREATE INDEX IF NOT EXISTS triage_complaint_fts_en ON triage_complaint "
                          "USING gin (to_tsvector('english', text))"),
        migrations.RunSQL("DROP INDEX IF EXISTS triage_event_fts_en",
                          "CREATE INDEX IF NOT EXISTS triage_event_fts_en ON triage_complaint_event "
                          f"USING gin (to_tsvector('english', body)) WHERE kind IN ({EVENT_KINDS})"),
    ]
