"""The scoring service's HTTP client, as the stream's executors use it.

The classic demo called the model once per row (~380 rows/s). Here each Spark partition
keeps one keep-alive `requests.Session` and sends ~500 texts per request to
`POST {TRIAGE_SCORING_URL}/v1/models/<model>:predict` (docs/contracts.md).

When the service is unreachable or failing, requests are retried with bounded
exponential backoff and then the batch FAILS (ScoringUnavailable). There is no default
score: a made-up "neutral" would hide the outage and put angry customers at the bottom
of the queue. The job (streaming/job.py) restarts the query from its checkpoint, so the
same records are scored once the service is back.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import quote

import orjson
import requests

from triage_core.config import addresses, env

log = logging.getLogger("streaming.scoring")

# A marker that survives the trip from a Python worker through the JVM into the
# StreamingQueryException the driver sees; job.py retries the query when it finds it.
SCORING_UNAVAILABLE = "SCORING_UNAVAILABLE"

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class ScoringUnavailable(RuntimeError):
    """The service did not answer within the retry budget: the batch must fail."""


class ScoringProtocolError(RuntimeError):
    """The service answered something retrying cannot fix (4xx, malformed answer)."""


@dataclass(frozen=True)
class ScoringSettings:
    base_url: str
    token: str = ""
    batch_size: int = 500
    concurrency: int = 4  # requests in flight per Spark task (ScoringClient.predict_many)
    connect_timeout_s: float = 2.0
    read_timeout_s: float = 30.0
    max_attempts: int = 5
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 8.0

    @classmethod
    def from_env(cls) -> ScoringSettings:
        where = addresses()
        return cls(
            base_url=where.scoring_url.rstrip("/"),
            token=where.scoring_token,
            batch_size=int(env("TRIAGE_SCORING_BATCH_SIZE", "500")),
            concurrency=max(1, int(env("TRIAGE_SCORING_CONCURRENCY", "4"))),
            connect_timeout_s=float(env("TRIAGE_SCORING_CONNECT_TIMEOUT_S", "2")),
            read_timeout_s=float(env("TRIAGE_SCORING_READ_TIMEOUT_S", "30")),
            max_attempts=int(env("TRIAGE_SCORING_MAX_ATTEMPTS", "5")),
            backoff_initial_s=float(env("TRIAGE_SCORING_BACKOFF_INITIAL_S", "0.5")),
            backoff_max_s=float(env("TRIAGE_SCORING_BACKOFF_MAX_S", "8")),
        )

    def backoff_s(self, attempt: int) -> float:
        """Sleep before retry number `attempt` (1-based): doubling, capped."""
        return min(self.backoff_max_s, self.backoff_initial_s * 2 ** (attempt - 1))


@dataclass(frozen=True)
class ModelAnswer:
    model_name: str
    model_version: str
    predictions: Mapping[str, Mapping]  # complaint id -> prediction (or {"error": ...})
    ms_per_text: float


class ScoringClient:
    """Keep-alive HTTP sessions to the scoring service: one per thread, up to `concurrency`.

    Requests go `concurrency` at a time (predict_many): while the service scores one
    request, this process encodes the next and decodes the last, and both service
    workers get work from one Spark task. Strictly one at a time, the task and the
    service took turns, and a 50k batch left ~35 % of the two cores idle (vmstat).
    """

    def __init__(self, settings: ScoringSettings):
        self.settings = settings
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None

    @property
    def session(self) -> requests.Session:
        """This thread's session (requests.Session is not meant to be shared by threads)."""
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            if self.settings.token:
                session.headers["Authorization"] = f"Bearer {self.settings.token}"
            with self._lock:
                self._sessions.append(session)
        return session

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        for session in self._sessions:
            session.close()

    def predict_many(self, calls: Sequence[tuple[str, list[dict]]]) -> list[ModelAnswer]:
        """predict(model, instances) for each call, `concurrency` at a time, answers in order.

        The first failure (ScoringUnavailable, ScoringProtocolError) is raised once the
        requests already sent have ended: the batch fails as with one request at a time.
        """
        if self.settings.concurrency <= 1 or len(calls) <= 1:
            return [self.predict(model, instances) for model, instances in calls]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.settings.concurrency, thread_name_prefix="scoring")
        futures = [self._pool.submit(self.predict, model, instances) for model, instances in calls]
        try:
            return [future.result() for future in futures]
        finally:
            for future in futures:
                future.cancel()

    def predict(self, model: str, instances: list[dict]) -> ModelAnswer:
        """Scores up to batch_size instances `{"id", "text"}` with one request (retried)."""
        url = f"{self.settings.base_url}{predict_path(model)}"
        timeout = (self.settings.connect_timeout_s, self.settings.read_timeout_s)
        started = time.monotonic()
        last_error = ""
        for attempt in range(1, self.settings.max_attempts + 1):
            if attempt > 1:
                delay = self.settings.backoff_s(attempt - 1)
                log.warning("scoring service: %s; retry %d/%d of POST %s in %.1f s",
                            last_error, attempt - 1, self.settings.max_attempts - 1, url, delay)
                time.sleep(delay)
            sent = time.monotonic()
            try:
                response = self.session.post(url, json={"instances": instances}, timeout=timeout)
            except (requests.ConnectionError, requests.Timeout) as exc:
                last_error = f"{type(exc).__name__}: {exc}"
                continue
            if response.status_code in RETRY_STATUSES:
                last_error = f"HTTP {response.status_code}"
                continue
            if response.status_code != 200:
                raise ScoringProtocolError(
                    f"POST {url} answered HTTP {response.status_code}: {response.text[:300]}")
            return _answer(model, instances, response, (time.monotonic() - sent) * 1000.0)
        raise ScoringUnavailable(
            f"{SCORING_UNAVAILABLE}: POST {url} failed {self.settings.max_attempts} times over "
            f"{time.monotonic() - started:.1f} s (last: {last_error}); the micro-batch fails and "
            f"is retried from the checkpoint; no complaint gets a made-up score")


def predict_path(model: str) -> str:
    """`vader` -> /v1/models/vader:predict; `triage@1.0.0` (an experiment arm pinned to a
    version) -> /v1/models/triage/versions/1.0.0:predict."""
    name, _, version = model.partition("@")
    if version:
        return f"/v1/models/{quote(name, safe='')}/versions/{quote(version, safe='+.')}:predict"
    return f"/v1/models/{quote(name, safe='')}:predict"


def _answer(model: str, instances: list[dict], response: requests.Response, elapsed_ms: float) -> ModelAnswer:
    try:
        # orjson: the standard library took 26 µs a prediction to decode a triage answer.
        body = orjson.loads(response.content)
        predictions = {str(p["id"]): p for p in body["predictions"]}
    except (ValueError, KeyError, TypeError) as exc:
        raise ScoringProtocolError(f"model {model}: malformed answer ({exc}): {response.text[:300]}") from exc
    missing = [i["id"] for i in instances if i["id"] not in predictions]
    if missing:
        raise ScoringProtocolError(f"model {model}: no prediction for {len(missing)} ids, e.g. {missing[0]}")
    return ModelAnswer(model_name=str(body.get("model", model)), model_version=str(body.get("version", "")),
                       predictions=predictions, ms_per_text=elapsed_ms / max(1, len(instances)))


