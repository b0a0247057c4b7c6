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
    env = {**os.environ, "DJANGO_SECRET_KEY": secrets.token_urlsafe(60), "TRIAGE_DEBUG": "0", **extra}
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
