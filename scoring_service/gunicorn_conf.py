"""gunicorn settings of the scoring service.

    gunicorn -c scoring_service/gunicorn_conf.py 'scoring_service.app:create_app()'
    python -m scoring_service --port 9000 --workers 2      # the same, with flags

gthread workers keep HTTP connections alive between requests (the sync worker closes
every one), which is what a batching client such as the Spark job wants. Bound to
loopback unless TRIAGE_SCORING_BIND or --bind says otherwise; bound anywhere else, it refuses to
start unless TRIAGE_SCORING_TOKEN is set (a token generated into this machine's var/ is
known to no client on another machine, and no token is an open door).
"""
import os
import tempfile

from scoring_service.binding import loopback_only
from triage_core.config import scoring_env, scoring_server

server_settings = scoring_server()
bind = server_settings.bind


def on_starting(server):
    """Refuse a bind beyond loopback without a token of the deployment's own."""
    # A deployment's own token (TRIAGE_SCORING_TOKEN), not one generated into var/.
    own_token = scoring_env("TOKEN", "")
    if not loopback_only(server.cfg.bind) and not own_token:
        server.log.error("refusing to serve on %s without TRIAGE_SCORING_TOKEN: set it (and give it to the "
                         "clients), or bind to 127.0.0.1", ", ".join(server.cfg.bind))
        raise SystemExit(3)
workers = server_settings.workers
worker_class = "gthread"
threads = server_settings.threads
keepalive = 75
# A maximal batch (1,000 texts x 20,000 characters) takes ~30 s with `triage` on one
# core; a worker silent for longer than this is killed and restarted by the master.
timeout = 120
graceful_timeout = 20
accesslog = None
errorlog = "-"
loglevel = server_settings.log_level
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
