"""The product's own processes: the scoring service, the web app, the outbox relay, the
score listener, the SMTP endpoint and the mail relay, the SLA worker, and the Spark
streaming job."""
from __future__ import annotations

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

# Two gunicorn workers: the model is the pipeline's bottleneck and one worker is one core.
SCORING_WORKERS = env_int("TRIAGE_SCORING_WORKERS", 2)


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


def start_web() -> None:
    manage = [PY, "manage.py"]
    for cmd in (["migrate", "--noinput"], ["collectstatic", "--noinput"], ["ensure_admin"]):
        result = subprocess.run([*manage, *cmd], cwd=ROOT, capture_output=True, text=True)
        if result.returncode != 0:
            (LOG / "web-setup.log").write_text(result.stdout + result.stderr)
            raise SystemExit(f"`manage.py {' '.join(cmd)}` failed; see {LOG / 'web-setup.log'}")
        if cmd[0] == "ensure_admin" and result.stdout.strip():
            print(result.stdout.strip(), flush=True)
    spawn("web", [PY, "-m", "triage_app.serve", "-b", "127.0.0.1", "-p", str(WEB_PORT),
                  "config.asgi:application"])



def clear_stream_ready() -> None:
    (RUN / "stream.ready").unlink(missing_ok=True)


COMPONENTS = [
    Component("scoring", python_component("scoring", ["-m", "scoring_service", "--port", str(SCORING_PORT),
                                                "--workers", str(SCORING_WORKERS)]),
              lambda: http_ok(f"http://127.0.0.1:{SCORING_PORT}/readyz"), None, 90, f"http://127.0.0.1:{SCORING_PORT}"),
    Component("web", start_web, lambda: read_pid("web") is not None and http_ok(f"http://127.0.0.1:{WEB_PORT}/"),
              None, 90, f"http://127.0.0.1:{WEB_PORT}"),
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
    Component("stream", python_component("stream", ["-m", "streaming.job"],
                                         {"TRIAGE_STREAM_READY_FILE": str(RUN / "stream.ready")}),
              stream_healthy, None, 180, before_start=clear_stream_ready),
]
