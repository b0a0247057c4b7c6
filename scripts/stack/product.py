"""The product's own processes: the scoring service (replicas behind HAProxy), the web app, the outbox relay, the
score listener, the SMTP endpoint and the mail relay, the SLA worker, the reports worker,
and the Spark streaming job."""
from __future__ import annotations

import functools
import subprocess
from collections.abc import Callable

from stack.base import (
    LOG,
    PY,
    ROOT,
    RUN,
    SCORING_PORT,
    SMTP_PORT,
    WEB_PORT,
    Component,
    http_ok,
    port_open,
    read_pid,
    spawn,
)
from triage_core.config import env_int

# Two gunicorn workers in all: the model is the pipeline's bottleneck and one worker is one
# core. They run as replicas of the service (scoring-1, scoring-2, one worker each) behind
# HAProxy on the service's address, which checks each replica's /readyz every second and
# sends requests only to those that answer: a replica that dies costs no batch.
SCORING_WORKERS = env_int("TRIAGE_SCORING_WORKERS", 2)
REPLICA_COUNT = max(1, env_int("TRIAGE_SCORING_REPLICAS", 2))
REPLICA_WORKERS = max(1, SCORING_WORKERS // REPLICA_COUNT)
SCORING_REPLICAS = {f"scoring-{n}": env_int("TRIAGE_SCORING_REPLICA_BASE_PORT", SCORING_PORT + 1) + n - 1
                    for n in range(1, REPLICA_COUNT + 1)}
HAPROXY = "/usr/sbin/haproxy"


BALANCER_DEFAULTS = ROOT / "infra" / "haproxy" / "scoring-defaults.cfg"


def balancer_config() -> str:
    """HAProxy's frontend on the service's address and one server per replica; the checks,
    retries and timeouts are BALANCER_DEFAULTS, read first (shared with compose.cluster.yaml)."""
    servers = "\n".join(f"    server {name} 127.0.0.1:{port} check" for name, port in SCORING_REPLICAS.items())
    return f"""frontend scoring
    bind 127.0.0.1:{SCORING_PORT}
    default_backend replicas

backend replicas
{servers}
"""


def start_balancer() -> None:
    config = RUN / "haproxy.cfg"
    RUN.mkdir(parents=True, exist_ok=True)
    config.write_text(balancer_config())
    files = ["-f", str(BALANCER_DEFAULTS), "-f", str(config)]
    check = subprocess.run([HAPROXY, "-c", "-q", *files], capture_output=True, text=True)
    if check.returncode != 0:
        raise SystemExit(f"HAProxy refuses {BALANCER_DEFAULTS} + {config}: {check.stdout}{check.stderr}")
    spawn("scoring", [HAPROXY, "-db", *files])


def python_component(name: str, argv: list[str], extra_env: dict[str, str] | None = None) -> Callable[[], None]:
    return lambda: spawn(name, [PY, *argv], extra_env=extra_env)


def alive(name: str) -> Callable[[], bool]:
    return lambda: read_pid(name) is not None


def stream_healthy() -> bool:
    """The job writes var/run/stream.ready (named in TRIAGE_STREAM_READY_FILE) once its
    streaming query is running."""
    ready = RUN / "stream.ready"
    pid = read_pid("stream")
    return pid is not None and ready.exists() and ready.read_text().strip() == str(pid)


def spawn_web() -> None:
    spawn("web", [PY, "-m", "triage_app.serve", "-b", "127.0.0.1", "-p", str(WEB_PORT),
                  "config.asgi:application"])


def start_web() -> None:
    manage = [PY, "manage.py"]
    for cmd in (["migrate", "--noinput"], ["collectstatic", "--noinput"], ["ensure_admin"]):
        result = subprocess.run([*manage, *cmd], cwd=ROOT, capture_output=True, text=True)
        if result.returncode != 0:
            (LOG / "web-setup.log").write_text(result.stdout + result.stderr)
            raise SystemExit(f"`manage.py {' '.join(cmd)}` failed; see {LOG / 'web-setup.log'}")
        if cmd[0] == "ensure_admin" and result.stdout.strip():
            print(result.stdout.strip(), flush=True)
    spawn_web()



def clear_stream_ready() -> None:
    (RUN / "stream.ready").unlink(missing_ok=True)


COMPONENTS = [
    # The scoring service: replicas behind HAProxy, which owns the service's address.
    *[Component(name, python_component(name, ["-m", "scoring_service", "--port", str(port),
                                              "--workers", str(REPLICA_WORKERS)]),
                functools.partial(http_ok, f"http://127.0.0.1:{port}/readyz"), None, 90, f"http://127.0.0.1:{port}")
      for name, port in SCORING_REPLICAS.items()],
    Component("scoring", start_balancer, lambda: http_ok(f"http://127.0.0.1:{SCORING_PORT}/readyz"), None, 30,
              f"http://127.0.0.1:{SCORING_PORT} (HAProxy)"),
    # The supervisor restarts it without the set-up (migrations ran when it was started).
    Component("web", start_web, lambda: read_pid("web") is not None and http_ok(f"http://127.0.0.1:{WEB_PORT}/"),
              None, 90, f"http://127.0.0.1:{WEB_PORT}", respawn=spawn_web),
    Component("relay", python_component("relay", ["manage.py", "outbox_relay"]), alive("relay"), None, 20),
    Component("listener", python_component("listener", ["manage.py", "score_listener"]), alive("listener"), None, 20),
    # The product's SMTP endpoint: customers' replies, and locally the Maildir var/mail/
    # that stands in for customers' mailboxes; then the relay that sends the mail outbox.
    Component("mail", python_component("mail", ["manage.py", "mail_server"]),
              lambda: read_pid("mail") is not None and port_open("127.0.0.1", SMTP_PORT), None, 30,
              f"smtp://127.0.0.1:{SMTP_PORT}"),
    Component("mailer", python_component("mailer", ["manage.py", "mail_relay"]), alive("mailer"), None, 20),
    # Service levels: due times, SLA states and the queue's rank of every open complaint.
    Component("sla", python_component("sla", ["manage.py", "sla_worker", "--interval",
                                              str(env_int("TRIAGE_SLA_INTERVAL_S", 30))]), alive("sla"), None, 20),
    # The operational reports' materialised aggregates, refreshed on a clock (never in a request).
    Component("reports", python_component("reports", ["manage.py", "reports_worker", "--interval",
                                                      str(env_int("TRIAGE_REPORTS_INTERVAL_S", 300))]),
              alive("reports"), None, 20),
    # Alerts outside the dashboard: signed webhooks and on-call mail, from the alert outbox.
    Component("alerts", python_component("alerts", ["manage.py", "alert_relay"]), alive("alerts"), None, 20),
    Component("stream", python_component("stream", ["-m", "streaming.job"],
                                         {"TRIAGE_STREAM_READY_FILE": str(RUN / "stream.ready")}),
              stream_healthy, None, 180, before_start=clear_stream_ready),
]

# What the supervisor restarts when it dies (stack.supervisor); it is itself the last
# component, so `up` starts it once everything is up and `down` stops it first.
SUPERVISED = [c.name for c in COMPONENTS]
COMPONENTS.append(Component("supervisor", python_component("supervisor", ["scripts/stack", "supervise"]),
                            alive("supervisor"), None, 20))
