"""ingest/kafka_setup.py: the topics it asks the broker for (a stand-in admin client
records the request; the real broker is exercised by every `stack up`)."""
from __future__ import annotations

import pytest

from ingest import kafka_setup
from triage_core.config import addresses


class RecordingAdmin:
    """The two calls ensure_topics makes of confluent_kafka's AdminClient."""

    class Done:
        def result(self, timeout=None):
            return None

    def __init__(self, existing: set[str]):
        self.existing, self.created = existing, []

    def list_topics(self, timeout=None):
        return type("Metadata", (), {"topics": dict.fromkeys(self.existing)})()

    def create_topics(self, topics):
        self.created += topics
        return {t.topic: self.Done() for t in topics}


def test_missing_topics_are_created_replicated_with_their_min_insync():
    where = addresses()
    admin = RecordingAdmin(existing={where.kafka_topic})
    lines = list(kafka_setup.ensure_topics(admin, partitions=12, replication=3, min_insync=2))
    (topic,) = admin.created
    assert (topic.topic, topic.num_partitions, topic.replication_factor, topic.config) == (
        where.kafka_app_topic, 12, 3, {"min.insync.replicas": "2"})
    assert lines == [f"creating topic {where.kafka_app_topic!r} with 12 partitions, replication factor 3, "
                     "min.insync.replicas 2"]


@pytest.mark.parametrize("args", [["--replication-factor", "1", "--min-insync-replicas", "2"],
                                  ["--min-insync-replicas", "0"]])
def test_a_min_insync_the_replicas_cannot_meet_is_refused(args, capsys):
    with pytest.raises(SystemExit) as exit_:
        kafka_setup.main(args)
    assert exit_.value.code == 2 and "--min-insync-replicas must be between" in capsys.readouterr().err
