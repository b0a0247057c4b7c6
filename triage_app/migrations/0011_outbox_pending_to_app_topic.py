"""Pending outbox entries move to the app's own Kafka topic.

Since Kafka asks for logins (the README's Security section) the app may write only its own topic
(TRIAGE_KAFKA_APP_TOPIC); entries owed before that named the loaders' topic and would
be refused for ever. Published entries keep the topic they went to."""
from django.db import migrations


def to_app_topic(apps, schema_editor):
    from triage_core.config import addresses

    where = addresses()
    apps.get_model("triage_app", "OutboxEntry").objects.filter(
        published_at__isnull=True, topic=where.kafka_topic).update(topic=where.kafka_app_topic)


class Migration(migrations.Migration):
    dependencies = [("triage_app", "0010_score_revision_and_outbox_per_message")]
    operations = [migrations.RunPython(to_app_topic, migrations.RunPython.noop)]
