"""GET /healthz: what a load balancer asks the web app, answered from real probes."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_healthz_answers_200_when_every_part_answers(client):
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["ok"] is True
    assert {part: body[part]["ok"] for part in ("database", "redis", "kafka", "scoring")} == dict.fromkeys(
        ("database", "redis", "kafka", "scoring"), True)


def test_healthz_answers_503_naming_the_part_that_does_not(client, monkeypatch):
    monkeypatch.setenv("TRIAGE_SCORING_URL", "http://127.0.0.1:9")  # nothing listens on the discard port
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 503
    assert body["ok"] is False and body["scoring"]["ok"] is False and "unreachable" in body["scoring"]["error"]
    assert body["database"]["ok"] is True
    assert client.post("/healthz").status_code == 405
