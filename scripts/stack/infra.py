"""The stack's servers that are not the product's code: PostgreSQL (run as the `postgres`
user, which it insists on), Redis with an ACL user, and Kafka in KRaft mode."""
from __future__ import annotations

import base64
import functools
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path
from urllib.parse import unquote, urlsplit

from stack.base import ADDR, ROOT, VAR, Component, host_port, log, port_open, spawn, stop_pid
from triage_core.config import (
    DEFAULT_VAR_DIR,
    JAAS_MODULES,
    KAFKA_ADMIN,
    KAFKA_SCRAM_MECHANISM,
    build_dir,
    env,
    env_int,
    jaas_login,
    kafka_login,
)

PG_BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)), Path("/usr/lib/postgresql/15/bin"))
PG_USER = "postgres"  # PostgreSQL refuses to run as root
PG_HOST, PG_PORT = host_port(ADDR.database_url, 5432)
REDIS_HOST, REDIS_PORT = host_port(ADDR.redis_url, 6379)
KAFKA_HOST, KAFKA_PORT = host_port(ADDR.kafka_bootstrap, 9092)
KAFKA_CONTROLLER_PORT = env_int("TRIAGE_KAFKA_CONTROLLER_PORT", KAFKA_PORT + 1)


# --------------------------------------------------------------------------- postgres

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



# --------------------------------------------------------------------------- redis

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


# --------------------------------------------------------------------------- kafka

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
    """server.properties (0600: it holds the admin's password) for one KRaft node.

    Every listener asks for a login (SASL): clients log in with SCRAM-SHA-512 as their
    role (app, loader, stream: triage_core.config.KAFKA_ROLES), the broker and set-up as
    `admin` with PLAIN, whose one user is defined here. The StandardAuthorizer allows
    what ensure_access grants and nothing else (no ACL, no access); `admin` is the super
    user. TRIAGE_KAFKA_SECURITY_PROTOCOL=PLAINTEXT runs the broker open, as before."""
    base = kafka_dir()
    base.mkdir(parents=True, exist_ok=True)
    admin = kafka_login(KAFKA_ADMIN)
    listener = "SASL_PLAINTEXT" if admin.mechanism else "PLAINTEXT"
    props = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.bootstrap.servers": f"{KAFKA_HOST}:{KAFKA_CONTROLLER_PORT}",
        "listeners": f"{listener}://{KAFKA_HOST}:{KAFKA_PORT},CONTROLLER://{KAFKA_HOST}:{KAFKA_CONTROLLER_PORT}",
        "advertised.listeners": f"{listener}://{KAFKA_HOST}:{KAFKA_PORT}",
        "controller.listener.names": "CONTROLLER",
        "listener.security.protocol.map": f"CONTROLLER:{listener},{listener}:{listener}",
        "inter.broker.listener.name": listener,
        "log.dirs": str(base / "data"),
        "num.partitions": str(env_int("TRIAGE_KAFKA_PARTITIONS", 2)),
        "offsets.topic.replication.factor": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        # Topics exist because set-up made them; a typo in a client makes none.
        "auto.create.topics.enable": "false",
        "log.retention.hours": "168",
    }
    if admin.mechanism:
        plain = jaas_login(JAAS_MODULES["PLAIN"], username=admin.username, password=admin.password,
                           **{f"user_{admin.username}": admin.password})
        props |= {
            "sasl.mechanism.inter.broker.protocol": "PLAIN",
            "sasl.mechanism.controller.protocol": "PLAIN",
            "listener.name.sasl_plaintext.sasl.enabled.mechanisms": f"{KAFKA_SCRAM_MECHANISM},PLAIN",
            "listener.name.sasl_plaintext.plain.sasl.jaas.config": plain,
            f"listener.name.sasl_plaintext.{KAFKA_SCRAM_MECHANISM.lower()}.sasl.jaas.config":
                f"{JAAS_MODULES[KAFKA_SCRAM_MECHANISM]} required;",
            "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
            "listener.name.controller.plain.sasl.jaas.config": plain,
            "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            "super.users": f"User:{admin.username}",
            "allow.everyone.if.no.acl.found": "false",
        }
    path = base / "server.properties"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("".join(f"{k}={v}\n" for k, v in props.items()))
    os.chmod(path, 0o600)
    return path


def kafka_cluster_id() -> str:
    """A random KRaft cluster id, as `kafka-storage random-uuid` makes one: a UUID in
    URL-safe base64, never starting with "-" (the storage tool would read it as an
    option: one id in 64 did, and the test stack failed to start)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def start_kafka() -> None:
    config = write_kafka_config()
    if not (kafka_dir() / "data" / "meta.properties").exists():
        cluster_id = kafka_cluster_id()
        log("formatting Kafka storage (KRaft, standalone controller)")
        subprocess.run(kafka_java("kafka.tools.StorageTool", "format", "--standalone", "-t", cluster_id,
                                  "-c", str(config)), check=True, capture_output=True)
    spawn("kafka", kafka_java("kafka.Kafka", str(config)))


def kafka_healthy() -> bool:
    if not port_open(KAFKA_HOST, KAFKA_PORT):
        return False
    from ingest import kafka_setup  # here: stack.base puts the checkout on sys.path

    try:
        meta = kafka_setup.admin_client().list_topics(timeout=3)
    except Exception:  # the broker not answering yet is just "not healthy"
        return False
    return bool(meta.brokers)


def kafka_after_up() -> None:
    from ingest import kafka_setup

    for line in kafka_setup.ensure_all(partitions=env_int("TRIAGE_KAFKA_PARTITIONS", 2)):
        log(line)


COMPONENTS = [
    Component("postgres", start_postgres, postgres_healthy, stop_postgres, 60, f"postgresql://{PG_HOST}:{PG_PORT}",
              pid=postmaster_pid, after_up=ensure_database,
              data_dirs=lambda: [] if pg_home() == VAR else [pg_home()]),
    Component("redis", start_redis, redis_healthy, None, 30, f"redis://{REDIS_HOST}:{REDIS_PORT}"),
    Component("kafka", start_kafka, kafka_healthy, None, 120, ADDR.kafka_bootstrap, after_up=kafka_after_up),
]
