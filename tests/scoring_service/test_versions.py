"""Several versions of one model side by side: listing them, choosing one, and the 404s."""
from __future__ import annotations

import json

import pytest

from scoring_service import validation as v
from scoring_service.models import ModelRegistry, UnknownModel, UnknownVersion, release_of

COMPLAINT = "I was charged twice and nobody answers. My lawyer will hear about this."


def post(client, path, payload):
    return client.post(path, data=json.dumps(payload), content_type="application/json")


def served_versions(client, name):
    return client.get(f"/v1/models/{name}/versions").get_json()


def test_triage_lists_both_versions_newest_first_as_default(client):
    response = client.get("/v1/models/triage/versions")
    body = response.get_json()
    assert response.status_code == 200
    assert body["model"] == "triage"
    assert [release_of(x["version"]) for x in body["versions"]] == ["2.0.0", "1.0.0"]
    assert [x["default"] for x in body["versions"]] == [True, False]
    assert body["default"] == body["versions"][0]["version"]
    assert all(x["description"] for x in body["versions"])
    assert body["versions"][0]["description"] != body["versions"][1]["description"]


def test_vader_has_one_version(client):
    body = served_versions(client, "vader")
    (only,) = body["versions"]
    assert only["default"] is True and body["default"] == only["version"]
    assert release_of(only["version"]) == "1.0.0"


def test_models_listing_gives_each_name_its_default_and_versions(client):
    listed = {m["name"]: m for m in client.get("/v1/models").get_json()["models"]}
    assert set(listed) == {"vader", "triage"}
    for name, entry in listed.items():
        versions = served_versions(client, name)
        assert entry["version"] == versions["default"]
        assert entry["versions"] == [x["version"] for x in versions["versions"]]
    assert release_of(listed["triage"]["version"]) == "2.0.0"
    assert listed["vader"]["default"] is True and listed["triage"]["default"] is False


@pytest.mark.parametrize("release", ["1.0.0", "2.0.0"])
def test_a_version_answers_by_its_full_name_and_by_its_release(client, release):
    (full,) = [x["version"] for x in served_versions(client, "triage")["versions"]
               if release_of(x["version"]) == release]
    assert "+" in full
    answers = [post(client, f"/v1/models/triage/versions/{given}:predict",
                    {"instances": [{"id": "c1", "text": COMPLAINT}]})
               for given in (full, release, full.replace("+", "%2B"))]
    assert [a.status_code for a in answers] == [200, 200, 200]
    bodies = [a.get_json() for a in answers]
    assert {(b["model"], b["version"]) for b in bodies} == {("triage", full)}
    assert bodies[0]["predictions"] == bodies[1]["predictions"] == bodies[2]["predictions"]


def test_the_two_triage_versions_answer_differently(client):
    payload = {"instances": [{"id": 1, "text": COMPLAINT}]}
    old = post(client, "/v1/models/triage/versions/1.0.0:predict", payload).get_json()
    new = post(client, "/v1/models/triage/versions/2.0.0:predict", payload).get_json()
    assert release_of(old["version"]) == "1.0.0" and release_of(new["version"]) == "2.0.0"
    (p_old,), (p_new,) = old["predictions"], new["predictions"]
    assert "priority" in p_old and "priority" not in p_new  # 2.0 leaves priority to triage_core.priority
    assert p_new["language"] == "en" and 0.0 <= p_new["complaint"] <= 1.0
    assert p_old["signals"]["legal_threat"] == p_new["signals"]["legal_threat"] == ["lawyer"]


def test_predict_without_a_version_uses_the_default(client):
    payload = {"instances": [{"id": 1, "text": COMPLAINT}]}
    default = post(client, "/v1/models/triage:predict", payload).get_json()
    chosen = post(client, "/v1/models/triage/versions/2.0.0:predict", payload).get_json()
    assert default == chosen
    assert default["version"] == served_versions(client, "triage")["default"]


def test_a_versioned_batch_keeps_per_instance_errors(client):
    response = post(client, "/v1/models/triage/versions/1.0.0:predict",
                    {"instances": [{"id": "ok", "text": "fine"}, {"id": "empty", "text": " "}]})
    assert response.status_code == 200
    assert [p.get("error") for p in response.get_json()["predictions"]] == [None, v.ERR_TEXT_EMPTY]


@pytest.mark.parametrize("path", [
    "/v1/models/triage/versions/3.0.0:predict",
    "/v1/models/triage/versions/2.0:predict",
    "/v1/models/triage/versions/2.0.0+00000000:predict",
    "/v1/models/vader/versions/2.0.0:predict",
])
def test_unknown_version_is_404_naming_the_known_ones(client, path):
    response = post(client, path, {"instances": [{"id": 1, "text": "hi"}]})
    body = response.get_json()
    assert response.status_code == 404
    assert body["error"] == v.ERR_UNKNOWN_VERSION
    name = path.split("/")[3]
    assert body["model"] == name
    assert body["version"] == path.split("/")[5].removesuffix(":predict")
    assert body["known"] == [x["version"] for x in served_versions(client, name)["versions"]]


@pytest.mark.parametrize("method, path", [
    ("GET", "/v1/models/bert/versions"),
    ("POST", "/v1/models/bert/versions/1.0.0:predict"),
])
def test_unknown_model_is_404_with_its_constant(client, method, path):
    response = client.open(path, method=method, data=json.dumps({"instances": []}), content_type="application/json")
    assert response.status_code == 404
    assert response.get_json() == {"error": v.ERR_UNKNOWN_MODEL, "model": "bert", "known": ["triage", "vader"]}


def test_classic_predict_is_still_nltk_vader(client):
    response = post(client, "/predict", {"data": "This restaurant is great"})
    assert response.status_code == 200
    assert response.get_json() == {"compound": 0.6249, "neg": 0.0, "neu": 0.423, "pos": 0.577}


def test_readiness_lists_model_names(client):
    assert client.get("/readyz").get_json() == {"status": "ready", "models": ["triage", "vader"]}


def test_versioned_calls_label_metrics_by_model_not_by_path(client):
    for n in range(3):
        post(client, f"/v1/models/triage/versions/invented-version-{n}:predict", {"instances": []})
        post(client, f"/v1/models/invented-{n}/versions/1.0.0:predict", {"instances": []})
    post(client, "/v1/models/triage/versions/1.0.0:predict", {"instances": [{"id": 1, "text": "ok"}]})
    metrics = client.get("/metrics").get_data(as_text=True)
    assert "invented-" not in metrics
    assert f'scoring_errors_total{{endpoint="predict_version",error="{v.ERR_UNKNOWN_VERSION}"}}' in metrics
    assert 'scoring_requests_total{endpoint="predict_version",model="triage",status="200"}' in metrics


class Stub:
    description = "stub"

    def __init__(self, name, version):
        self.name, self.version = name, version

    def predict(self, texts):
        return [{"compound": 0.0, "neg": 0.0, "neu": 1.0, "pos": 0.0, "label": "neutral"} for _ in texts]


def test_registry_orders_releases_numerically():
    registry = ModelRegistry([Stub("m", "9.0.0+a"), Stub("m", "10.0.0+b"), Stub("m", "9.1.0+c")])
    assert [m.version for m in registry.versions("m")] == ["10.0.0+b", "9.1.0+c", "9.0.0+a"]
    assert registry.default("m").version == "10.0.0+b"
    assert registry.version("m", "9.1.0").version == "9.1.0+c"
    assert registry.version("m", "9.0.0+a").version == "9.0.0+a"


def test_registry_lookups_that_fail():
    registry = ModelRegistry([Stub("m", "1.0.0+a")])
    with pytest.raises(UnknownModel):
        registry.default("n")
    with pytest.raises(UnknownVersion):
        registry.version("m", "1.0.0+b")
    with pytest.raises(UnknownVersion):
        registry.version("m", "1.0")


def test_registry_refuses_two_builds_of_one_release():
    # Otherwise "1.0.0" would name two models and the default would be a coin toss.
    with pytest.raises(ValueError, match="two builds"):
        ModelRegistry([Stub("m", "1.0.0+a"), Stub("m", "1.0.0+b")])
