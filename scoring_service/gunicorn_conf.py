"""gunicorn settings of the scoring service.

    gunicorn -c scoring_service/gunicorn_conf.py 'scoring_service.app:create_app()'
    python -m scoring_service --port 9000 --workers 2      # the same, with flags

gthread workers keep HTTP connections alive between requests (the sync worker closes
every one), which is what a batching client such as the Spark job wants. Bound to
loopback unless SCORING_BIND says otherwise; set SCORING_TOKEN when it is not.
"""
import os
import tempfile

bind = os.environ.get("SCORING_BIND", "127.0.0.1:9000")
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
