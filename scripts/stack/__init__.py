"""Start, stop and check the whole product on one machine.

    python scripts/stack up                 # start everything, wait until healthy
    python scripts/stack down               # stop what `up` started, by PID
    python scripts/stack status
    python scripts/stack start kafka        # one component (tests use these)
    python scripts/stack stop stream [--kill]
    python scripts/stack wipe               # stop and delete the data of a non-default var dir
    python scripts/stack supervise          # the supervisor itself (`up` starts it: stack.supervisor)

Every server binds to 127.0.0.1. PIDs live in var/run/, logs in var/log/, data in
var/ (Postgres, Kafka, Spark checkpoints), so data survives `down` + `up`.
Running `up` again while up is harmless: a healthy component is left alone.

With TRIAGE_VAR_DIR and the address and port variables set (scripts/test-stack.env),
a second, wholly separate stack runs beside the first: `make test` runs its end-to-end
tests on one, in var/test, so that a `make up` stack in var/ is left alone.

The package: stack.base (paths, processes, the Component record), stack.infra
(Postgres, Redis, Kafka), stack.product (the product's processes), stack.cli (the
commands, generic over the components' hooks), stack.supervisor (restarts a product
process that died without `stop`, with back-off; rotates the logs).
"""
