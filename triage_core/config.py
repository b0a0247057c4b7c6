"""One place that reads the environment, for every process of the product.

Defaults work on one machine (`make up`); deployments override them with env vars.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def env(name: str, default: str) -> str:
    """The value of `name` in the environment, or `default` when unset or empty."""
    value = os.environ.get(name, "")
    return value if value.strip() else default


def env_int(name: str, default: int) -> int:
    raw = env(name, str(default))
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from exc


@dataclass(frozen=True)
class Addresses:
    kafka_bootstrap: str
    kafka_topic: str      # loaders and classic producers write here
    kafka_app_topic: str  # only the app (form, API, relay) writes here: sources web and api
    database_url: str
    redis_url: str
    scoring_url: str
    scoring_token: str


def addresses() -> Addresses:
    """Where every service is, and how to log in to it.

    The default URLs name a user and no password: the password is the one set-up
    generated for this stack (triage_core.credentials, in <var>/secrets/), as is the
    scoring service's token. A URL with a password, or TRIAGE_SCORING_TOKEN, is used as
    given (a deployment's own secrets)."""
    from triage_core.credentials import generated, with_generated_password

    var = var_dir()
    return Addresses(
        kafka_bootstrap=env("TRIAGE_KAFKA_BOOTSTRAP", "127.0.0.1:9092"),
        kafka_topic=env("TRIAGE_KAFKA_TOPIC", "complaints"),
        kafka_app_topic=env("TRIAGE_KAFKA_APP_TOPIC", f"{env('TRIAGE_KAFKA_TOPIC', 'complaints')}_app"),
        database_url=with_generated_password(env("TRIAGE_DATABASE_URL", "postgresql://triage@127.0.0.1:5433/triage"),
                                             secret="postgres_password", var=var),
        redis_url=with_generated_password(env("TRIAGE_REDIS_URL", "redis://triage@127.0.0.1:6380/0"),
                                          secret="redis_password", var=var),
        scoring_url=env("TRIAGE_SCORING_URL", "http://127.0.0.1:9000"),
        scoring_token=scoring_env("TOKEN", "") or generated("scoring_token", var=var),
    )


# Who talks to Kafka, each with a login of its own (the README's Security section): the app (web
# form, API, outbox relay and the health page) writes the app topic, the loaders (bulk
# importer, load generator, classic producers) write the loaders' topic, the stream
# reads both. `admin` is the broker's super user, for set-up only (topics, ACLs, logins).
KAFKA_ROLES = ("app", "loader", "stream")
KAFKA_ADMIN = "admin"
KAFKA_SCRAM_MECHANISM = "SCRAM-SHA-512"
# The Java login module of each SASL mechanism the product uses (sasl.jaas.config).
JAAS_MODULES = {"PLAIN": "org.apache.kafka.common.security.plain.PlainLoginModule",
                KAFKA_SCRAM_MECHANISM: "org.apache.kafka.common.security.scram.ScramLoginModule"}
# The stream's consumer groups are Spark's, named with this prefix (its groupIdPrefix);
# the stream's ACLs grant groups by it.
STREAM_GROUP_PREFIX = "triage-stream"


@dataclass(frozen=True)
class KafkaLogin:
    protocol: str            # SASL_PLAINTEXT, or PLAINTEXT for a broker without logins
    mechanism: str = ""      # SCRAM-SHA-512; PLAIN for the set-up's admin
    username: str = ""
    password: str = ""


def kafka_login(role: str) -> KafkaLogin:
    """The Kafka login of `role` (KAFKA_ROLES or KAFKA_ADMIN): the user named as the role,
    with TRIAGE_KAFKA_<ROLE>_PASSWORD when set (a deployment's own secret, given only to
    the processes of that role), else the password set-up generated for this stack
    (<var>/secrets/kafka_<role>_password). TRIAGE_KAFKA_SECURITY_PROTOCOL=PLAINTEXT talks
    to a broker without logins (nothing is sent)."""
    from triage_core.credentials import generated

    if role not in (*KAFKA_ROLES, KAFKA_ADMIN):
        raise ValueError(f"unknown Kafka role {role!r}: one of {', '.join((*KAFKA_ROLES, KAFKA_ADMIN))}")
    protocol = env("TRIAGE_KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT").upper()
    if protocol not in ("SASL_PLAINTEXT", "SASL_SSL", "PLAINTEXT"):
        raise ValueError("TRIAGE_KAFKA_SECURITY_PROTOCOL must be SASL_PLAINTEXT, SASL_SSL or PLAINTEXT, "
                         f"got {protocol!r}")
    if protocol == "PLAINTEXT":
        return KafkaLogin(protocol)
    mechanism = "PLAIN" if role == KAFKA_ADMIN else KAFKA_SCRAM_MECHANISM
    password = env(f"TRIAGE_KAFKA_{role.upper()}_PASSWORD", "") or generated(f"kafka_{role}_password", var=var_dir())
    return KafkaLogin(protocol, mechanism, role, password)


def kafka_client_config(role: str, *, bootstrap: str | None = None) -> dict[str, str]:
    """librdkafka's settings (confluent-kafka) to reach the broker as `role`."""
    login = kafka_login(role)
    config = {"bootstrap.servers": bootstrap or addresses().kafka_bootstrap, "security.protocol": login.protocol}
    if login.mechanism:
        config.update({"sasl.mechanism": login.mechanism, "sasl.username": login.username,
                       "sasl.password": login.password})
    return config


def spark_kafka_options(role: str = "stream") -> dict[str, str]:
    """The Spark Kafka connector's options (`kafka.`-prefixed Java client settings)."""
    login = kafka_login(role)
    options = {"kafka.security.protocol": login.protocol}
    if login.mechanism:
        options.update({"kafka.sasl.mechanism": login.mechanism,
                        "kafka.sasl.jaas.config": jaas_login(JAAS_MODULES[login.mechanism], username=login.username,
                                                             password=login.password)})
    return options


def jaas_login(module: str, **options: str) -> str:
    """A JAAS login line (Kafka's sasl.jaas.config), values quoted and escaped."""
    def quoted(value: str) -> str:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'

    return f"{module} required " + " ".join(f"{k}={quoted(v)}" for k, v in options.items()) + ";"


@dataclass(frozen=True)
class ScoringServer:
    """How the scoring service's gunicorn runs (scoring_service/gunicorn_conf.py)."""
    bind: str
    workers: int
    threads: int
    log_level: str


def scoring_env(name: str, default: str) -> str:
    """TRIAGE_SCORING_<name>, else SCORING_<name> (the name before every variable had the
    TRIAGE_ prefix, still read), else `default`."""
    return env(f"TRIAGE_SCORING_{name}", env(f"SCORING_{name}", default))


def scoring_server() -> ScoringServer:
    """TRIAGE_SCORING_BIND, _WORKERS, _THREADS, _LOG_LEVEL (scoring_env)."""
    def scoring_int(name: str, default: int) -> int:
        return env_int(f"TRIAGE_SCORING_{name}", env_int(f"SCORING_{name}", default))

    return ScoringServer(bind=scoring_env("BIND", "127.0.0.1:9000"), workers=scoring_int("WORKERS", 1),
                         threads=scoring_int("THREADS", 4), log_level=scoring_env("LOG_LEVEL", "info"))


DEFAULT_VAR_DIR = PROJECT_ROOT / "var"


def var_dir() -> Path:
    """Where runtime data lives (databases, logs, checkpoints); ignored by git.

    A relative TRIAGE_VAR_DIR (`var/test`, the test stack's) is taken from the project
    root, since the processes of the stack do not all run in one working directory.
    """
    folder = Path(env("TRIAGE_VAR_DIR", str(DEFAULT_VAR_DIR)))
    return folder if folder.is_absolute() else PROJECT_ROOT / folder


def extra_model_paths() -> list[Path]:
    """triage builds beyond the committed ones, `triage-<release>.model.gz` in
    TRIAGE_EXTRA_MODELS_DIR (default <var>/models, where `make train-corrections` writes
    triage-2.1.0.model.gz): the scoring service serves each as triage@<release>, and the
    web app lets an admin put it in an experiment."""
    folder = Path(env("TRIAGE_EXTRA_MODELS_DIR", str(var_dir() / "models")))
    return sorted(folder.glob("triage-*.model.gz")) if folder.is_dir() else []


def extra_model_names() -> list[str]:
    """`triage@<release>` of each extra_model_paths() file."""
    return [f"triage@{p.name[len('triage-'):-len('.model.gz')]}" for p in extra_model_paths()]


def build_dir() -> Path:
    """Where set-up puts what it resolved from Maven Central (ignored by git)."""
    return Path(env("TRIAGE_BUILD_DIR", str(PROJECT_ROOT / "build")))


def spark_kafka_jars() -> list[str]:
    """The spark-sql-kafka connector and its extra dependencies, resolved at set-up.

    Passed to Spark as `spark.jars` so that the job starts without reaching Maven
    Central (scripts/bootstrap.sh fills the folder; `make up` runs it).
    """
    folder = build_dir() / "spark" / "jars"
    jars = sorted(str(p) for p in folder.glob("*.jar"))
    if not jars:
        raise FileNotFoundError(
            f"no Spark Kafka connector jars in {folder}: run `make up` (scripts/bootstrap.sh) first")
    return jars
