import json
from datetime import UTC, datetime

from ingest.producer import ComplaintPublisher, complaint_message, producer_config
from tests.fakes import FakeProducer


def test_config_is_idempotent_with_acks_all():
    config = producer_config(role="loader", bootstrap="127.0.0.1:19092")
    assert config["bootstrap.servers"] == "127.0.0.1:19092"
    assert config["enable.idempotence"] is True
    assert config["acks"] == "all"


def test_config_logs_in_with_scram_as_its_role(tmp_path, monkeypatch):
    monkeypatch.setenv("TRIAGE_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("TRIAGE_KAFKA_APP_PASSWORD", raising=False)
    monkeypatch.delenv("TRIAGE_KAFKA_SECURITY_PROTOCOL", raising=False)
    app, loader = producer_config(role="app"), producer_config(role="loader")
    assert (app["security.protocol"], app["sasl.mechanism"], app["sasl.username"]) == (
        "SASL_PLAINTEXT", "SCRAM-SHA-512", "app")
    assert loader["sasl.username"] == "loader"
    # Each role's password is its own, generated into the stack's secrets (0600).
    secret = tmp_path / "secrets" / "kafka_app_password"
    assert app["sasl.password"] == secret.read_text().strip() != loader["sasl.password"]
    assert secret.stat().st_mode & 0o777 == 0o600


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


def test_a_deployment_gives_a_role_its_own_password(monkeypatch, tmp_path):
    monkeypatch.setenv("TRIAGE_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("TRIAGE_KAFKA_LOADER_PASSWORD", "from-the-vault")
    assert producer_config(role="loader")["sasl.password"] == "from-the-vault"
    assert not (tmp_path / "secrets" / "kafka_loader_password").exists()


def test_an_open_broker_gets_no_login(monkeypatch):
    monkeypatch.setenv("TRIAGE_KAFKA_SECURITY_PROTOCOL", "plaintext")
    config = producer_config(role="app")
    assert config["security.protocol"] == "PLAINTEXT" and "sasl.password" not in config
