"""The service as deployed: `python -m scoring_service` under gunicorn (gthread)."""
from __future__ import annotations

import http.client
import json
from urllib.parse import urlparse

import pytest

from scoring_service.__main__ import gunicorn_argv
from scoring_service.local_server import running_service
from triage_core.config import addresses, scoring_server


def test_cli_builds_a_loopback_gthread_command():
    argv = gunicorn_argv(["--port", "9123", "--workers", "3"])
    assert argv[argv.index("--bind") + 1] == "127.0.0.1:9123"
    assert argv[argv.index("--workers") + 1] == "3"
    assert argv[-1] == "scoring_service.app:create_app()"


def test_server_settings_follow_the_triage_prefix(monkeypatch):
    monkeypatch.setenv("TRIAGE_SCORING_WORKERS", "5")
    monkeypatch.setenv("SCORING_THREADS", "7")  # the name before the prefix, still read
    monkeypatch.setenv("TRIAGE_SCORING_BIND", "127.0.0.1:9444")
    argv = gunicorn_argv([])
    assert argv[argv.index("--workers") + 1] == "5"
    assert argv[argv.index("--threads") + 1] == "7"
    assert scoring_server().bind == "127.0.0.1:9444"
    monkeypatch.setenv("TRIAGE_SCORING_THREADS", "many")
    with pytest.raises(ValueError, match="TRIAGE_SCORING_THREADS must be an integer"):
        scoring_server()


@pytest.mark.slow
def test_two_workers_keep_connections_alive_and_aggregate_metrics():
    auth = {"Authorization": f"Bearer {addresses().scoring_token}"}  # the token the service generated for var/
    with running_service(workers=2) as url:
        where = urlparse(url)
        connection = http.client.HTTPConnection(where.hostname, where.port, timeout=10)
        for _ in range(6):  # one connection, several requests: the gthread worker keeps it open
            connection.request("POST", "/predict", body=json.dumps({"data": "This restaurant is great"}),
                               headers={"Content-Type": "application/json", **auth})
            response = connection.getresponse()
            assert response.status == 200
            assert json.loads(response.read()) == {"compound": 0.6249, "neg": 0.0, "neu": 0.423, "pos": 0.577}
            assert response.getheader("Connection", "").lower() != "close"
        connection.request("GET", "/metrics", headers=auth)
        metrics = connection.getresponse().read().decode()
        assert 'scoring_texts_total{model="vader"} 6.0' in metrics


@pytest.mark.parametrize(("binds", "loopback"), [
    (["127.0.0.1:9000"], True), (["127.0.0.2:9000"], True), (["[::1]:9000"], True), (["localhost:9000"], True),
    (["unix:/tmp/scoring.sock"], True), (["0.0.0.0:9000"], False), (["10.0.0.5:9000"], False),
    (["scoring.internal:9000"], False), (["127.0.0.1:9000", "0.0.0.0:9001"], False),
])
def test_what_counts_as_loopback(binds, loopback):
    from scoring_service.binding import loopback_only

    assert loopback_only(binds) is loopback


def test_the_service_refuses_to_serve_beyond_loopback_without_a_token(monkeypatch):
    """Run as gunicorn runs it: the real `python -m scoring_service`, bound to all
    interfaces with no token in the environment; it exits before loading a model."""
    import subprocess
    import sys

    env = {k: v for k, v in __import__("os").environ.items() if k not in ("TRIAGE_SCORING_TOKEN", "SCORING_TOKEN")}
    result = subprocess.run([sys.executable, "-m", "scoring_service", "--host", "0.0.0.0", "--port", "0"],
                            capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 3
    assert "refusing to serve on 0.0.0.0:0 without TRIAGE_SCORING_TOKEN" in result.stderr
