"""Prometheus metrics of the scoring service.

Under gunicorn with several workers each worker is its own process, so the metrics
use prometheus-client's multiprocess mode when PROMETHEUS_MULTIPROC_DIR is set
(gunicorn_conf.py sets it before any worker starts); /metrics then aggregates the
files of every worker. With one process the default registry is used.
"""
from __future__ import annotations

import os

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

REQUESTS = Counter("scoring_requests", "HTTP requests answered", ["endpoint", "model", "status"])
TEXTS = Counter("scoring_texts", "Texts scored", ["model"])
ERRORS = Counter("scoring_errors", "Rejected requests and instances, by error message",
                 ["endpoint", "error"])
LATENCY = Histogram("scoring_predict_seconds", "Model time per request (whole batch)", ["model"],
                    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0))


def exposition() -> tuple[bytes, str]:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
