"""Whatever a client sends, the answer is JSON and never a 5xx."""
from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
                         "/v1/models/x:predict", "/v1/models", "/healthz", "/metrics"])
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
