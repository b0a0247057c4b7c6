"""Fixed-window rate limit per client on the shared cache (Redis in production, so
every ASGI worker counts the same window)."""
from __future__ import annotations

import logging
import time

from django.core.cache import cache
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


def _count(key: str, window_s: int) -> int:
    # add() is atomic set-if-absent, incr() atomic increment: no read-modify-write race.
    if cache.add(key, 1, timeout=window_s + 1):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.add(key, 1, timeout=window_s + 1)
        return 1


def rate_limit_hit(*, scope: str, client: str, limit: int, window_s: int) -> int:
    """Count one request; 0 when allowed, else seconds until the window reopens."""
    if limit <= 0:
        return 0
    window = int(time.time() // window_s)
    key = f"ratelimit:{scope}:{client}:{window}"
    try:
        count = _count(key, window_s)
    except RedisError as exc:
        # The limiter's store is down: let the complaint in (it is stored in Postgres, not
        # Redis) rather than turn away every customer; the outage is logged.
        log.warning("rate limit not enforced, its cache is unreachable: %s", exc)
        return 0
    if count <= limit:
        return 0
    return max(1, int((window + 1) * window_s - time.time()) + 1)
