"""The product's own processes: the scoring service (replicas behind HAProxy), the web app, the outbox relay, the
score listener, the SMTP endpoint and the mail relay, the SLA worker, the reports worker,
and the Spark streaming job: in local[2], or (cluster mode) submitted with spark-submit to
a Spark standalone master and its workers, which are components of their own."""
from __future__ import annotations

import functools
import importlib.util
import json
import os
import subprocess
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path

from stack.base import (
    CLUSTER,
    LOG,
    PY,
    ROOT,
    RUN,
    SCORING_PORT,
    SMTP_PORT,
    VAR,
    WEB_PORT,
    Component,
    http_ok,
    port_open,
    read_pid,
    spawn,
)
from triage_core.config import env_int, spark_kafka_jars

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


def parent_pid(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (FileNotFoundError, ValueError, IndexError):
        return None


def stream_healthy() -> bool:
    """The job writes var/run/stream.ready (named in TRIAGE_STREAM_READY_FILE) once its
    streaming query is running: its own PID, which is the stream's (local[2]), or a
    child's of it (under spark-submit the driver's Python is started by the JVM)."""
    ready = RUN / "stream.ready"
    pid = read_pid("stream")
    if pid is None or not ready.exists():
        return False
    try:
        driver = int(ready.read_text().strip())
    except ValueError:
        return False
    return driver == pid or parent_pid(driver) == pid


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



# --------------------------------------------------------------------------- Spark standalone (cluster mode)

def pip_spark_home() -> Path:
    """The Spark that pip installed with pyspark (bin/spark-class, bin/spark-submit, jars/):
    found without importing pyspark, which the stack's commands do not otherwise need."""
    spec = importlib.util.find_spec("pyspark")
    if spec is None or spec.origin is None:
        raise SystemExit("pyspark is not installed in .venv: run scripts/bootstrap.sh (make up does)")
    return Path(spec.origin).parent


SPARK_HOME = pip_spark_home()
SPARK_MASTER_PORT = env_int("TRIAGE_SPARK_MASTER_PORT", 7077)
SPARK_MASTER_UI_PORT = env_int("TRIAGE_SPARK_MASTER_UI_PORT", 8080)
SPARK_MASTER_URL = f"spark://127.0.0.1:{SPARK_MASTER_PORT}"
SPARK_WORKER_COUNT = max(1, env_int("TRIAGE_SPARK_WORKERS", 2))
SPARK_WORKER_CORES = max(1, env_int("TRIAGE_SPARK_WORKER_CORES", 1))
# Worker n: RPC on the master's port + n, its web UI on the master's UI port + n.
SPARK_WORKERS = {f"spark-worker-{n}": (SPARK_MASTER_PORT + n, SPARK_MASTER_UI_PORT + n)
                 for n in range(1, SPARK_WORKER_COUNT + 1)}


def spark_env() -> dict[str, str]:
    """Every Spark process on loopback, with the pip-installed Spark as its home."""
    return {"SPARK_HOME": str(SPARK_HOME), "SPARK_LOCAL_IP": "127.0.0.1", "SPARK_LOCAL_HOSTNAME": "127.0.0.1",
            "SPARK_CONF_DIR": str(ROOT / "infra" / "spark"), "PYSPARK_PYTHON": PY}


def spark_class(main: str, *args: str) -> list[str]:
    return [str(SPARK_HOME / "bin" / "spark-class"), main, *args]


# The master's REST submission server (port 6066, unauthenticated, and the same port for
# every stack on the machine) is off: the stack submits with spark-submit over RPC.
SPARK_MASTER_OPTS = "-Dspark.master.rest.enabled=false"


def start_spark_master() -> None:
    spawn("spark-master", spark_class("org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                                      "--port", str(SPARK_MASTER_PORT), "--webui-port", str(SPARK_MASTER_UI_PORT)),
          extra_env={**spark_env(), "SPARK_MASTER_OPTS": SPARK_MASTER_OPTS})


def start_spark_worker(name: str) -> None:
    port, ui_port = SPARK_WORKERS[name]
    work = VAR / "spark" / name
    work.mkdir(parents=True, exist_ok=True)
    spawn(name, spark_class("org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1", "--port", str(port),
                            "--webui-port", str(ui_port), "--cores", str(SPARK_WORKER_CORES),
                            "--memory", os.environ.get("TRIAGE_SPARK_WORKER_MEMORY", "2g"),
                            "--work-dir", str(work), SPARK_MASTER_URL),
          extra_env=spark_env())


def spark_master_state() -> dict | None:
    """The master's own JSON (/json/: its status, its workers, the running apps)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{SPARK_MASTER_UI_PORT}/json/", timeout=2) as resp:
            return json.loads(resp.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None


# The application name streaming/job.py gives its session (and spark-submit's --name).
SPARK_APP_NAME = "triage-streaming"


def stream_application() -> dict | None:
    """The stream's application as the master lists it (id, cores, ...), while it runs."""
    apps = [app for app in (spark_master_state() or {}).get("activeapps", []) if app.get("name") == SPARK_APP_NAME]
    return apps[0] if len(apps) == 1 else None


def spark_master_healthy() -> bool:
    state = spark_master_state()
    return read_pid("spark-master") is not None and bool(state) and state.get("status") == "ALIVE"


def spark_worker_healthy(name: str) -> bool:
    """Registered with the master and ALIVE (the master lists a dead one too, until it forgets it)."""
    state = spark_master_state()
    port = SPARK_WORKERS[name][0]
    return read_pid(name) is not None and bool(state) and any(
        w.get("port") == port and w.get("state") == "ALIVE" for w in state.get("workers", []))


def stream_package() -> Path:
    """The job's own modules for the executors (--py-files): streaming and triage_core,
    zipped fresh from the checkout at every start."""
    target = RUN / "triage_stream.zip"
    partial = target.with_suffix(".tmp")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        for package in ("streaming", "triage_core"):
            for path in sorted((ROOT / package).rglob("*.py")):
                archive.write(path, path.relative_to(ROOT).as_posix())
    partial.replace(target)
    return target


def spark_submit_argv() -> list[str]:
    """The streaming job under spark-submit, as docs/streaming.md says: the connector from
    set-up's jars (offline), the project's modules zipped, and the venv's Python on the
    driver and every executor; each executor one core of one worker."""
    cores = SPARK_WORKER_COUNT * SPARK_WORKER_CORES
    conf = {"spark.pyspark.python": PY, "spark.pyspark.driver.python": PY,
            "spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1",
            "spark.executor.cores": str(SPARK_WORKER_CORES), "spark.cores.max": str(cores),
            "spark.executor.memory": os.environ.get("TRIAGE_SPARK_EXECUTOR_MEMORY", "1g"),
            # A lost executor (a worker killed) is replaced when its worker is back.
            "spark.deploy.maxExecutorRetries": "-1"}
    return [str(SPARK_HOME / "bin" / "spark-submit"), "--master", SPARK_MASTER_URL, "--deploy-mode", "client",
            "--name", SPARK_APP_NAME, "--jars", ",".join(spark_kafka_jars()),
            "--py-files", str(stream_package()),
            *[arg for key, value in conf.items() for arg in ("--conf", f"{key}={value}")],
            str(ROOT / "streaming" / "job.py")]


def start_stream() -> None:
    ready = {"TRIAGE_STREAM_READY_FILE": str(RUN / "stream.ready")}
    if CLUSTER:
        spawn("stream", spark_submit_argv(), extra_env={**spark_env(), **ready})
    else:
        spawn("stream", [PY, "-m", "streaming.job"], extra_env=ready)


SPARK_CLUSTER = [
    Component("spark-master", start_spark_master, spark_master_healthy, None, 90,
              f"{SPARK_MASTER_URL} (UI http://127.0.0.1:{SPARK_MASTER_UI_PORT})"),
    *[Component(name, functools.partial(start_spark_worker, name), functools.partial(spark_worker_healthy, name),
                None, 90, f"spark://127.0.0.1:{port} (UI http://127.0.0.1:{ui})")
      for name, (port, ui) in SPARK_WORKERS.items()],
] if CLUSTER else []


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
    *SPARK_CLUSTER,
    Component("stream", start_stream, stream_healthy, None, 180, before_start=clear_stream_ready),
]

# What the supervisor restarts when it dies (stack.supervisor); it is itself the last
# component, so `up` starts it once everything is up and `down` stops it first.
SUPERVISED = [c.name for c in COMPONENTS]
COMPONENTS.append(Component("supervisor", python_component("supervisor", ["scripts/stack", "supervise"]),
                            alive("supervisor"), None, 20))
