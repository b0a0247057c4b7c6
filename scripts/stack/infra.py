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
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from stack.base import ADDR, CLUSTER, LOG, ROOT, VAR, Component, host_port, log, port_open, read_pid, spawn, stop_pid
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
# The data is on local disk and mostly in memory: an index page read costs about what a
# sequential one does. With the default random_page_cost (4, for spinning disks) the
# planner scanned all 1M complaints to join the few ids a search matched (340 ms where
# the index path takes 2 ms; bench/bench_queue.py). compose.yaml sets the same.
PG_PLANNER = ("-c", "random_page_cost=1.1", "-c", "effective_cache_size=4GB")
# Bulk writes (an SLA pass rewriting 800k queue entries, a policy re-rank, an import):
# with the default 1 GB of WAL between checkpoints, a pass forced one every 9 s, and after
# each the first change to every page wrote the whole page to the WAL again (the worst
# SLA pass at 1M complaints: 50 GB of WAL in a day's benches). compose.yaml sets the same.
PG_WRITES = ("-c", "shared_buffers=1GB", "-c", "max_wal_size=8GB", "-c", "checkpoint_timeout=15min")
PG_HOST, PG_PORT = host_port(ADDR.database_url, 5432)
REDIS_HOST, REDIS_PORT = host_port(ADDR.redis_url, 6379)


@dataclass(frozen=True)
class KafkaNode:
    """One KRaft node (controller and broker in one process): its client port and its
    controller port. The local stack has one, `kafka`; the cluster mode one per address of
    TRIAGE_KAFKA_BOOTSTRAP (`kafka-1`, `kafka-2`, ...), each controller on its port + 1."""
    node_id: int
    name: str
    host: str
    port: int
    controller_port: int

    @property
    def folder(self) -> Path:
        return VAR / self.name

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


def kafka_nodes() -> list[KafkaNode]:
    if not CLUSTER:
        host, port = host_port(ADDR.kafka_bootstrap, 9092)
        return [KafkaNode(1, "kafka", host, port, env_int("TRIAGE_KAFKA_CONTROLLER_PORT", port + 1))]
    pairs = [host_port(address.strip(), 9092) for address in ADDR.kafka_bootstrap.split(",") if address.strip()]
    if len(pairs) < 3:
        raise SystemExit(f"the cluster mode runs three or more Kafka nodes: TRIAGE_KAFKA_BOOTSTRAP names "
                         f"{len(pairs)} ({ADDR.kafka_bootstrap!r})")
    return [KafkaNode(n, f"kafka-{n}", host, port, port + 1) for n, (host, port) in enumerate(pairs, start=1)]


KAFKA_NODES = kafka_nodes()
# The topics' replication (the cluster mode's three copies, two of which must have a write
# before it is acknowledged), and that of Kafka's own internal topics.
KAFKA_REPLICATION = min(len(KAFKA_NODES), env_int("TRIAGE_KAFKA_REPLICATION_FACTOR", len(KAFKA_NODES)))
KAFKA_MIN_INSYNC = min(KAFKA_REPLICATION, env_int("TRIAGE_KAFKA_MIN_INSYNC_REPLICAS", max(1, KAFKA_REPLICATION - 1)))


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
            "-c", "max_connections=200", *PG_WRITES, *PG_PLANNER]
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

def kafka_java(main: str, *args: str) -> list[str]:
    libs = build_dir() / "kafka" / "libs"
    if not any(libs.glob("kafka_2.13-*.jar")):
        raise SystemExit(f"no Kafka jars in {libs}: run scripts/bootstrap.sh (make up does)")
    return ["java", f"-Xmx{env('TRIAGE_KAFKA_HEAP', '768m')}", "-Xms256m",
            f"-Dlog4j2.configurationFile={ROOT / 'infra/kafka/log4j2.properties'}",
            "-cp", f"{libs}/*", main, *args]


def write_kafka_config(node: KafkaNode) -> Path:
    """server.properties (0600: it holds the admin's password) for one KRaft node.

    Every listener asks for a login (SASL): clients log in with SCRAM-SHA-512 as their
    role (app, loader, stream: triage_core.config.KAFKA_ROLES), the broker and set-up as
    `admin` with PLAIN, whose one user is defined here. The StandardAuthorizer allows
    what ensure_access grants and nothing else (no ACL, no access); `admin` is the super
    user. TRIAGE_KAFKA_SECURITY_PROTOCOL=PLAINTEXT runs the broker open, as before.

    One node is a standalone controller (quorum bootstrap: itself); in the cluster mode
    the nodes are a static quorum of voters, each one a broker too."""
    base = node.folder
    base.mkdir(parents=True, exist_ok=True)
    admin = kafka_login(KAFKA_ADMIN)
    listener = "SASL_PLAINTEXT" if admin.mechanism else "PLAINTEXT"
    quorum = ({"controller.quorum.voters": ",".join(f"{n.node_id}@{n.host}:{n.controller_port}" for n in KAFKA_NODES)}
              if CLUSTER else {"controller.quorum.bootstrap.servers": f"{node.host}:{node.controller_port}"})
    props = {
        "process.roles": "broker,controller",
        "node.id": str(node.node_id),
        **quorum,
        "listeners": f"{listener}://{node.address},CONTROLLER://{node.host}:{node.controller_port}",
        "advertised.listeners": f"{listener}://{node.address}",
        "controller.listener.names": "CONTROLLER",
        "listener.security.protocol.map": f"CONTROLLER:{listener},{listener}:{listener}",
        "inter.broker.listener.name": listener,
        "log.dirs": str(base / "data"),
        "num.partitions": str(env_int("TRIAGE_KAFKA_PARTITIONS", 2)),
        "default.replication.factor": str(KAFKA_REPLICATION),
        "offsets.topic.replication.factor": str(KAFKA_REPLICATION),
        "transaction.state.log.replication.factor": str(KAFKA_REPLICATION),
        "transaction.state.log.min.isr": str(KAFKA_MIN_INSYNC),
        "share.coordinator.state.topic.replication.factor": str(KAFKA_REPLICATION),
        "share.coordinator.state.topic.min.isr": str(KAFKA_MIN_INSYNC),
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


def shared_cluster_id() -> str:
    """The cluster mode's nodes are formatted with one id, kept in the var dir."""
    path = VAR / "kafka-cluster-id"
    if not path.exists():
        path.write_text(kafka_cluster_id())
    return path.read_text().strip()


def start_kafka(node: KafkaNode) -> None:
    config = write_kafka_config(node)
    if not (node.folder / "data" / "meta.properties").exists():
        if CLUSTER:
            log(f"formatting Kafka storage of {node.name} (KRaft, one of {len(KAFKA_NODES)} voters)")
            fmt = ["-t", shared_cluster_id()]
        else:
            log("formatting Kafka storage (KRaft, standalone controller)")
            fmt = ["--standalone", "-t", kafka_cluster_id()]
        subprocess.run(kafka_java("kafka.tools.StorageTool", "format", *fmt, "-c", str(config)),
                       check=True, capture_output=True)
    spawn(node.name, kafka_java("kafka.Kafka", str(config)))


def registered_brokers(address: str) -> set[int] | None:
    """The brokers the cluster has registered, as the node at `address` answers; None
    when it does not answer."""
    from ingest import kafka_setup  # here: stack.base puts the checkout on sys.path

    try:
        # Quiet: a node still starting refuses connections, which librdkafka would log.
        meta = kafka_setup.admin_client(bootstrap=address, log_level=0).list_topics(timeout=3)
    except Exception:  # the broker not answering yet is just "not healthy"
        return None
    return set(meta.brokers)


def kafka_healthy(node: KafkaNode) -> bool:
    """The local node: it answers with a registered broker. A cluster node: its process
    runs and its controller listens. Its broker cannot register (nor open its client
    port) before a quorum of controllers is up, and `up` starts the nodes one after the
    other; kafka_after_up then waits for the brokers."""
    if CLUSTER:
        return read_pid(node.name) is not None and port_open(node.host, node.controller_port)
    return port_open(node.host, node.port) and bool(registered_brokers(node.address))


def running_nodes() -> list[KafkaNode]:
    return [n for n in KAFKA_NODES if read_pid(n.name) is not None]


def kafka_after_up(node: KafkaNode) -> None:
    """The topics, logins and ACLs (ingest.kafka_setup), once every running node is a
    registered broker: in the cluster mode after the last node's start, or after one
    node's start again (a fault test bringing a broker back)."""
    from ingest import kafka_setup

    if CLUSTER:
        running = running_nodes()
        if len(running) * 2 <= len(KAFKA_NODES):
            return  # no quorum yet: the next node's start gets here again
        wanted = {n.node_id for n in running}
        deadline = time.monotonic() + 120
        while not wanted <= (registered_brokers(node.address) or set()):
            if time.monotonic() > deadline:
                raise SystemExit(f"Kafka brokers {sorted(wanted)} were not all registered in 120 s "
                                 f"(see {LOG / node.name}.log)")
            time.sleep(0.5)
        log(f"{node.name}: brokers {sorted(wanted)} of {len(KAFKA_NODES)} registered")
        if len(running) < KAFKA_REPLICATION:
            return
    for line in kafka_setup.ensure_all(partitions=env_int("TRIAGE_KAFKA_PARTITIONS", 2),
                                       replication=KAFKA_REPLICATION, min_insync=KAFKA_MIN_INSYNC):
        log(line)


COMPONENTS = [
    Component("postgres", start_postgres, postgres_healthy, stop_postgres, 60, f"postgresql://{PG_HOST}:{PG_PORT}",
              pid=postmaster_pid, after_up=ensure_database,
              data_dirs=lambda: [] if pg_home() == VAR else [pg_home()]),
    Component("redis", start_redis, redis_healthy, None, 30, f"redis://{REDIS_HOST}:{REDIS_PORT}"),
    *[Component(node.name, functools.partial(start_kafka, node), functools.partial(kafka_healthy, node), None, 120,
                node.address, after_up=functools.partial(kafka_after_up, node))
      for node in KAFKA_NODES],
]
