"""HTTP API: the classic contract, the V1 batch shape, errors by constant, auth, metrics."""
from __future__ import annotations

import json

import pytest

from scoring_service import validation as v
from scoring_service.vader import nltk_reference


def post(client, path, payload, **kw):
    return client.post(path, data=json.dumps(payload), content_type="application/json", **kw)


def test_classic_predict_is_nltk_vader(client):
    response = post(client, "/predict", {"data": "This restaurant is great"})
    assert response.status_code == 200
    assert response.get_json() == {"compound": 0.6249, "neg": 0.0, "neu": 0.423, "pos": 0.577}


def test_health_and_readiness_list_models(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json() == {"status": "ready", "models": ["triage", "vader"]}


def test_models_listing_marks_vader_default(client):
    listed = {m["name"]: m for m in client.get("/v1/models").get_json()["models"]}
    assert set(listed) == {"vader", "triage"}
    assert listed["vader"]["default"] is True and listed["triage"]["default"] is False
    assert all(m["version"] and m["description"] for m in listed.values())


def test_vader_batch_matches_nltk_and_keeps_ids_in_order(client):
    texts = ["I love it!!", "Worst. Service. EVER.", "It is a chair."]
    response = post(client, "/v1/models/vader:predict",
                    {"instances": [{"id": f"c{i}", "text": t} for i, t in enumerate(texts)]})
    body = response.get_json()
    assert response.status_code == 200
    assert body["model"] == "vader" and body["version"]
    assert [p["id"] for p in body["predictions"]] == ["c0", "c1", "c2"]
    for p, text in zip(body["predictions"], texts):
        assert {k: p[k] for k in ("neg", "neu", "pos", "compound")} == nltk_reference().polarity_scores(text)
    assert [p["label"] for p in body["predictions"]] == ["positive", "negative", "neutral"]


def test_triage_1_batch_adds_content_fields(client):
    text = "I was charged twice and nobody answers. My lawyer will hear about this. Cancel my account."
    body = post(client, "/v1/models/triage/versions/1.0.0:predict", {"instances": [{"id": 7, "text": text}]}).get_json()
    (p,) = body["predictions"]
    assert p["id"] == 7 and body["model"] == "triage"
    assert p["category"] == "billing"
    assert p["signals"] == {"legal_threat": ["lawyer"], "cancel_intent": ["cancel"]}
    assert p["label"] == "negative" and p["compound"] < -0.05
    assert 0 <= p["priority"] <= 100 and "legal_threat (lawyer)" in p["explanation"]


def test_one_bad_instance_does_not_spoil_the_batch(client):
    instances = [{"id": "ok", "text": "fine"}, {"id": "empty", "text": "  "}, {"id": "num", "text": 3},
                 {"id": "none"}, "just a string", {"id": "long", "text": "x" * (v.MAX_TEXT_CHARS + 1)},
                 {"id": ["list"], "text": "hi"}, {"id": "ok2", "text": "x" * v.MAX_TEXT_CHARS}]
    response = post(client, "/v1/models/vader:predict", {"instances": instances})
    assert response.status_code == 200
    p = response.get_json()["predictions"]
    assert [x.get("error") for x in p] == [None, v.ERR_TEXT_EMPTY, v.ERR_TEXT_NOT_STRING, v.ERR_TEXT_MISSING,
                                           v.ERR_INSTANCE_NOT_OBJECT, v.ERR_TEXT_TOO_LONG, v.ERR_ID_INVALID, None]
    assert [x["id"] for x in p] == ["ok", "empty", "num", "none", None, "long", None, "ok2"]
    assert "compound" in p[0] and "compound" in p[7]


@pytest.mark.parametrize("path, body, content_type, status, message", [
    ("/predict", b'{"data": "hi"}', "text/plain", 415, v.ERR_CONTENT_TYPE),
    ("/predict", b'{"data": "hi"', "application/json", 400, v.ERR_INVALID_JSON),
    ("/predict", b"\xff\xfe", "application/json", 400, v.ERR_INVALID_JSON),
    ("/predict", b"[" * 100_000, "application/json", 400, v.ERR_INVALID_JSON),
    ("/predict", b'["hi"]', "application/json", 400, v.ERR_BODY_NOT_OBJECT),
    ("/predict", b'{"text": "hi"}', "application/json", 400, v.ERR_DATA_MISSING),
    ("/predict", b'{"data": ""}', "application/json", 400, v.ERR_TEXT_EMPTY),
    ("/predict", b'{"data": null}', "application/json", 400, v.ERR_TEXT_NOT_STRING),
    ("/predict", b'{"data": ["a"]}', "application/json", 400, v.ERR_TEXT_NOT_STRING),
    ("/predict", json.dumps({"data": "a" * 20_001}).encode(), "application/json", 400, v.ERR_TEXT_TOO_LONG),
    ("/v1/models/vader:predict", b"{}", "application/json", 400, v.ERR_INSTANCES_MISSING),
    ("/v1/models/vader:predict", b'{"instances": {"id": 1}}', "application/json", 400, v.ERR_INSTANCES_NOT_LIST),
    ("/v1/models/vader:predict", json.dumps({"instances": [{"id": i, "text": "a"} for i in range(1001)]}).encode(),
     "application/json", 413, v.ERR_TOO_MANY_INSTANCES),
    ("/v1/models/nope:predict", b'{"instances": []}', "application/json", 404, v.ERR_UNKNOWN_MODEL),
    ("/nowhere", b"", "application/json", 404, v.ERR_NOT_FOUND),
])
def test_bad_requests_get_4xx_naming_the_problem(client, path, body, content_type, status, message):
    response = client.post(path, data=body, content_type=content_type)
    assert response.status_code == status
    assert response.get_json()["error"] == message


def test_unknown_model_names_the_known_ones(client):
    body = post(client, "/v1/models/bert:predict", {"instances": []}).get_json()
    assert body == {"error": v.ERR_UNKNOWN_MODEL, "model": "bert", "known": ["triage", "vader"]}


def test_wrong_method_is_405_json(client):
    response = client.get("/predict")
    assert response.status_code == 405 and response.get_json()["error"] == v.ERR_METHOD_NOT_ALLOWED


def test_exactly_1000_instances_are_accepted(client):
    response = post(client, "/v1/models/vader:predict",
                    {"instances": [{"id": i, "text": "good"} for i in range(1000)]})
    assert response.status_code == 200 and len(response.get_json()["predictions"]) == 1000


def test_bearer_token_guards_everything_but_health(secured_client):
    assert secured_client.get("/healthz").status_code == 200
    assert secured_client.get("/readyz").status_code == 200
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret"}):
        response = secured_client.post("/predict", json={"data": "hi"}, headers=headers)
        assert response.status_code == 401 and response.get_json()["error"] == v.ERR_UNAUTHORIZED
    assert secured_client.get("/metrics").status_code == 401
    ok = secured_client.post("/predict", json={"data": "hi"}, headers={"Authorization": "Bearer s3cret"})
    assert ok.status_code == 200


def test_unauthorised_calls_to_invented_paths_add_no_metric_series(secured_client):
    for n in range(5):
        assert secured_client.get(f"/invented-{n}").status_code == 401
    metrics = secured_client.get("/metrics", headers={"Authorization": "Bearer s3cret"}).get_data(as_text=True)
    assert "invented-" not in metrics


def test_metrics_count_texts_errors_and_latency(client):
    def sample(text, name):
        for line in text.splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                if line.rsplit(" ", 1)[0] == name:
                    return float(line.rsplit(" ", 1)[1])
        return 0.0

    before = client.get("/metrics").get_data(as_text=True)
    post(client, "/v1/models/triage:predict", {"instances": [{"id": 1, "text": "ok"}, {"id": 2, "text": "fine"}]})
    post(client, "/predict", {"data": ""})
    after = client.get("/metrics").get_data(as_text=True)
    texts = 'scoring_texts_total{model="triage"}'
    errors = 'scoring_errors_total{endpoint="predict_classic",error="text must not be empty"}'
    assert sample(after, texts) - sample(before, texts) == 2
    assert sample(after, errors) - sample(before, errors) == 1
    assert 'scoring_predict_seconds_bucket{le="0.5",model="triage"}' in after


def test_answers_are_compact_json_and_what_orjson_refuses_is_still_answered(app, client):
    """Answers go through app.OrjsonProvider. Mutant tried: its fallback removed (orjson's
    error propagates) -> the unpaired surrogate below raised instead of being encoded."""
    response = client.post("/v1/models/vader:predict", json={"instances": [{"id": "1", "text": "great, thanks"}]})
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.get_data().startswith(b'{"model":"vader"')  # insertion order, no spaces
    with app.app_context():
        odd = app.json.response({"word": "\ud800"})
    assert json.loads(odd.get_data()) == {"word": "\ud800"}
