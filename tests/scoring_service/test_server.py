"""The service as deployed: `python -m scoring_service` under gunicorn (gthread)."""
from __future__ import annotations

import http.client
import json
from urllib.parse import urlparse

import pytest

from scoring_service.__main__ import gunicorn_argv
from scoring_service.local_server import running_service


def test_cli_builds_a_loopback_gthread_command():
    argv = gunicorn_argv(["--port", "9123", "--workers", "3"])
    assert argv[argv.index("--bind") + 1] == "127.0.0.1:9123"
    assert argv[argv.index("--workers") + 1] == "3"
    assert argv[-1] == "scoring_service.app:create_app()"


@pytest.mark.slow
def test_two_workers_keep_connections_alive_and_aggregate_metrics():
    with running_service(workers=2) as url:
        where = urlparse(url)
        connection = http.client.HTTPConnection(where.hostname, where.port, timeout=10)
        for _ in range(6):  # one connection, several requests: the gthread worker keeps it open
            connection.request("POST", "/predict", body=json.dumps({"data": "This restaurant is great"}),
                               headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            assert response.status == 200
            assert json.loads(response.read()) == {"compound": 0.6249, "neg": 0.0, "neu": 0.423, "pos": 0.577}
            assert response.getheader("Connection", "").lower() != "close"
        connection.request("GET", "/metrics")
        metrics = connection.getresponse().read().decode()
        assert 'scoring_texts_total{model="vader"} 6.0' in metrics
