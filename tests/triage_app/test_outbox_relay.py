import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from ingest.producer import ComplaintPublisher
from tests.fakes import FakeProducer
from triage_app.management.commands import outbox_relay as relay
from triage_app.models import OutboxEntry
from triage_app.services import complaint_submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(fake_app_producer, django_capture_on_commit_callbacks):
    """Three complaints whose after-commit publish failed (broker down)."""
    fake_app_producer.fail_with = "Local: Broker transport failure"
    with django_capture_on_commit_callbacks(execute=True):
        complaints = [complaint_submit(text=f"complaint {i} while Kafka was down", email=None, source="api")
                      for i in range(3)]
    assert len(fake_app_producer.pending) == 0 and not fake_app_producer.delivered
    OutboxEntry.objects.update(created_at=timezone.now() - timedelta(minutes=1))
    return complaints


@pytest.fixture
def fake_app_producer(monkeypatch):
    from ingest import producer as producer_module

    fake = FakeProducer()
    producer_module.set_publisher(ComplaintPublisher(fake))
    yield fake
    producer_module.set_publisher(None)


def test_once_publishes_pending_entries_and_marks_them_on_delivery(pending):
    fake = FakeProducer()
    sent = relay.run(publisher=ComplaintPublisher(fake), once=True)
    assert sent == 3
    assert sorted(m.key().decode() for m in fake.delivered) == sorted(str(c.id) for c in pending)
    assert OutboxEntry.objects.filter(published_at__isnull=True).count() == 0
    assert relay.run(publisher=ComplaintPublisher(fake), once=True) == 0


def test_unreachable_kafka_leaves_entries_pending(pending):
    fake = FakeProducer(reachable=False)
    assert relay.run(publisher=ComplaintPublisher(fake), once=True) == 0
    assert OutboxEntry.objects.filter(published_at__isnull=True).count() == 3


def test_failed_delivery_keeps_entry_pending_for_the_next_pass(pending):
    failing = FakeProducer(fail_with="Local: Message timed out")
    relay.run(publisher=ComplaintPublisher(failing), once=True)
    assert OutboxEntry.objects.filter(published_at__isnull=True).count() == 3
    assert set(OutboxEntry.objects.values_list("attempts", flat=True)) == {2}
    relay.run(publisher=ComplaintPublisher(FakeProducer()), once=True)
    assert OutboxEntry.objects.filter(published_at__isnull=True).count() == 0


def test_fresh_entries_are_left_to_the_web_app(fake_app_producer):
    fake_app_producer.fail_with = "not yet"
    complaint_submit(text="just submitted a second ago", email=None, source="web")
    fake = FakeProducer()
    assert relay.run(publisher=ComplaintPublisher(fake), once=True, grace_s=10) == 0
    assert relay.run(publisher=ComplaintPublisher(fake), once=True, grace_s=0) == 1


def test_run_stops_when_asked(pending):
    stop = threading.Event()
    stop.set()
    assert relay.run(publisher=ComplaintPublisher(FakeProducer()), once=False, stop=stop) == 0


def test_the_command_is_runnable():
    result = subprocess.run([sys.executable, "manage.py", "outbox_relay", "--help"], capture_output=True,
                            text=True, timeout=60, cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 0 and "--once" in result.stdout


def test_a_database_outage_costs_a_pass_not_the_relay(pending, monkeypatch):
    from django.db import OperationalError

    real_pass = relay.relay_pass
    calls = []
    stop = threading.Event()

    def flaky_pass(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("terminating connection due to unexpected postmaster exit")
        result = real_pass(**kwargs)
        stop.set()
        return result

    monkeypatch.setattr(relay, "relay_pass", flaky_pass)
    fake = FakeProducer()
    sent = relay.run(publisher=ComplaintPublisher(fake), once=False, interval_s=0.01, stop=stop)
    assert len(calls) == 2
    assert sent == 3
    assert OutboxEntry.objects.filter(published_at__isnull=True).count() == 0
