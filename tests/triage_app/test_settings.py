"""The deployment switch: TRIAGE_HTTPS=1 leaves Django's deployment check nothing to say."""
from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def deploy_check(**extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.production",
           "DJANGO_SECRET_KEY": secrets.token_urlsafe(60), "TRIAGE_DEBUG": "0", **extra}
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_https_mode_passes_the_deployment_check_and_plain_mode_does_not():
    """Mutant tried: SESSION_COOKIE_SECURE left out of the HTTPS block -> check --deploy
    reported security.W012 and the test failed."""
    secure = deploy_check(TRIAGE_HTTPS="1")
    assert secure.returncode == 0, secure.stdout + secure.stderr
    assert "System check identified no issues" in secure.stdout
    plain = deploy_check(TRIAGE_HTTPS="0")
    assert plain.returncode != 0 and "security.W012" in plain.stderr + plain.stdout


@pytest.mark.parametrize(("url", "expected"), [
    ("smtp://127.0.0.1:2525", {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": 2525, "EMAIL_HOST_USER": "",
                               "EMAIL_HOST_PASSWORD": "", "EMAIL_USE_SSL": False, "EMAIL_USE_TLS": False}),
    ("smtp://mailer:p%40ss@relay.example.com:587?starttls=1",
     {"EMAIL_HOST": "relay.example.com", "EMAIL_PORT": 587, "EMAIL_HOST_USER": "mailer",
      "EMAIL_HOST_PASSWORD": "p@ss", "EMAIL_USE_SSL": False, "EMAIL_USE_TLS": True}),
    ("smtps://relay.example.com", {"EMAIL_HOST": "relay.example.com", "EMAIL_PORT": 465, "EMAIL_HOST_USER": "",
                                   "EMAIL_HOST_PASSWORD": "", "EMAIL_USE_SSL": True, "EMAIL_USE_TLS": False}),
])
def test_the_smtp_url_becomes_djangos_mail_settings(url, expected):
    from config.settings.base import smtp_from_url

    assert smtp_from_url(url) == expected


@pytest.mark.parametrize("url", ["http://relay.example.com", "smtp://", "relay.example.com:25"])
def test_a_wrong_smtp_url_is_refused_by_name(url):
    from django.core.exceptions import ImproperlyConfigured

    from config.settings.base import smtp_from_url

    with pytest.raises(ImproperlyConfigured, match="TRIAGE_SMTP_URL"):
        smtp_from_url(url)
