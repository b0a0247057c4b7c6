"""gunicorn settings of the scoring service.

    gunicorn -c scoring_service/gunicorn_conf.py 'scoring_service.app:create_app()'
    python -m scoring_service --port 9000 --workers 2      # the same, with flags

gthread workers keep HTTP connections alive between requests (the sync worker closes
every one), which is what a batching client such as the Spark job wants. Bound to
loopback unless SCORING_BIND or --bind says otherwise; bound anywhere else, it refuses to
start unless TRIAGE_SCORING_TOKEN is set (a token generated into this machine's var/ is
known to no client on another machine, and no token is an open door).
"""
import os
import tempfile

from scoring_service.binding import loopback_only

bind = os.environ.get("SCORING_BIND", "127.0.0.1:9000")


def on_starting(server):
    """Refuse a bind beyond loopback without a token of the deployment's own."""
    token = os.environ.get("TRIAGE_SCORING_TOKEN", "").strip() or os.environ.get("SCORING_TOKEN", "").strip()
    if not loopback_only(server.cfg.bind) and not token:
        server.log.error("refusing to serve on %s without TRIAGE_SCORING_TOKEN: set it (and give it to the "
                         "clients), or bind to 127.0.0.1", ", ".join(server.cfg.bind))
        raise SystemExit(3)
workers = int(os.environ.get("SCORING_WORKERS", "1"))
worker_class = "gthread"
threads = int(os.environ.get("SCORING_THREADS", "4"))
keepalive = 75
# A maximal batch (1,000 texts x 20,000 characters) takes ~30 s with `triage` on one
# core; a worker silent for longer than this is killed and restarted by the master.
timeout = 120
graceful_timeout = 20
accesslog = None
errorlog = "-"
loglevel = os.environ.get("SCORING_LOG_LEVEL", "info")
proc_name = "scoring_service"

# Each worker is a separate process: Prometheus counters must be written to files
# that /metrics aggregates, or a scrape would see only the worker that answered it.
# prometheus_client picks its value store when first imported, so the variable is set
# here, before anything in this process imports it.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="scoring-metrics-")


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
