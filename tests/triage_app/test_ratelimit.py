"""The per-client submission limit (on the cache; locmem in tests)."""
import pytest
from django.core.cache import cache
from redis.exceptions import ConnectionError as RedisConnectionError

from triage_app import ratelimit


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def test_the_limit_counts_per_client_and_says_when_to_retry():
    hits = [ratelimit.rate_limit_hit(scope="submit", client="1.2.3.4", limit=3, window_s=60) for _ in range(4)]
    assert hits[:3] == [0, 0, 0]
    assert 1 <= hits[3] <= 61
    assert ratelimit.rate_limit_hit(scope="submit", client="5.6.7.8", limit=3, window_s=60) == 0


def test_an_unreachable_cache_lets_submissions_in(monkeypatch, caplog):
    def down(*args, **kwargs):
        raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6380. Connection refused.")

    monkeypatch.setattr(ratelimit.cache, "add", down)
    assert ratelimit.rate_limit_hit(scope="submit", client="1.2.3.4", limit=1, window_s=60) == 0
    assert "rate limit not enforced" in caplog.text
