import json
from datetime import UTC, datetime

from ingest.producer import ComplaintPublisher, complaint_message, producer_config
from tests.fakes import FakeProducer


def test_config_is_idempotent_with_acks_all():
    config = producer_config(bootstrap="127.0.0.1:19092")
    assert config["bootstrap.servers"] == "127.0.0.1:19092"
    assert config["enable.idempotence"] is True
    assert config["acks"] == "all"


def test_message_follows_the_contract():
    value = json.loads(complaint_message(complaint_id="c-1", text="Broken héllo", source="web",
                                         submitted_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)))
    assert value == {"id": "c-1", "text": "Broken héllo", "source": "web",
                     "submitted_at": "2026-01-02T03:04:05+00:00"}


def test_publish_produces_keyed_utf8_and_polls_to_serve_callbacks():
    fake = FakeProducer()
    reports = []
    publisher = ComplaintPublisher(fake)
    publisher.publish(topic="complaints", key="id-1", value='{"x": "é"}',
                      on_delivery=lambda err, msg: reports.append((err, msg.key())))
    assert fake.polls == 1
    assert reports == [(None, b"id-1")]
    assert fake.delivered[0].value() == '{"x": "é"}'.encode()


def test_buffer_full_polls_then_retries_once():
    class FullOnce(FakeProducer):
        def __init__(self):
            super().__init__()
            self.full = True

        def produce(self, *args, **kwargs):
            if self.full:
                self.full = False
                raise BufferError("queue full")
            super().produce(*args, **kwargs)

    fake = FullOnce()
    ComplaintPublisher(fake).publish(topic="t", key="k", value="v", on_delivery=lambda e, m: None)
    assert len(fake.delivered) == 1


def test_close_stops_the_poll_thread_and_flushes():
    fake = FakeProducer()
    publisher = ComplaintPublisher(fake)
    publisher.start_polling(interval=0.01)
    fake.produce("t", value=b"v", key=b"k", on_delivery=None)
    assert publisher.close(timeout=1) == 0
    assert [m.key() for m in fake.delivered] == [b"k"]
