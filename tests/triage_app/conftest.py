from __future__ import annotations

import pytest
from channels.layers import channel_layers
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.utils import translation

from ingest import producer as producer_module
from tests.fakes import FakeProducer
from triage_app import ratelimit


@pytest.fixture(autouse=True)
def _fresh_channel_layer_and_cache():
    """Every test starts with an empty in-memory channel layer and cache (the test
    settings' one-process stand-ins for Redis: config.settings.test)."""
    channel_layers.backends.clear()
    cache.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the default language: a view that activates a customer's
    language (the tracking page of a Russian complaint) leaves it active in this thread
    after the response, and a later test's services would then write Russian."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def fake_producer():
    """The app's Kafka publisher, backed by a fake producer that delivers on poll."""
    fake = FakeProducer()
    producer_module.set_publisher(producer_module.ComplaintPublisher(fake))
    yield fake
    producer_module.set_publisher(None)


class LimiterClock:
    """Stands in for the `time` module the rate limiter reads; a test moves `now`."""

    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


@pytest.fixture
def limiter_clock(monkeypatch):
    """The rate limiter's clock, fixed 15 s into a 60 s window (window 1,000 since the
    epoch): on the wall clock a test that lands near a window's end sees its count reset
    halfway, and cannot know how many seconds Retry-After should say."""
    clock = LimiterClock(60_015.0)
    monkeypatch.setattr(ratelimit, "time", clock)
    return clock


@pytest.fixture
def staff_user(db):
    return get_user_model().objects.create_user(username="alice", password="pw-alice-123", is_staff=True)


@pytest.fixture
def other_staff(db):
    return get_user_model().objects.create_user(username="bob", password="pw-bob-123", is_staff=True)


@pytest.fixture
def admin_user(db):
    return get_user_model().objects.create_superuser(username="root", password="pw-root-123")


@pytest.fixture
def customer_user(db):
    return get_user_model().objects.create_user(username="carol", password="pw-carol-123")
