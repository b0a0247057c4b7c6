"""Start, stop and check the whole product on one machine.

    python scripts/stack.py up                 # start everything, wait until healthy
    python scripts/stack.py down               # stop what `up` started, by PID
    python scripts/stack.py status
    python scripts/stack.py start kafka        # one component (tests use these)
    python scripts/stack.py stop stream [--kill]
    python scripts/stack.py wipe               # stop and delete the data of a non-default var dir

Every server binds to 127.0.0.1. PIDs live in var/run/, logs in var/log/, data in
var/ (Postgres, Kafka, Spark checkpoints), so data survives `down` + `up`.
Running `up` again while up is harmless: a healthy component is left alone.

With TRIAGE_VAR_DIR and the address and port variables set (scripts/test-stack.env),
a second, wholly separate stack runs beside the first: `make test` runs its end-to-end
tests on one, in var/test, so that a `make up` stack in var/ is left alone.
"""
from __future__ import annotations

import argparse
import base64
import functools
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from triage_core.config import DEFAULT_VAR_DIR, addresses, build_dir, env, env_int, var_dir  # noqa: E402

VAR = var_dir()
RUN = VAR / "run"
LOG = VAR / "log"
PY = str(ROOT / ".venv" / "bin" / "python")
PG_BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)), Path("/usr/lib/postgresql/15/bin"))
PG_USER = "postgres"  # PostgreSQL refuses to run as root
WEB_PORT = env_int("TRIAGE_WEB_PORT", 8000)
SCORING_PORT = env_int("TRIAGE_SCORING_PORT", 9000)
SMTP_PORT = env_int("TRIAGE_SMTP_PORT", 2525)
# Two gunicorn workers: the model is the pipeline's bottleneck and one worker is one core.
SCORING_WORKERS = env_int("TRIAGE_SCORING_WORKERS", 2)


def host_port(url_or_pair: str, default_port: int) -> tuple[str, int]:
    rest = url_or_pair.split("://", 1)[-1].split("/", 1)[0].rsplit("@", 1)[-1]
    host, _, port = rest.partition(":")
    return host or "127.0.0.1", int(port or default_port)


ADDR = addresses()
PG_HOST, PG_PORT = host_port(ADDR.database_url, 5432)
REDIS_HOST, REDIS_PORT = host_port(ADDR.redis_url, 6379)
KAFKA_HOST, KAFKA_PORT = host_port(ADDR.kafka_bootstrap, 9092)
KAFKA_CONTROLLER_PORT = env_int("TRIAGE_KAFKA_CONTROLLER_PORT", KAFKA_PORT + 1)


def log(msg: str) -> None:
    print(f"\033[1m[stack]\033[0m {msg}", flush=True)


# --------------------------------------------------------------------------- processes

def pid_file(name: str) -> Path:
    return RUN / f"{name}.pid"


def read_pid(name: str) -> int | None:
    try:
        pid = int(pid_file(name).read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    # A zombie (finished child of this process) counts as gone.
    try:
        if Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
            return None
    except (FileNotFoundError, IndexError):
        return None
    return pid


def spawn(name: str, argv: list[str], *, extra_env: dict[str, str] | None = None, user: str | None = None) -> int:
    """Start `argv` detached in its own process group, output to var/log/<name>.log."""
    RUN.mkdir(parents=True, exist_ok=True)
    LOG.mkdir(parents=True, exist_ok=True)
    logfile = open(LOG / f"{name}.log", "ab")
    # The local stack runs the local settings, whatever the caller's (a test run's are
    # config.settings.test).
    proc_env = {**os.environ, "PYTHONUNBUFFERED": "1", "DJANGO_SETTINGS_MODULE": "config.settings.local",
                **(extra_env or {})}
    if user:
        argv = ["runuser", "-u", user, "--", *argv]
    proc = subprocess.Popen(argv, cwd=ROOT, env=proc_env, stdout=logfile, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    pid_file(name).write_text(str(proc.pid))
    return proc.pid


def stop_pid(name: str, *, kill: bool = False, timeout: float = 30.0) -> None:
    pid = read_pid(name)
    if pid is None:
        pid_file(name).unlink(missing_ok=True)
        return
    sig = signal.SIGKILL if kill else signal.SIGTERM
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + timeout
    while read_pid(name) is not None and time.monotonic() < deadline:
        time.sleep(0.2)
    if read_pid(name) is not None:
        log(f"{name} did not stop in {timeout:.0f}s; killing it")
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        time.sleep(0.5)
    pid_file(name).unlink(missing_ok=True)


def port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return 200 <= resp.status < 400
    except (urllib.error.URLError, OSError, ValueError):
        return False


# --------------------------------------------------------------------------- components

@dataclass
class Component:
    name: str
    start: Callable[[], None]
    healthy: Callable[[], bool]
    stop: Callable[[bool], None]
    timeout: float = 60.0
    url: str = ""


def pg_run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["runuser", "-u", PG_USER, "--", *args], cwd="/", check=check,
                          capture_output=True, text=True)


def postgres_can_reach(folder: Path) -> bool:
    probe = folder
    while not probe.exists():
        probe = probe.parent
    return pg_run("test", "-x", str(probe), check=False).returncode == 0


@functools.cache
def pg_home() -> Path:
    """var/ when the postgres user can reach it; else a folder of its own keyed by this checkout.

    A clone under a root-only folder (0700 somewhere up the path) is unreachable for
    the `postgres` user, and PostgreSQL refuses to run as root.
    """
    if postgres_can_reach(VAR):
        return VAR
    # Keyed by the checkout for the default var/ (as before), by the var dir otherwise,
    # so that the test stack's cluster (var/test) is not the `make up` stack's.
    key = str(ROOT) if VAR == DEFAULT_VAR_DIR else str(VAR)
    return Path("/var/lib/triage") / hashlib.sha256(key.encode()).hexdigest()[:12]


def pg_data() -> Path:
    return pg_home() / "pgdata"


def pg_socket_dir() -> Path:
    return pg_data().parent / "pgsock"


def start_postgres() -> None:
    data = pg_data()
    socket_dir = pg_socket_dir()
    for folder in (data, socket_dir):
        folder.mkdir(parents=True, exist_ok=True)
        shutil.chown(folder, PG_USER, PG_USER)
    if data.parent != VAR:
        log(f"the postgres user cannot reach {VAR}; its data lives in {data}")
    os.chmod(data, 0o700)
    if not (data / "PG_VERSION").exists():
        log(f"initialising the Postgres cluster in {data}")
        pg_run(str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth-local=trust",
               "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8")
    argv = [str(PG_BIN / "postgres"), "-D", str(data), "-c", f"listen_addresses={PG_HOST}",
            "-c", f"port={PG_PORT}", "-c", f"unix_socket_directories={socket_dir}",
            "-c", "max_connections=200", "-c", "shared_buffers=256MB"]
    spawn("postgres", argv, user=PG_USER)


def psql(sql: str, db: str = "postgres") -> str:
    out = pg_run(str(PG_BIN / "psql"), "-h", str(pg_socket_dir()), "-p", str(PG_PORT), "-U", "postgres",
                 "-d", db, "-tAc", sql)
    return out.stdout.strip()


def ensure_database() -> None:
    url = ADDR.database_url.split("://", 1)[1]
    creds, _, rest = url.rpartition("@")
    user, _, password = creds.partition(":")
    dbname = rest.split("/", 1)[1].split("?", 1)[0]
    password = password.replace("'", "''")
    if psql(f"SELECT 1 FROM pg_roles WHERE rolname = '{user}'") != "1":
        psql(f"CREATE ROLE \"{user}\" LOGIN CREATEDB PASSWORD '{password}'")
    else:
        # Every start: a cluster made before passwords were generated (the documented
        # `triage`) takes the generated one; the clients have no other.
        psql(f"ALTER ROLE \"{user}\" PASSWORD '{password}'")
    if psql(f"SELECT 1 FROM pg_database WHERE datname = '{dbname}'") != "1":
        psql(f"CREATE DATABASE \"{dbname}\" OWNER \"{user}\"")


def postmaster_pid() -> int | None:
    """The running postmaster's PID, from its own lock file.

    The PID file of `spawn` holds `runuser`'s PID, which exits before the postmaster
    has finished shutting down; a new postmaster started then finds the data directory
    still locked. The lock file tells the truth.
    """
    try:
        pid = int((pg_data() / "postmaster.pid").read_text().split("\n", 1)[0])
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
        return None
    return pid


def postgres_healthy() -> bool:
    if postmaster_pid() is None or not port_open(PG_HOST, PG_PORT):
        return False
    ready = pg_run(str(PG_BIN / "pg_isready"), "-h", str(pg_socket_dir()), "-p", str(PG_PORT), check=False)
    return ready.returncode == 0


def stop_postgres(kill: bool) -> None:
    pid = postmaster_pid()
    if pid is not None and kill:
        os.kill(pid, signal.SIGKILL)
    elif pid is not None:
        # "fast" shutdown: disconnects clients, checkpoints, exits cleanly; -w waits for it.
        pg_run(str(PG_BIN / "pg_ctl"), "stop", "-D", str(pg_data()), "-m", "fast", "-w", "-t", "60", check=False)
    stop_pid("postgres", kill=kill)
    deadline = time.monotonic() + 30
    while postmaster_pid() is not None and time.monotonic() < deadline:
        time.sleep(0.2)


def running_pid(name: str) -> int | None:
    return postmaster_pid() if name == "postgres" else read_pid(name)


def redis_user() -> tuple[str, str] | None:
    """(user, password) of TRIAGE_REDIS_URL, or None when it names no user."""
    parts = urlsplit(ADDR.redis_url)
    return (unquote(parts.username), unquote(parts.password or "")) if parts.username else None


def start_redis() -> None:
    """Redis with one ACL user, the clients' (its generated password in an ACL file
    of mode 0600, never on the command line where `ps` shows it); the passwordless
    `default` user is off."""
    folder = VAR / "redis"
    folder.mkdir(parents=True, exist_ok=True)
    argv = ["redis-server", "--bind", REDIS_HOST, "--port", str(REDIS_PORT), "--dir", str(folder),
            "--save", "", "--appendonly", "no", "--protected-mode", "yes"]
    account = redis_user()
    if account is not None:
        acl = folder / "users.acl"
        acl.write_text(f"user {account[0]} on >{account[1]} ~* &* +@all\nuser default off\n")
        acl.chmod(0o600)
        argv += ["--aclfile", str(acl)]
    spawn("redis", argv)


def redis_healthy() -> bool:
    account = redis_user()
    auth = f"AUTH {account[0]} {account[1]}\r\n".encode() if account else b""
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=1) as sock:
            sock.sendall(auth + b"PING\r\n")
            answer = b""
            while answer.count(b"\r\n") < (2 if account else 1):
                chunk = sock.recv(64)
                if not chunk:
                    break
                answer += chunk
            return answer == (b"+OK\r\n" if account else b"") + b"+PONG\r\n"
    except OSError:
        return False


def kafka_dir() -> Path:
    return VAR / "kafka"


def kafka_java(main: str, *args: str) -> list[str]:
    libs = build_dir() / "kafka" / "libs"
    if not any(libs.glob("kafka_2.13-*.jar")):
        raise SystemExit(f"no Kafka jars in {libs}: run scripts/bootstrap.sh (make up does)")
    return ["java", f"-Xmx{env('TRIAGE_KAFKA_HEAP', '768m')}", "-Xms256m",
            f"-Dlog4j2.configurationFile={ROOT / 'infra/kafka/log4j2.properties'}",
            "-cp", f"{libs}/*", main, *args]


def write_kafka_config() -> Path:
    base = kafka_dir()
    base.mkdir(parents=True, exist_ok=True)
    props = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.bootstrap.servers": f"{KAFKA_HOST}:{KAFKA_CONTROLLER_PORT}",
        "listeners": f"PLAINTEXT://{KAFKA_HOST}:{KAFKA_PORT},CONTROLLER://{KAFKA_HOST}:{KAFKA_CONTROLLER_PORT}",
        "advertised.listeners": f"PLAINTEXT://{KAFKA_HOST}:{KAFKA_PORT}",
        "controller.listener.names": "CONTROLLER",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "inter.broker.listener.name": "PLAINTEXT",
        "log.dirs": str(base / "data"),
        "num.partitions": str(env_int("TRIAGE_KAFKA_PARTITIONS", 2)),
        "offsets.topic.replication.factor": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        "auto.create.topics.enable": "true",
        "log.retention.hours": "168",
    }
    path = base / "server.properties"
    path.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
    return path


def start_kafka() -> None:
    config = write_kafka_config()
    if not (kafka_dir() / "data" / "meta.properties").exists():
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        log("formatting Kafka storage (KRaft, standalone controller)")
        subprocess.run(kafka_java("kafka.tools.StorageTool", "format", "--standalone", "-t", cluster_id,
                                  "-c", str(config)), check=True, capture_output=True)
    spawn("kafka", kafka_java("kafka.Kafka", str(config)))


def kafka_healthy() -> bool:
    if not port_open(KAFKA_HOST, KAFKA_PORT):
        return False
    from confluent_kafka.admin import AdminClient

    try:
        meta = AdminClient({"bootstrap.servers": ADDR.kafka_bootstrap}).list_topics(timeout=3)
    except Exception:  # the broker not answering yet is just "not healthy"
        return False
    return bool(meta.brokers)


def ensure_topic() -> None:
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": ADDR.kafka_bootstrap})
    partitions = env_int("TRIAGE_KAFKA_PARTITIONS", 2)
    existing = admin.list_topics(timeout=10).topics
    for topic in (ADDR.kafka_topic,):
        if topic in existing:
            continue
        log(f"creating topic {topic!r} with {partitions} partitions")
        for future in admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)]).values():
            future.result(timeout=30)


def python_component(name: str, argv: list[str]) -> Callable[[], None]:
    return lambda: spawn(name, [PY, *argv])


def alive(name: str) -> Callable[[], bool]:
    return lambda: read_pid(name) is not None


def stream_healthy() -> bool:
    """The job writes var/run/stream.ready once its streaming query is running."""
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


def simple_stop(name: str) -> Callable[[bool], None]:
    return lambda kill: stop_pid(name, kill=kill)


COMPONENTS: dict[str, Component] = {c.name: c for c in [
    Component("postgres", start_postgres, postgres_healthy, stop_postgres, 60,
              f"postgresql://{PG_HOST}:{PG_PORT}"),
    Component("redis", start_redis, redis_healthy, simple_stop("redis"), 30, f"redis://{REDIS_HOST}:{REDIS_PORT}"),
    Component("kafka", start_kafka, kafka_healthy, simple_stop("kafka"), 120, ADDR.kafka_bootstrap),
    Component("scoring", python_component("scoring", ["-m", "scoring_service", "--port", str(SCORING_PORT),
                                                "--workers", str(SCORING_WORKERS)]),
              lambda: http_ok(f"http://127.0.0.1:{SCORING_PORT}/readyz"), simple_stop("scoring"), 90,
              f"http://127.0.0.1:{SCORING_PORT}"),
    Component("web", start_web, lambda: read_pid("web") is not None and http_ok(f"http://127.0.0.1:{WEB_PORT}/"),
              simple_stop("web"), 90, f"http://127.0.0.1:{WEB_PORT}"),
    Component("relay", python_component("relay", ["manage.py", "outbox_relay"]), alive("relay"), simple_stop("relay"),
              20),
    Component("listener", python_component("listener", ["manage.py", "score_listener"]), alive("listener"),
              simple_stop("listener"), 20),
    # The product's SMTP endpoint: customers' replies, and locally the Maildir var/mail/
    # that stands in for customers' mailboxes; then the relay that sends the mail outbox.
    Component("mail", python_component("mail", ["manage.py", "mail_server"]),
              lambda: read_pid("mail") is not None and port_open("127.0.0.1", SMTP_PORT), simple_stop("mail"), 30,
              f"smtp://127.0.0.1:{SMTP_PORT}"),
    Component("mailer", python_component("mailer", ["manage.py", "mail_relay"]), alive("mailer"),
              simple_stop("mailer"), 20),
    Component("stream", python_component("stream", ["-m", "streaming.job"]), stream_healthy,
              simple_stop("stream"), 180),
]}
ORDER = list(COMPONENTS)


PRIVATE_DIRS = ("run", "log", "kafka", "redis", "mail", "checkpoints", "secrets")


def make_var_private() -> None:
    """var/ holds complaint text (Kafka segments, checkpoints), customers' mail and the
    stack's secrets: readable by the product only. The var dir itself is 0711, so the
    `postgres` user can still reach its own data folder inside it (0700, its own)."""
    VAR.mkdir(parents=True, exist_ok=True)
    os.chmod(VAR, 0o711)
    for name in PRIVATE_DIRS:
        folder = VAR / name
        folder.mkdir(exist_ok=True)
        os.chmod(folder, 0o700)


def wait_healthy(comp: Component) -> None:
    deadline = time.monotonic() + comp.timeout
    while time.monotonic() < deadline:
        if comp.healthy():
            return
        if running_pid(comp.name) is None and (comp.name != "postgres" or read_pid("postgres") is None):
            break
        time.sleep(0.5)
    tail = ""
    logfile = LOG / f"{comp.name}.log"
    if logfile.exists():
        tail = "\n".join(logfile.read_text(errors="replace").splitlines()[-25:])
    raise SystemExit(f"{comp.name} is not healthy (see {logfile}):\n{tail}")


def start(name: str) -> None:
    comp = COMPONENTS[name]
    if comp.healthy():
        log(f"{name}: already up")
    else:
        if running_pid(name) is not None:
            log(f"{name}: running but not healthy yet; waiting")
        else:
            log(f"{name}: starting (log: {LOG / (name + '.log')})")
            if name == "stream":
                (RUN / "stream.ready").unlink(missing_ok=True)
            comp.start()
        wait_healthy(comp)
        log(f"{name}: healthy")
    if name == "postgres":
        ensure_database()
    if name == "kafka":
        ensure_topic()


def stop(name: str, kill: bool = False) -> None:
    if running_pid(name) is None and read_pid(name) is None:
        pid_file(name).unlink(missing_ok=True)
        return
    log(f"{name}: {'killing' if kill else 'stopping'}")
    COMPONENTS[name].stop(kill)


def up(names: list[str]) -> None:
    for name in names:
        start(name)
    log("up. URLs:")
    for name in names:
        if COMPONENTS[name].url:
            print(f"    {name:<9} {COMPONENTS[name].url}")
    print(f"    customer form   http://127.0.0.1:{WEB_PORT}/")
    print(f"    staff queue     http://127.0.0.1:{WEB_PORT}/staff/")
    print(f"    admin           http://127.0.0.1:{WEB_PORT}/admin/")
    print(f"    API schema      http://127.0.0.1:{WEB_PORT}/api/schema/")
    print(f"    sent mail       http://127.0.0.1:{WEB_PORT}/staff/mail/ (files in {VAR / 'mail'})")


def wipe() -> None:
    """Stop every part and delete the var dir's data, so the next `up` starts afresh.

    For the test stack (`make test` wipes var/test before each run, so a run never
    meets a Kafka topic, checkpoint or database left by an earlier one). Refused for the
    default var/: that is the data of a person's `make up` stack.
    """
    if VAR.resolve() == DEFAULT_VAR_DIR.resolve():
        raise SystemExit(f"refusing to wipe {VAR}: it holds the `make up` stack's data (set TRIAGE_VAR_DIR)")
    for name in reversed(ORDER):
        stop(name)
    for folder in {VAR, pg_home()}:
        if folder.exists():
            log(f"deleting {folder}")
            shutil.rmtree(folder)


def status() -> int:
    bad = 0
    for name, comp in COMPONENTS.items():
        pid = running_pid(name)
        ok = comp.healthy()
        bad += not ok
        print(f"{name:<9} {'healthy' if ok else ('running, unhealthy' if pid else 'stopped'):<20} "
              f"pid={pid or '-':<8} log={LOG / (name + '.log')}")
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["up", "down", "status", "start", "stop", "restart", "wipe"])
    parser.add_argument("names", nargs="*", help=f"components (default all): {', '.join(ORDER)}")
    parser.add_argument("--kill", action="store_true", help="stop with SIGKILL (fault tests)")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in COMPONENTS]
    if unknown:
        parser.error(f"unknown component(s) {unknown}; known: {ORDER}")
    names = [n for n in ORDER if n in args.names] if args.names else ORDER
    if args.action in ("up", "start", "restart"):
        make_var_private()
    if args.action in ("up", "start"):
        up(names) if args.action == "up" else [start(n) for n in names]
    elif args.action in ("down", "stop"):
        for name in reversed(names):
            stop(name, kill=args.kill)
    elif args.action == "restart":
        for name in reversed(names):
            stop(name, kill=args.kill)
        for name in names:
            start(name)
    elif args.action == "wipe":
        wipe()
    else:
        return status()
    return 0


if __name__ == "__main__":
    sys.exit(main())
