"""HTTP API of the scoring service (Flask application factory).

Routes only validate (scoring_service.validation) and call a model; every client
mistake is a 4xx JSON `{"error": message}` whose message is a constant.
"""
from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Mapping
from typing import Any

import orjson
from flask import Flask, Response, jsonify, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException
from werkzeug.sansio.response import Response as BaseResponse

from scoring_service import metrics
from scoring_service.models import (
    DEFAULT_MODEL,
    ModelRegistry,
    ScoringModel,
    UnknownModel,
    UnknownVersion,
    load_models,
)
from scoring_service.validation import (
    ERR_BODY_TOO_LARGE,
    ERR_INTERNAL,
    ERR_METHOD_NOT_ALLOWED,
    ERR_NOT_FOUND,
    ERR_UNAUTHORIZED,
    ERR_UNKNOWN_MODEL,
    ERR_UNKNOWN_VERSION,
    BadRequest,
    batch_instances,
    classic_text,
    json_object,
)
from triage_core.config import addresses

log = logging.getLogger("scoring_service")

# 1,000 texts of 20,000 plain characters fit; 1,000 maximal texts written entirely as
# JSON escapes ("\u00e9", 6 bytes a character) would not, and get a 413 instead of
# making a worker hold a quarter of a gigabyte.
MAX_BODY_BYTES = 64 * 1024 * 1024
OPEN_PATHS = frozenset({"/healthz", "/readyz"})


class OrjsonProvider(DefaultJSONProvider):
    """Answers encoded by orjson: the default provider's sorted, ASCII-escaped dumps took
    17 µs a triage prediction, orjson 1.3 µs. Requests are still read by the standard
    library (validation.json_object), which keeps an unpaired surrogate in a text so that
    it becomes that instance's error rather than the whole request's. What orjson cannot
    encode (it refuses unpaired surrogates and unknown types) goes to the default."""

    def dumps(self, obj, **kwargs) -> str:
        try:
            return orjson.dumps(obj).decode("utf-8")
        except TypeError:  # orjson.JSONEncodeError is a TypeError
            return super().dumps(obj, **kwargs)

    def response(self, *args, **kwargs) -> BaseResponse:
        obj = self._prepare_response_obj(args, kwargs)
        try:
            data = orjson.dumps(obj)
        except TypeError:
            return super().response(obj)
        response_class: Any = self._app.response_class  # flask's Response: body first
        return response_class(data, mimetype=self.mimetype)


def create_app(*, models: ModelRegistry | None = None, token: str | None = None) -> Flask:
    """The service. `models` and `token` default to the loaded models and TRIAGE_SCORING_TOKEN."""
    app = Flask(__name__)
    app.json = OrjsonProvider(app)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    served = models if models is not None else load_models()
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

    # The model and version come from the path: the 404 names what the caller asked
    # for, but the metric is labelled by route and constant only (any string a caller
    # invents would otherwise become a new Prometheus series).
    @app.errorhandler(UnknownModel)
    def unknown_model(exc: UnknownModel):
        metrics.ERRORS.labels(request.endpoint or "unknown", ERR_UNKNOWN_MODEL).inc()
        return jsonify(error=ERR_UNKNOWN_MODEL, model=exc.name, known=exc.known), 404

    @app.errorhandler(UnknownVersion)
    def unknown_version(exc: UnknownVersion):
        metrics.ERRORS.labels(request.endpoint or "unknown", ERR_UNKNOWN_VERSION).inc()
        return jsonify(error=ERR_UNKNOWN_VERSION, model=exc.name, version=exc.version, known=exc.known), 404

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
        return jsonify(status="ready", models=served.names())

    @app.get("/metrics")
    def prometheus():
        payload, content_type = metrics.exposition()
        return Response(payload, content_type=content_type)

    @app.post("/predict")
    def predict_classic():
        text = classic_text(body())
        model = served.default(DEFAULT_MODEL)
        started = time.perf_counter()
        scores = model.polarity_scores(text)
        metrics.LATENCY.labels(model.name).observe(time.perf_counter() - started)
        metrics.TEXTS.labels(model.name).inc()
        metrics.REQUESTS.labels("predict", model.name, "200").inc()
        return jsonify(scores)

    @app.get("/v1/models")
    def list_models():
        listed = []
        for name in served.names():
            versions, current = served.versions(name), served.default(name)
            listed.append({"name": name, "version": current.version, "description": current.description,
                           "default": name == DEFAULT_MODEL, "versions": [m.version for m in versions]})
        return jsonify(models=listed)

    @app.get("/v1/models/<name>/versions")
    def list_versions(name: str):
        versions, current = served.versions(name), served.default(name)
        return jsonify(model=name, default=current.version, versions=[
            {"version": m.version, "description": m.description, "default": m is current}
            for m in versions
        ])

    @app.post("/v1/models/<name>:predict")
    def predict_batch(name: str):
        return predict_with(served.default(name), endpoint="predict_batch")

    # The string converter takes anything but "/", so "1.0.0+1a2b3c4d" (dots and "+")
    # matches and the literal ":predict" after it still ends the rule.
    @app.post("/v1/models/<name>/versions/<version>:predict")
    def predict_version(name: str, version: str):
        return predict_with(served.version(name, version), endpoint="predict_version")

    def predict_with(model: ScoringModel, *, endpoint: str) -> Response:
        instances = batch_instances(body())
        good = [inst for inst in instances if inst.error is None]
        texts = [inst.text for inst in good if inst.text is not None]  # all of them: no error, a text
        started = time.perf_counter()
        scored = iter(model.predict(texts))
        metrics.LATENCY.labels(model.name).observe(time.perf_counter() - started)
        predictions = []
        for inst in instances:
            if inst.error is None:
                predictions.append({"id": inst.id, **next(scored)})
            else:
                metrics.ERRORS.labels(endpoint, inst.error).inc()
                predictions.append({"id": inst.id, "error": inst.error})
        metrics.TEXTS.labels(model.name).inc(len(good))
        metrics.REQUESTS.labels(endpoint, model.name, "200").inc()
        return jsonify(model=model.name, version=model.version, predictions=predictions)

    return app
