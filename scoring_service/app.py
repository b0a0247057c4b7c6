"""HTTP API of the scoring service (Flask application factory).

Routes only validate (scoring_service.validation) and call a model; every client
mistake is a 4xx JSON `{"error": message}` whose message is a constant.
"""
from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Mapping

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from scoring_service import metrics
from scoring_service.models import DEFAULT_MODEL, ScoringModel, load_models
from scoring_service.validation import (
    ERR_BODY_TOO_LARGE, ERR_INTERNAL, ERR_METHOD_NOT_ALLOWED, ERR_NOT_FOUND, ERR_UNAUTHORIZED,
    ERR_UNKNOWN_MODEL, BadRequest, batch_instances, classic_text,
    json_object,
)
from triage_core.config import addresses

log = logging.getLogger("scoring_service")

# 1,000 texts of 20,000 plain characters fit; 1,000 maximal texts written entirely as
# JSON escapes ("\u00e9", 6 bytes a character) would not, and get a 413 instead of
# making a worker hold a quarter of a gigabyte.
MAX_BODY_BYTES = 64 * 1024 * 1024
OPEN_PATHS = frozenset({"/healthz", "/readyz"})


def create_app(*, models: Mapping[str, ScoringModel] | None = None, token: str | None = None) -> Flask:
    """The service. `models` and `token` default to the loaded models and SCORING_TOKEN."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    served = dict(models) if models is not None else dict(load_models())
    required_token = addresses().scoring_token if token is None else token

    def error(message: str, status: int, endpoint: str) -> tuple[Response, int]:
        metrics.ERRORS.labels(endpoint, message).inc()
        return jsonify(error=message), status

    @app.before_request
    def check_token():
        if not required_token or request.path in OPEN_PATHS:
            return None
        supplied = request.headers.get("Authorization", "")
        expected = f"Bearer {required_token}"
        if not hmac.compare_digest(supplied.encode("utf-8", "replace"), expected.encode("utf-8")):
            # Label by route, never by raw path: any path a caller invents would
            # otherwise become a new Prometheus series.
            return error(ERR_UNAUTHORIZED, 401, request.endpoint or "unknown")
        return None

    @app.errorhandler(BadRequest)
    def bad_request(exc: BadRequest):
        return error(exc.message, exc.status, request.endpoint or "unknown")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        message = {404: ERR_NOT_FOUND, 405: ERR_METHOD_NOT_ALLOWED, 413: ERR_BODY_TOO_LARGE}.get(
            exc.code or 500, exc.description or exc.name)
        return error(message, exc.code or 500, request.endpoint or "unknown")

    @app.errorhandler(Exception)
    def internal_error(exc: Exception):
        # A bug, not a client mistake: logged with its traceback and answered 500, never
        # disguised as a default score.
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error(ERR_INTERNAL, 500, request.endpoint or "unknown")

    def body() -> Mapping:
        return json_object(content_type=request.content_type, body=request.get_data(cache=False))

    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok")

    @app.get("/readyz")
    def readyz():
        return jsonify(status="ready", models=sorted(served))

    @app.get("/metrics")
    def prometheus():
        payload, content_type = metrics.exposition()
        return Response(payload, content_type=content_type)

    @app.post("/predict")
    def predict_classic():
        text = classic_text(body())
        model = served[DEFAULT_MODEL]
        started = time.perf_counter()
        scores = model.polarity_scores(text)
        metrics.LATENCY.labels(model.name).observe(time.perf_counter() - started)
        metrics.TEXTS.labels(model.name).inc()
        metrics.REQUESTS.labels("predict", model.name, "200").inc()
        return jsonify(scores)

    @app.get("/v1/models")
    def list_models():
        return jsonify(models=[
            {"name": m.name, "version": m.version, "description": m.description,
             "default": m.name == DEFAULT_MODEL}
            for m in served.values()
        ])

    @app.post("/v1/models/<name>:predict")
    def predict_batch(name: str):
        model = served.get(name)
        if model is None:
            metrics.ERRORS.labels("predict_batch", ERR_UNKNOWN_MODEL).inc()
            return jsonify(error=ERR_UNKNOWN_MODEL, model=name, known=sorted(served)), 404
        instances = batch_instances(body())
        good = [inst for inst in instances if inst.error is None]
        started = time.perf_counter()
        scored = iter(model.predict([inst.text for inst in good]))
        metrics.LATENCY.labels(model.name).observe(time.perf_counter() - started)
        predictions = []
        for inst in instances:
            if inst.error is None:
                predictions.append({"id": inst.id, **next(scored)})
            else:
                metrics.ERRORS.labels("predict_batch", inst.error).inc()
                predictions.append({"id": inst.id, "error": inst.error})
        metrics.TEXTS.labels(model.name).inc(len(good))
        metrics.REQUESTS.labels("predict_batch", model.name, "200").inc()
        return jsonify(model=model.name, version=model.version, predictions=predictions)

    return app
