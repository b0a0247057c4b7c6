"""The product's Kafka set-up: its two topics, a SCRAM login per role and the ACLs that
say what each role may do (the README's Security section). Idempotent, run as the broker's `admin`:

    python -m ingest.kafka_setup [--partitions 6]

`make up` runs it after the broker starts (scripts/stack); a deployment runs it once
the broker is up (compose.yaml's kafka-setup), with TRIAGE_KAFKA_ADMIN_PASSWORD and each
role's TRIAGE_KAFKA_<ROLE>_PASSWORD in its environment.
"""
from __future__ import annotations

import argparse
import logging
from collections.abc import Iterator

from triage_core.config import (
    KAFKA_ADMIN,
    KAFKA_ROLES,
    STREAM_GROUP_PREFIX,
    addresses,
    kafka_client_config,
    kafka_login,
)

log = logging.getLogger("ingest.kafka_setup")

SCRAM_ITERATIONS = 8192


def admin_client(bootstrap: str | None = None, **extra):
    """The set-up login's admin client; `bootstrap` asks one node of a cluster only,
    `extra` are further librdkafka settings."""
    from confluent_kafka.admin import AdminClient

    return AdminClient(kafka_client_config(KAFKA_ADMIN, bootstrap=bootstrap) | {"socket.timeout.ms": "5000"} | extra)


def kafka_grants() -> list[tuple[str, str, str, str, tuple[str, ...]]]:
    """What each role may do: (role, resource type, name, pattern type, operations).

    Nothing else is allowed (the broker's authorizer denies what no ACL grants)."""
    where = addresses()
    loaders, app = where.kafka_topic, where.kafka_app_topic
    return [
        ("app", "TOPIC", app, "LITERAL", ("WRITE", "DESCRIBE")),
        ("app", "TOPIC", loaders, "LITERAL", ("DESCRIBE",)),  # the health page's lag
        ("loader", "TOPIC", loaders, "LITERAL", ("WRITE", "DESCRIBE")),
        ("stream", "TOPIC", loaders, "LITERAL", ("READ", "DESCRIBE")),
        ("stream", "TOPIC", app, "LITERAL", ("READ", "DESCRIBE")),
        ("stream", "GROUP", STREAM_GROUP_PREFIX, "PREFIXED", ("READ", "DESCRIBE")),
    ]


def ensure_topics(admin, *, partitions: int, replication: int = 1, min_insync: int = 1) -> Iterator[str]:
    """Both topics, if missing: `partitions` each, on `replication` brokers, a write
    acknowledged (acks=all, the producers' setting) once `min_insync` of them have it."""
    from confluent_kafka.admin import NewTopic

    where = addresses()
    existing = admin.list_topics(timeout=10).topics
    for topic in (where.kafka_topic, where.kafka_app_topic):
        if topic in existing:
            continue
        yield (f"creating topic {topic!r} with {partitions} partitions, replication factor {replication}, "
               f"min.insync.replicas {min_insync}")
        new = NewTopic(topic, num_partitions=partitions, replication_factor=replication,
                       config={"min.insync.replicas": str(min_insync)})
        for future in admin.create_topics([new]).values():
            future.result(timeout=30)


def ensure_access(admin) -> Iterator[str]:
    """Each role's SCRAM login, set on every run to its current password (so a rotated
    secret takes effect with the next start), and the grants of kafka_grants."""
    from confluent_kafka.admin import (
        AclBinding,
        AclOperation,
        AclPermissionType,
        ResourcePatternType,
        ResourceType,
        ScramCredentialInfo,
        ScramMechanism,
        UserScramCredentialUpsertion,
    )

    if not kafka_login(KAFKA_ADMIN).mechanism:  # TRIAGE_KAFKA_SECURITY_PROTOCOL=PLAINTEXT: an open broker
        yield "Kafka runs without logins (TRIAGE_KAFKA_SECURITY_PROTOCOL=PLAINTEXT): no logins or ACLs set"
        return
    logins = {role: kafka_login(role) for role in KAFKA_ROLES}
    upserts = [UserScramCredentialUpsertion(login.username,
                                            ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, SCRAM_ITERATIONS),
                                            login.password.encode())
               for login in logins.values()]
    for future in admin.alter_user_scram_credentials(upserts).values():
        future.result(timeout=30)
    bindings = [AclBinding(getattr(ResourceType, kind), name, getattr(ResourcePatternType, pattern),
                           f"User:{logins[role].username}", "*", getattr(AclOperation, operation),
                           AclPermissionType.ALLOW)
                for role, kind, name, pattern, operations in kafka_grants() for operation in operations]
    for future in admin.create_acls(bindings).values():
        future.result(timeout=30)
    yield f"Kafka logins ({', '.join(KAFKA_ROLES)}) and {len(bindings)} ACLs in place"


def ensure_all(*, partitions: int, replication: int = 1, min_insync: int = 1) -> Iterator[str]:
    admin = admin_client()
    yield from ensure_topics(admin, partitions=partitions, replication=replication, min_insync=min_insync)
    yield from ensure_access(admin)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--partitions", type=int, default=6, help="partitions of a topic it creates (default 6)")
    parser.add_argument("--replication-factor", type=int, default=1, help="brokers holding each partition (default 1)")
    parser.add_argument("--min-insync-replicas", type=int, default=1,
                        help="replicas that must have a write before it is acknowledged (default 1)")
    args = parser.parse_args(argv)
    if not 1 <= args.min_insync_replicas <= args.replication_factor:
        parser.error("--min-insync-replicas must be between 1 and --replication-factor")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for line in ensure_all(partitions=args.partitions, replication=args.replication_factor,
                           min_insync=args.min_insync_replicas):
        log.info(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
