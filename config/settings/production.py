"""A deployment (compose.yaml): the shared settings, and no start without a secret key
(a generated file would differ per container, and sessions with it)."""
from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from config.settings import base
from config.settings.base import *  # noqa: F403

if not base.SECRET_KEY:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set in production (config.settings.production)")
