"""Whatever a client sends, the answer is JSON and never a 5xx; whatever text a model
is given, it answers with a prediction or a per-instance error."""
from __future__ import annotations

import json
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring_service import validation as v

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=20,
)
instance = st.one_of(
    json_values,
    st.fixed_dictionaries({}, optional={"id": json_values, "text": st.one_of(st.text(max_size=200), json_values)}),
)
bodies = st.one_of(
    json_values.map(json.dumps),
    st.fixed_dictionaries({}, optional={"data": st.one_of(st.text(max_size=200), json_values)}).map(json.dumps),
    st.fixed_dictionaries({}, optional={"instances": st.one_of(st.lists(instance, max_size=8), json_values)})
      .map(json.dumps),
    st.text(max_size=100),
).map(lambda s: s.encode("utf-8", "surrogatepass")) | st.binary(max_size=100)
paths = st.sampled_from(["/predict", "/v1/models/vader:predict", "/v1/models/triage:predict",
                         "/v1/models/x:predict", "/v1/models", "/healthz", "/metrics",
                         "/v1/models/triage/versions", "/v1/models/triage/versions/1.0.0:predict",
                         "/v1/models/triage/versions/2.0.0:predict", "/v1/models/triage/versions/0.1+x:predict"])
content_types = st.sampled_from(["application/json", "application/json; charset=utf-8", "text/plain", ""])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=paths, method=st.sampled_from(["POST", "GET", "PUT"]), body=bodies, content_type=content_types)
def test_no_input_makes_a_server_error(client, path, method, body, content_type):
    response = client.open(path, method=method, data=body, content_type=content_type or None)
    assert response.status_code < 500, response.get_data(as_text=True)
    if path != "/metrics" or response.status_code != 200:
        payload = response.get_json()
        assert isinstance(payload, dict)
        if response.status_code >= 400:
            assert isinstance(payload["error"], str) and payload["error"]
        if response.status_code == 200 and path.endswith(":predict"):
            assert all(("error" in p) != ("compound" in p) for p in payload["predictions"])


# ---------------------------------------------------------------- texts for triage 2.0

def to_length(unit: str, length: int = v.MAX_TEXT_CHARS) -> str:
    return (unit * (length // len(unit) + 1))[:length]


EMOJI = st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF)
emoji_only = st.text(EMOJI, min_size=1, max_size=40)
url_only = st.from_regex(r"(https?://|www\.)[a-z0-9]{1,12}\.(com|ru|es)(/[A-Za-z0-9_%?=&.-]{0,20}){0,4}",
                         fullmatch=True)
code = st.sampled_from([
    "def f(x):\n    return {x: [1, 2]}\n", "SELECT * FROM orders WHERE id = 42; -- not delivered",
    "<script>alert('x')</script>", "{\"order\": 123, \"status\": null}", "if (a != b) { throw new Error(); }",
    "$ curl -X POST http://127.0.0.1:9000/predict", "x = [i ** 2 for i in range(10) if i % 2]",
])
WORDS = ["parcel", "not", "refund", "lawyer", "посылка", "не", "пришла", "суд", "hola", "no", "llegó", "你好",
         "مرحبا", "שלום", "γεια", "😡", "123", "!!!", "?", "...", "isn't", "никто", "@shop", "#fail", "\u200b"]
mixed_scripts = st.lists(st.sampled_from(WORDS), min_size=1, max_size=30).map(" ".join)
# No NUL (the stream dead-letters it, Postgres cannot store it); surrogates excluded
# here are exercised by `surrogates` below.
random_unicode = st.text(st.characters(exclude_characters="\x00", exclude_categories=["Cs"]),
                         min_size=1, max_size=300)
longest = st.one_of(emoji_only, url_only, code, mixed_scripts, random_unicode).map(to_length)
surrogates = st.builds(lambda head, s: head + s, st.text(max_size=20), st.characters(categories=["Cs"]))
texts = st.one_of(emoji_only, url_only, code, mixed_scripts, random_unicode, longest, surrogates)

LABELS = {"positive", "negative", "neutral", "language_unsupported"}
INSTANCE_ERRORS = {v.ERR_TEXT_EMPTY, v.ERR_TEXT_SURROGATE}


def assert_contract(p: dict) -> None:
    for field in ("compound", "neg", "neu", "pos"):
        assert isinstance(p[field], float) and math.isfinite(p[field]), (field, p)
    assert -1.0 <= p["compound"] <= 1.0
    assert p["label"] in LABELS
    assert isinstance(p["language"], str) and isinstance(p["explanation"], str) and p["explanation"]
    assert isinstance(p["signals"], dict) and isinstance(p["evidence"], list)
    if p["label"] == "language_unsupported":
        assert p["complaint"] is None and p["language"] not in ("en", "ru")
    else:
        assert 0.0 <= p["complaint"] <= 1.0 and p["language"] in ("en", "ru")
        assert 0.0 <= p["category_confidence"] <= 1.0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(batch=st.lists(texts, min_size=1, max_size=4))
def test_triage_2_answers_every_text(client, batch):
    body = json.dumps({"instances": [{"id": i, "text": t} for i, t in enumerate(batch)]})
    response = client.post("/v1/models/triage/versions/2.0.0:predict", data=body, content_type="application/json")
    assert response.status_code == 200, response.get_data(as_text=True)
    predictions = response.get_json()["predictions"]
    assert [p["id"] for p in predictions] == list(range(len(batch)))
    for p in predictions:
        if "error" in p:
            assert p["error"] in INSTANCE_ERRORS and set(p) == {"id", "error"}
        else:
            assert_contract(p)
