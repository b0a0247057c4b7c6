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


def hit(client: str) -> int:
    return ratelimit.rate_limit_hit(scope="submit", client=client, limit=3, window_s=60)


def test_the_limit_counts_per_client_and_says_when_to_retry(limiter_clock):
    """The clock starts 15 s into a 60 s window (the limiter_clock fixture).

    Mutants tried: Retry-After always the whole window (`return window_s`): the 46 s
    assertion failed; the window left out of the cache key: the count never reset and the
    assertion after the window's end failed."""
    assert [hit("1.2.3.4") for _ in range(4)] == [0, 0, 0, 46]  # 45 s left, rounded up, +1
    assert hit("5.6.7.8") == 0
    limiter_clock.now += 44.5
    assert hit("1.2.3.4") == 1
    limiter_clock.now += 1  # the next window
    assert hit("1.2.3.4") == 0


def test_an_unreachable_cache_lets_submissions_in(monkeypatch, caplog):
    def down(*args, **kwargs):
        raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6380. Connection refused.")

    monkeypatch.setattr(ratelimit.cache, "add", down)
    assert ratelimit.rate_limit_hit(scope="submit", client="1.2.3.4", limit=1, window_s=60) == 0
    assert "rate limit not enforced" in caplog.text
