"""The unit tests (pytest's DJANGO_SETTINGS_MODULE): one process, so the channel layer and
the cache live in memory instead of Redis. Postgres stays real
(TRIAGE_DATABASE_URL); the end-to-end and browser suites run the real stack with
config.settings.local. Password hashing stays the real one: the browser tests' daphne
(local settings) logs in users these tests created."""
from __future__ import annotations

from config.settings.base import *  # noqa: F403

SECRET_KEY = "test-only-key-of-the-unit-tests"
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
