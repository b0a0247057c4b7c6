"""The cluster-mode suite (issue 13) runs on a stack of its own in the cluster mode:
scripts/test-stack.env, then scripts/cluster-test.env on top (three KRaft Kafka nodes, a
Spark standalone master with two 1-core workers, the stream under spark-submit).
`make test` runs it after the end-to-end suite, once that stack is down; on its own:

    set -a; . scripts/test-stack.env; . scripts/cluster-test.env; set +a
    .venv/bin/python scripts/stack wipe && .venv/bin/python -m pytest -m cluster tests/cluster

The fixtures are the end-to-end suite's (tests/e2e/conftest.py): the stack brought up by
scripts/stack, a database connection, an API session."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import api, db, stack, stack_session  # noqa: F401  (fixtures, used by name)

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from stack.base import CLUSTER  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def cluster_mode() -> None:
    if not CLUSTER:
        pytest.fail("the cluster-mode tests run on a stack in the cluster mode: export scripts/test-stack.env "
                    "and then scripts/cluster-test.env (TRIAGE_STACK_MODE=cluster); `make test` does")
