"""GIN indexes for staff search (triage_app/selectors/search.py): the text of each
complaint and the bodies of its notes, replies and customer messages, each in both
text-search configurations the product serves. The expressions are the ones the search
query spells, so that the planner can use them."""
from django.db import migrations

CONFIGS = {"en": "english", "ru": "russian"}
EVENT_KINDS = "'note', 'reply', 'customer_reply'"


def _indexes() -> list[migrations.RunSQL]:
    operations = []
    for short, config in CONFIGS.items():
        operations.append(migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS triage_complaint_fts_{short} ON triage_complaint "
            f"USING gin (to_tsvector('{config}', text))",
            f"DROP INDEX IF EXISTS triage_complaint_fts_{short}"))
        operations.append(migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS triage_event_fts_{short} ON triage_complaint_event "
            f"USING gin (to_tsvector('{config}', body)) WHERE kind IN ({EVENT_KINDS})",
            f"DROP INDEX IF EXISTS triage_event_fts_{short}"))
    return operations


class Migration(migrations.Migration):
    dependencies = [("triage_app", "0011_outbox_pending_to_app_topic")]
    operations = _indexes()
