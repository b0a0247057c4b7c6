"""What `make up` runs: the shared settings, and a secret key that never lives in the
code. Debug mode uses a fixed development key; otherwise, without DJANGO_SECRET_KEY, one
is generated into var/django_secret_key (0600) on the first start, so a fresh machine
needs no set-up for it."""
from __future__ import annotations

import secrets

from config.settings import base
from config.settings.base import *  # noqa: F403
from triage_core.config import var_dir


def _local_secret_key() -> str:
    if base.SECRET_KEY:
        return base.SECRET_KEY
    if base.DEBUG:
        return "django-insecure-dev-only-key-never-used-without-TRIAGE_DEBUG"
    key_file = var_dir() / "django_secret_key"
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _local_secret_key()
