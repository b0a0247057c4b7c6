"""The pipeline health page's Kafka lag: end offsets minus what the stream has written."""
from __future__ import annotations

from types import SimpleNamespace

import confluent_kafka
import pytest

from tests.triage_app.factories import complaint_make, score_make
from triage_app import health, selectors
from triage_app.health import PartitionLag
from triage_app.models import DeadLetter, Score


def test_lag_is_the_end_offset_minus_the_next_offset_to_write():
    """Partition 0 wrote offsets 0..9 of 10: no lag. Partition 1 wrote up to 4 of 10: 5
    wait (5..9). Partition 2 wrote nothing: all 7 wait. Partition 3 is empty. Mutant
    tried: `done + 1` made `done` -> lags 1, 6, 7, 0; the test failed."""
    lags = health.partition_lags(topic="complaints", end_offsets={1: 10, 0: 10, 2: 7, 3: 0},
                                 processed_offsets={("complaints", 0): 9, ("complaints", 1): 4})
    assert lags == [PartitionLag(topic="complaints", partition=0, end_offset=10, processed_offset=9, lag=0),
                    PartitionLag(topic="complaints", partition=1, end_offset=10, processed_offset=4, lag=5),
                    PartitionLag(topic="complaints", partition=2, end_offset=7, processed_offset=None, lag=7),
                    PartitionLag(topic="complaints", partition=3, end_offset=0, processed_offset=None, lag=0)]


def test_offsets_of_another_topic_do_not_count_and_a_processed_offset_past_the_end_is_no_lag():
    """A recreated topic restarts its offsets below what the stream wrote before. Mutant
    tried: the `max(0, lag)` clamp removed -> partition 0 showed lag -5; the test failed."""
    lags = health.partition_lags(topic="complaints", end_offsets={0: 3, 1: 4},
                                 processed_offsets={("complaints", 0): 7, ("other-topic", 1): 3})
    assert [(p.partition, p.processed_offset, p.lag) for p in lags] == [(0, 7, 0), (1, None, 4)]


class FakeConsumer:
    """confluent_kafka.Consumer as the probe uses it: topic metadata and watermarks."""

    def __init__(self, config: dict) -> None:
        self.config = config

    def list_topics(self, topic, timeout):
        partitions = {0: object(), 1: object()} if topic == "complaints" else {0: object()}
        return SimpleNamespace(topics={topic: SimpleNamespace(error=None, partitions=partitions)})

    def get_watermark_offsets(self, partition, timeout):
        # (low, high): the lag counts from high
        return {("complaints", 0): (3, 120), ("complaints", 1): (0, 40),
                ("complaints_app", 0): (0, 5)}[(partition.topic, partition.partition)]

    def close(self) -> None:
        pass


def test_the_probe_reads_each_partitions_high_watermark_and_sums_the_lags(monkeypatch):
    """Mutant tried: the watermark's `[1]` (high) made `[0]` (low) -> lags 0 and 0, total
    0; the test failed."""
    monkeypatch.setenv("TRIAGE_KAFKA_TOPIC", "complaints")
    monkeypatch.delenv("TRIAGE_KAFKA_APP_TOPIC", raising=False)
    monkeypatch.setattr(confluent_kafka, "Consumer", FakeConsumer)
    result = health.kafka_lag(processed_offsets={("complaints", 0): 99, ("complaints", 1): 39,
                                                 ("complaints_app", 0): 1})
    assert (result["ok"], result["total_lag"]) == (True, 23)
    assert [(p.topic, p.partition, p.end_offset, p.lag) for p in result["partitions"]] == [
        ("complaints", 0, 120, 20), ("complaints", 1, 40, 0), ("complaints_app", 0, 5, 3)]


@pytest.mark.django_db
def test_the_processed_offset_of_a_partition_is_the_highest_score_or_dead_letter_in_it():
    """A dead letter is a record the stream is done with too. Partition 0: scores at 5
    and 8, a dead letter at 11 -> 11. Partition 1: only a score at 2. Partition 2: only a
    dead letter at 30. Mutant tried: the dead-letter loop's `max(processed.get(key, -1),
    ...)` replaced by the score's offset alone (dead letters ignored where a score exists)
    -> partition 0 was 8; the test failed."""
    for partition, offset in [(0, 5), (0, 8), (1, 2)]:
        score = score_make(complaint=complaint_make())
        Score.objects.filter(pk=score.pk).update(kafka_partition=partition, kafka_offset=offset)
    for partition, offset in [(0, 11), (2, 30)]:
        DeadLetter.objects.create(topic="complaints", partition=partition, offset=offset, reason="unparseable_json",
                                  detail="", raw_value=b"x")
    processed = selectors.pipeline_db_health()["processed_offsets"]
    assert processed == {("complaints", 0): 11, ("complaints", 1): 2, ("complaints", 2): 30}
