"""compose.yaml cannot run here (no Docker engine); check it statically instead."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="Debian's docker-compose is not installed")
def test_compose_file_is_valid_and_names_every_service():
    env = {**os.environ, "DJANGO_SECRET_KEY": "compose-config-check"}
    result = subprocess.run(["docker-compose", "-f", str(ROOT / "compose.yaml"), "config", "--services"],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    services = set(result.stdout.split())
    assert {"kafka", "postgres", "redis", "scoring", "web", "relay", "listener", "stream"} <= services


def test_compose_publishes_the_web_port_on_loopback_only():
    env = {**os.environ, "DJANGO_SECRET_KEY": "compose-config-check"}
    result = subprocess.run(["docker-compose", "-f", str(ROOT / "compose.yaml"), "config"],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert "127.0.0.1" in result.stdout and "0.0.0.0:8000:8000" not in result.stdout
