"""Generated secrets of a local stack (triage_core.credentials) and how the addresses use them."""
from __future__ import annotations

import stat
import threading

import pytest

from triage_core import config, credentials


@pytest.fixture(autouse=True)
def _fresh_cache():
    credentials.generated.cache_clear()
    yield
    credentials.generated.cache_clear()


def test_a_secret_is_made_once_private_and_kept(tmp_path):
    first = credentials.generated("postgres_password", var=tmp_path)
    credentials.generated.cache_clear()
    assert credentials.generated("postgres_password", var=tmp_path) == first
    assert len(first) >= 40 and first != credentials.generated("redis_password", var=tmp_path)
    path = tmp_path / "secrets" / "postgres_password"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "secrets").stat().st_mode) == 0o700
    assert [p.name for p in (tmp_path / "secrets").iterdir() if p.name.startswith(".")] == []  # no temp left


def test_processes_starting_at_once_agree_on_one_secret(tmp_path):
    seen: list[str] = []

    def read():
        seen.append(credentials.generated.__wrapped__("scoring_token", var=tmp_path))
    threads = [threading.Thread(target=read) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(seen)) == 1


@pytest.mark.parametrize(("url", "filled"), [
    ("postgresql://triage@127.0.0.1:5433/triage", True),
    ("redis://triage@127.0.0.1:6380/0", True),
    ("postgresql://triage:given@db:5432/triage", False),   # a deployment's own password
    ("redis://redis:6379/0", False),                       # no user named: nothing to fill
])
def test_a_url_naming_a_user_and_no_password_gets_the_generated_one(tmp_path, url, filled):
    result = credentials.with_generated_password(url, secret="postgres_password", var=tmp_path)
    if filled:
        password = credentials.generated("postgres_password", var=tmp_path)
        assert result == url.replace("triage@", f"triage:{password}@")
    else:
        assert result == url


def test_the_defaults_log_in_with_generated_secrets(tmp_path, monkeypatch):
    for name in ("TRIAGE_DATABASE_URL", "TRIAGE_REDIS_URL", "TRIAGE_SCORING_TOKEN", "SCORING_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TRIAGE_VAR_DIR", str(tmp_path))
    where = config.addresses()
    secrets = {p.name: p.read_text() for p in (tmp_path / "secrets").iterdir()}
    assert where.database_url == f"postgresql://triage:{secrets['postgres_password']}@127.0.0.1:5433/triage"
    assert where.redis_url == f"redis://triage:{secrets['redis_password']}@127.0.0.1:6380/0"
    assert where.scoring_token == secrets["scoring_token"]
    assert "triage:triage@" not in where.database_url  # the old documented default is gone


def test_a_deployment_token_wins_and_the_old_name_still_works(tmp_path, monkeypatch):
    monkeypatch.setenv("TRIAGE_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("TRIAGE_SCORING_TOKEN", raising=False)
    monkeypatch.setenv("SCORING_TOKEN", "legacy")
    assert config.addresses().scoring_token == "legacy"
    monkeypatch.setenv("TRIAGE_SCORING_TOKEN", "deploy")
    assert config.addresses().scoring_token == "deploy"
    assert not (tmp_path / "secrets" / "scoring_token").exists()


def test_the_streams_kafka_login_is_a_scram_jaas_line_with_its_password_escaped(monkeypatch, tmp_path):
    """Spark's connector takes the login as one JAAS line: a quote or backslash in a
    deployment's password must not end the value early."""
    monkeypatch.setenv("TRIAGE_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("TRIAGE_KAFKA_STREAM_PASSWORD", 'pa"ss\\word')
    monkeypatch.delenv("TRIAGE_KAFKA_SECURITY_PROTOCOL", raising=False)
    options = config.spark_kafka_options("stream")
    assert options["kafka.security.protocol"] == "SASL_PLAINTEXT"
    assert options["kafka.sasl.mechanism"] == "SCRAM-SHA-512"
    assert options["kafka.sasl.jaas.config"] == (
        'org.apache.kafka.common.security.scram.ScramLoginModule required '
        'username="stream" password="pa\\"ss\\\\word";')
    assert config.jaas_login("M", a="1", user_b="2") == 'M required a="1" user_b="2";'


def test_an_unknown_kafka_role_is_refused_by_name():
    with pytest.raises(ValueError, match="unknown Kafka role 'web'"):
        config.kafka_login("web")
