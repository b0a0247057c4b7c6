"""Batched scoring client: batching, keep-alive, retries, and failing loudly.

The HTTP server here is a small programmable stand-in living only in this test, so that
retries and outages can be staged exactly; the real service is exercised end to end in
tests/e2e/test_streaming_e2e.py.
"""
from __future__ import annotations

import json
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest

from streaming import job, scoring, scoring_client, sink, transform
from streaming.scoring import ScoringClient, ScoringSettings
from triage_core.messages import classic_complaint_id
from triage_core.priority import Policy

A_ID = "6f1c2a8e-3b7d-4e59-9a0c-1d2e3f405162"


class QuietHandler(BaseHTTPRequestHandler):
    """Keep-alive HTTP/1.1, no access log, the JSON body at hand."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def json_body(self):
        return json.loads(self.rfile.read(int(self.headers["Content-Length"])))


class StagedService:
    """Answers /v1/models/<m>:predict like the contract; can fail the first N calls."""

    def __init__(self) -> None:
        self.fail_next = 0
        self.fail_status = 503
        self.requests: list[dict] = []
        self.reject_texts: set[str] = set()
        outer = self

        class Handler(QuietHandler):
            def do_POST(self):
                body = self.json_body()
                model = self.path.split("/v1/models/", 1)[1].split(":", 1)[0]
                outer.requests.append({"model": model, "n": len(body["instances"]),
                                       "auth": self.headers.get("Authorization"),
                                       "port": self.client_address[1]})
                if outer.fail_next > 0:
                    outer.fail_next -= 1
                    return self._send(outer.fail_status, {"error": "staged failure"})
                if model == "missing":
                    return self._send(404, {"error": "unknown model"})
                predictions = []
                for inst in body["instances"]:
                    if inst["text"] in outer.reject_texts:
                        predictions.append({"id": inst["id"], "error": "text rejected"})
                    else:
                        compound = -0.5 if "bad" in inst["text"] else 0.5
                        predictions.append({"id": inst["id"], "compound": compound, "neg": 0.1, "neu": 0.8,
                                            "pos": 0.1, "label": "negative" if compound < 0 else "positive",
                                            **({"category": "billing", "signals": {"fraud": ["stolen"]},
                                                "explanation": f"{model} says so"} if model == "triage" else {})})
                self._send(200, {"model": model, "version": f"{model}-1", "predictions": predictions})

            def _send(self, status, payload):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def service():
    staged = StagedService()
    yield staged
    staged.close()


def fast(url: str, **overrides) -> ScoringSettings:
    settings = {"backoff_initial_s": 0.01, "backoff_max_s": 0.02, "max_attempts": 3,
                "connect_timeout_s": 1, "read_timeout_s": 5, **overrides}
    return ScoringSettings(base_url=url, **settings)


def frame(n: int, model: str = "vader") -> pd.DataFrame:
    return pd.DataFrame({"complaint_id": [f"id-{i}" for i in range(n)], "text": [f"text {i}" for i in range(n)],
                         "model": [model] * n})


def test_texts_go_in_batches_of_batch_size_over_one_keep_alive_connection(service):
    client = ScoringClient(fast(service.url, batch_size=500, concurrency=1))
    out = scoring.score_frame(frame(1200), client, shadow_model=None)
    assert [r["n"] for r in service.requests] == [500, 500, 200]
    assert len({r["port"] for r in service.requests}) == 1
    assert out["model_version"].unique().tolist() == ["vader-1"]
    assert out["compound"].tolist() == [0.5] * 1200
    assert out["shadow_model_name"].isna().all()


def test_each_complaint_goes_to_its_own_model_and_the_shadow_model_scores_all(service):
    rows = frame(4)
    rows.loc[[1, 3], "model"] = "triage"
    out = scoring.score_frame(rows, ScoringClient(fast(service.url)), shadow_model="triage")
    assert out["model_name"].tolist() == ["vader", "triage", "vader", "triage"]
    assert out["shadow_model_name"].tolist() == ["triage"] * 4
    assert json.loads(out.loc[1, "signals"]) == {"fraud": ["stolen"]}
    assert out.loc[0, "signals"] == "{}"
    # triage scores each complaint once, though two of them need it as serving and shadow
    texts_per_model = {}
    for r in service.requests:
        texts_per_model[r["model"]] = texts_per_model.get(r["model"], 0) + r["n"]
    assert texts_per_model == {"triage": 4, "vader": 2}


def test_a_failing_shadow_model_leaves_serving_scores_and_no_shadow_score(service):
    out = scoring.score_frame(frame(3), ScoringClient(fast(service.url)), shadow_model="missing")
    assert out["compound"].notna().all() and out["model_name"].tolist() == ["vader"] * 3
    assert out["shadow_model_name"].isna().all() and out["shadow_compound"].isna().all()


def test_concurrent_requests_keep_the_order_and_one_keep_alive_connection_per_thread(service):
    client = ScoringClient(fast(service.url, batch_size=100, concurrency=3))
    rows_in = frame(1000)
    rows_in["text"] = [("bad " if i % 7 == 0 else "") + f"text {i}" for i in range(1000)]
    out = scoring.score_frame(rows_in, client, shadow_model=None)
    client.close()
    assert sorted(r["n"] for r in service.requests) == [100] * 10
    assert 1 < len({r["port"] for r in service.requests}) <= 3
    assert out["compound"].tolist() == [-0.5 if i % 7 == 0 else 0.5 for i in range(1000)]


def test_a_failing_request_among_concurrent_ones_fails_the_batch(service):
    service.fail_next = 10
    with pytest.raises(scoring.ScoringUnavailable, match=scoring.SCORING_UNAVAILABLE):
        scoring.score_frame(frame(400), ScoringClient(fast(service.url, batch_size=100, concurrency=4)),
                            shadow_model=None)


def test_bearer_token_is_sent_when_set(service):
    scoring.score_frame(frame(1), ScoringClient(fast(service.url, token="s3cret")), shadow_model=None)
    assert service.requests[0]["auth"] == "Bearer s3cret"


def test_transient_failures_are_retried_with_backoff(service):
    service.fail_next = 2
    out = scoring.score_frame(frame(3), ScoringClient(fast(service.url)), shadow_model=None)
    assert len(service.requests) == 3
    assert out["compound"].notna().all()


def test_service_down_past_the_retries_fails_the_batch_instead_of_making_up_a_score(service):
    service.fail_next = 10
    with pytest.raises(scoring.ScoringUnavailable, match=scoring.SCORING_UNAVAILABLE):
        scoring.score_frame(frame(3), ScoringClient(fast(service.url)), shadow_model=None)
    assert len(service.requests) == 3


def test_unreachable_service_fails_the_batch():
    settings = fast("http://127.0.0.1:9", max_attempts=2)
    with pytest.raises(scoring.ScoringUnavailable, match="ConnectionError"):
        scoring.score_frame(frame(1), ScoringClient(settings), shadow_model=None)


def test_client_errors_are_not_retried(service):
    with pytest.raises(scoring.ScoringProtocolError, match="404"):
        scoring.score_frame(frame(2, model="missing"), ScoringClient(fast(service.url)), shadow_model=None)
    assert len(service.requests) == 1


def test_a_text_the_model_rejects_carries_the_error_and_no_score(service):
    service.reject_texts = {"text 1"}
    out = scoring.score_frame(frame(2), ScoringClient(fast(service.url)), shadow_model=None)
    assert out["error"].tolist() == [None, "text rejected"]
    assert pd.isna(out.loc[1, "compound"])


def test_backoff_doubles_up_to_its_cap():
    settings = ScoringSettings(base_url="x", backoff_initial_s=0.5, backoff_max_s=3)
    assert [settings.backoff_s(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3, 3]


def test_rows_without_a_model_pass_through_unscored(service):
    rows = frame(2)
    rows.loc[1, "model"] = None
    out = scoring.score_frame(rows, ScoringClient(fast(service.url)), shadow_model="triage")
    assert out.loc[0, "compound"] == 0.5 and out.loc[0, "shadow_model_name"] == "triage"
    assert out.loc[1, ["model_name", "compound", "shadow_model_name"]].isna().all()
    assert sorted((r["model"], r["n"]) for r in service.requests) == [("triage", 1), ("vader", 1)]


def test_store_records_scores_and_stores_each_kafka_record_once_in_one_spark_pass(spark, service, pg, pg_url):
    stamp = datetime(2026, 1, 2, 3, 4, 5)
    records = spark.createDataFrame([
        (b"a", json.dumps({"id": A_ID, "text": "bad service", "source": "web"}).encode(), "complaints_app", 0, 0,
         stamp),
        (None, json.dumps({"data": "fine"}).encode(), "complaints", 0, 1, stamp),
        (b"k", b"not json", "complaints", 1, 7, stamp),
    ], transform.KAFKA_SCHEMA)

    def store():
        return sink.BatchResult.total(job.store_records(
            records, experiment=sink.Experiment(4, [{"label": "A", "model": "vader", "weight": 100}], "triage"),
            policy=Policy(version=2), settings=fast(service.url), database_url=pg_url, app_topic="complaints_app",
            notify_channel="complaint_scored_test").toPandas())

    first = store()
    assert (first.input_rows, first.scored, first.shadow_rows, first.dead_letter_rows, first.dead_lines) == (
        3, 2, 2, 1, 1)
    stored = {r[0]: r[1:] for r in pg.execute(
        "SELECT s.complaint_id::text, s.compound, s.priority, s.experiment_version, s.policy_version, c.source"
        " FROM triage_score s JOIN triage_complaint c ON c.id = s.complaint_id").fetchall()}
    # vader gives no complaint probability: 0.35 * 0.5 / (0.35 + 0.25 + 0.1) under the default weights
    assert stored[A_ID] == (-0.5, 25.0, 4, 2, "web")
    assert stored[classic_complaint_id("complaints", 0, 1)][-1] == "kafka"
    assert pg.execute('SELECT topic, "partition", "offset", reason FROM triage_dead_letter').fetchall() == [
        ("complaints", 1, 7, transform.REASON_UNPARSEABLE_JSON)]
    assert sorted((r["model"], r["n"]) for r in service.requests) == [("triage", 2), ("vader", 2)]
    # The batch again, as after a crash before Spark's checkpoint: nothing is stored twice.
    replay = store()
    assert (replay.scored, replay.replayed_rows, replay.shadow_rows, replay.dead_letter_rows) == (0, 2, 0, 0)
    assert pg.execute("SELECT count(*) FROM triage_score").fetchone() == (2,)


def test_an_arm_pinned_to_a_version_is_sent_to_that_version():
    assert scoring_client.predict_path("vader") == "/v1/models/vader:predict"
    assert scoring_client.predict_path("triage") == "/v1/models/triage:predict"
    assert scoring_client.predict_path("triage@1.0.0") == "/v1/models/triage/versions/1.0.0:predict"
    assert scoring_client.predict_path("triage@2.0.0+1a2b3c4d") == "/v1/models/triage/versions/2.0.0+1a2b3c4d:predict"


# --- retries, timeouts and answers retrying cannot fix, against a scripted server -------

HANG = "hang"  # a scripted step: hold the answer until the test ends (the client's read times out)


class ScriptedService:
    """A real HTTP server on 127.0.0.1 answering each POST with the next scripted step:
    `(status, body)`, or HANG. Past the end of the script every answer is a 200 scoring
    every instance. Each request's instance ids are recorded."""

    def __init__(self, script: list) -> None:
        self.script = list(script)
        self.requests: list[list[str]] = []
        self.release = threading.Event()
        self._lock = threading.Lock()
        outer = self

        class Handler(QuietHandler):
            def do_POST(self):
                body = self.json_body()
                ids = [inst["id"] for inst in body["instances"]]
                with outer._lock:
                    outer.requests.append(ids)
                    step = outer.script.pop(0) if outer.script else (200, None)
                if step == HANG:
                    outer.release.wait(30)  # bounded: close() releases it at the end of the test
                    self.close_connection = True
                    return
                status, answer = step
                if answer is None:
                    answer = {"model": "vader", "version": "vader-1", "predictions": [
                        {"id": i, "compound": -0.5, "neg": 0.5, "neu": 0.5, "pos": 0.0, "label": "negative"}
                        for i in ids]}
                data = json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def scripted():
    servers: list[ScriptedService] = []

    def start(*script) -> ScriptedService:
        servers.append(ScriptedService(list(script)))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def test_429_and_503_are_retried_and_the_answer_after_them_is_used(scripted):
    """Too Many Requests and Service Unavailable are the service shedding load: waiting
    fixes them. Mutant tried: 429 removed from RETRY_STATUSES -> ScoringProtocolError
    "answered HTTP 429" on the first request; the test failed."""
    service = scripted((429, {"error": "slow down"}), (503, {"error": "restarting"}))
    out = scoring.score_frame(frame(2), ScoringClient(fast(service.url)), shadow_model=None)
    assert service.requests == [["id-0", "id-1"]] * 3
    assert out["compound"].tolist() == [-0.5, -0.5] and out["model_version"].tolist() == ["vader-1"] * 2


def test_a_read_timeout_is_retried_and_the_next_answer_is_used(scripted):
    """The service accepted the request and never answered within read_timeout_s.
    Mutant tried: `except (requests.ConnectionError, requests.Timeout)` narrowed to
    ConnectionError -> requests.ReadTimeout escaped predict(); the test failed."""
    service = scripted(HANG)
    client = ScoringClient(fast(service.url, read_timeout_s=0.2))
    answer = client.predict("vader", [{"id": "id-0", "text": "text 0"}])
    assert service.requests == [["id-0"], ["id-0"]]
    assert answer.predictions["id-0"]["compound"] == -0.5


def test_read_timeouts_past_the_retry_budget_fail_the_batch(scripted):
    """Mutant tried: the final `raise ScoringUnavailable` replaced by `return
    ModelAnswer(model, "", {}, 0.0)` (an empty answer) -> score_frame raised KeyError,
    not ScoringUnavailable; the test failed."""
    service = scripted(HANG, HANG, HANG)
    with pytest.raises(scoring.ScoringUnavailable, match=f"{scoring.SCORING_UNAVAILABLE}.*ReadTimeout"):
        scoring.score_frame(frame(1), ScoringClient(fast(service.url, read_timeout_s=0.2)), shadow_model=None)
    assert len(service.requests) == 3


def test_an_answer_with_fewer_predictions_than_instances_fails_the_batch_unretried(scripted):
    """A short answer is a broken contract (docs/contracts.md: one prediction per
    instance), not an outage: the batch fails at once, no complaint is left unscored
    silently. Mutant tried: the `missing` check in _answer removed -> score_frame raised
    KeyError 'id-1' instead of ScoringProtocolError; the test failed."""
    short = {"model": "vader", "version": "vader-1", "predictions": [
        {"id": "id-0", "compound": 0.1, "neg": 0.0, "neu": 0.9, "pos": 0.1, "label": "neutral"}]}
    service = scripted((200, short))
    with pytest.raises(scoring.ScoringProtocolError, match="no prediction for 1 ids, e.g. id-1"):
        scoring.score_frame(frame(2), ScoringClient(fast(service.url)), shadow_model=None)
    assert service.requests == [["id-0", "id-1"]]


@pytest.mark.parametrize("status", [400, 401, 403, 413, 422])
def test_a_client_error_fails_the_batch_on_the_first_answer(scripted, status):
    """A 4xx (bad token, request the service refuses) will not change on retry: the batch
    fails with ScoringProtocolError after one request, and the next batch is not sent.
    Mutant tried: `response.status_code in RETRY_STATUSES` widened to `>= 400` -> 3
    requests and ScoringUnavailable; every case failed."""
    service = scripted((status, {"error": "refused"}))
    with pytest.raises(scoring.ScoringProtocolError, match=f"HTTP {status}"):
        scoring.score_frame(frame(3), ScoringClient(fast(service.url, batch_size=2, concurrency=1)),
                            shadow_model=None)
    assert service.requests == [["id-0", "id-1"]]
