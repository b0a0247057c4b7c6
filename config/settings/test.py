"""The unit tests (pytest's DJANGO_SETTINGS_MODULE): one process, so the channel layer and
the cache live in memory instead of Redis, and passwords hash fast. Postgres stays real
(TRIAGE_DATABASE_URL); the end-to-end and browser suites run the real stack with
config.settings.local."""
from __future__ import annotations

from config.settings.base import *  # noqa: F403

SECRET_KEY = "test-only-key-of-the-unit-tests"
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Logins in tests need no resistance to offline guessing; the default hasher costs ~0.3 s.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
