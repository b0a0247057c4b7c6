"""compose.yaml cannot run here (no Docker engine); check it statically instead."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# What a deployment must set (compose.yaml refuses to start without them).
REQUIRED = {"DJANGO_SECRET_KEY": "compose-config-check", "TRIAGE_SMTP_URL": "smtp://relay.example.com:587",
            "TRIAGE_MAIL_DOMAIN": "complaints.example.com", "TRIAGE_PUBLIC_URL": "https://complaints.example.com",
            "POSTGRES_PASSWORD": "pg-secret", "REDIS_PASSWORD": "redis-secret", "TRIAGE_SCORING_TOKEN": "token",
            "TRIAGE_KAFKA_ADMIN_PASSWORD": "k-admin", "TRIAGE_KAFKA_APP_PASSWORD": "k-app",
            "TRIAGE_KAFKA_LOADER_PASSWORD": "k-loader", "TRIAGE_KAFKA_STREAM_PASSWORD": "k-stream"}


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="Debian's docker-compose is not installed")
def test_compose_file_is_valid_and_names_every_service():
    env = {**os.environ, **REQUIRED}
    result = subprocess.run(["docker-compose", "-f", str(ROOT / "compose.yaml"), "config", "--services"],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    services = set(result.stdout.split())
    assert {"kafka", "postgres", "redis", "scoring", "web", "relay", "listener", "mailer", "inbound",
            "stream", "sla", "alerts", "reports", "kafka-setup"} <= services


def test_compose_publishes_the_web_port_on_loopback_only():
    env = {**os.environ, **REQUIRED}
    result = subprocess.run(["docker-compose", "-f", str(ROOT / "compose.yaml"), "config"],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert "127.0.0.1" in result.stdout and "0.0.0.0:8000:8000" not in result.stdout


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="Debian's docker-compose is not installed")
@pytest.mark.parametrize("missing", ["TRIAGE_MAIL_DOMAIN", "POSTGRES_PASSWORD", "REDIS_PASSWORD",
                                     "TRIAGE_SCORING_TOKEN", "TRIAGE_KAFKA_ADMIN_PASSWORD",
                                     "TRIAGE_KAFKA_APP_PASSWORD", "TRIAGE_KAFKA_STREAM_PASSWORD"])
def test_compose_refuses_to_run_without_its_secrets_and_mail_settings(missing):
    """No default password anywhere: a deployment that forgot one does not start."""
    env = {k: v for k, v in {**os.environ, **REQUIRED}.items() if k != missing}
    result = subprocess.run(["docker-compose", "-f", str(ROOT / "compose.yaml"), "config"],
                            capture_output=True, text=True, env=env)
    assert result.returncode != 0 and missing in result.stderr


def test_compose_gives_each_kafka_role_its_password_only():
    """The web app and relay hold the app's Kafka password, the stream the stream's, the
    set-up all of them; no other service holds one (the README's Security section)."""
    import yaml

    env = {**os.environ, **REQUIRED}
    result = subprocess.run(["docker-compose", "-f", str(ROOT / "compose.yaml"), "config"],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]

    def passwords(name: str) -> set[str]:
        environment = services[name].get("environment") or {}
        return {k for k in environment if k.startswith("TRIAGE_KAFKA_") and k.endswith("_PASSWORD")}

    assert passwords("web") == passwords("relay") == {"TRIAGE_KAFKA_APP_PASSWORD"}
    assert passwords("stream") == {"TRIAGE_KAFKA_STREAM_PASSWORD"}
    assert passwords("kafka-setup") == {f"TRIAGE_KAFKA_{r}_PASSWORD" for r in ("ADMIN", "APP", "LOADER", "STREAM")}
    assert all(not passwords(name) for name in ("scoring", "listener", "mailer", "inbound", "migrate", "sla",
                                                           "reports"))
    assert "SASL_PLAINTEXT" in services["kafka"]["environment"]["KAFKA_LISTENERS"]


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="Debian's docker-compose is not installed")
def test_every_long_running_service_restarts_by_itself_and_has_a_healthcheck():
    import yaml

    env = {**os.environ, **REQUIRED}
    result = subprocess.run(["docker-compose", "-f", str(ROOT / "compose.yaml"), "config"],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    one_shots = {"migrate", "kafka-setup"}
    for name, service in services.items():
        if name in one_shots:
            assert "restart" not in service, name
            continue
        assert service.get("restart") == "unless-stopped", name
        assert service.get("healthcheck", {}).get("test"), name
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="Debian's docker-compose is not installed")
def test_the_cluster_override_adds_three_brokers_a_spark_cluster_and_balanced_scoring():
    import yaml

    env = {**os.environ, **REQUIRED, "TRIAGE_KAFKA_CLUSTER_ID": "MkU3OEVBNTcwNTJENDM2Qk"}
    files = ["-f", str(ROOT / "compose.yaml"), "-f", str(ROOT / "compose.cluster.yaml")]
    result = subprocess.run(["docker-compose", *files, "config"], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    brokers = [services[name]["environment"] for name in ("kafka", "kafka-2", "kafka-3")]
    assert [str(b["KAFKA_NODE_ID"]) for b in brokers] == ["1", "2", "3"]
    assert {b["KAFKA_CONTROLLER_QUORUM_VOTERS"] for b in brokers} == {"1@kafka:9093,2@kafka-2:9093,3@kafka-3:9093"}
    assert {str(b["KAFKA_MIN_INSYNC_REPLICAS"]) for b in brokers} == {"2"}
    assert "--replication-factor" in services["kafka-setup"]["command"]
    assert "spark://spark-master:7077" in " ".join(services["stream"]["command"])
    assert services["stream"]["environment"]["TRIAGE_SCORING_URL"] == "http://scoring-balancer:9000"
    assert {"spark-worker-1", "spark-worker-2", "scoring-2", "scoring-balancer"} <= set(services)
    for name, service in services.items():
        if name not in ("migrate", "kafka-setup"):
            assert service.get("restart") == "unless-stopped" and service.get("healthcheck"), name
    # The stack's own balancer and the cluster's agree on what a healthy replica is: both
    # read the same defaults file before their own servers.
    config = (ROOT / "infra" / "haproxy" / "scoring-defaults.cfg").read_text()
    assert "option httpchk GET /readyz" in config and "retry-on conn-failure" in config
    assert "scoring-defaults.cfg" in " ".join(services["scoring-balancer"]["command"])
