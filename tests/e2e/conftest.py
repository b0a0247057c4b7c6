"""Fixtures for the end-to-end suite: a real stack of its own (scripts/stack).

The suite runs on the test stack of scripts/test-stack.env (its own var dir, ports,
database and Kafka topic), never on a person's `make up` stack: `make test` exports
that environment, and `stack_session` refuses to start without it. To run the suite
on its own: `set -a; . scripts/test-stack.env; set +a; .venv/bin/python -m pytest -m e2e`.
The `stack` fixture brings the stack up and lets a test stop, kill and restart
components; every test leaves the stack up as it found it.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests

from tests.e2e.streaming_helpers import local_env
from triage_core.config import addresses, env_int, var_dir

ROOT = Path(__file__).resolve().parents[2]
STACK = [sys.executable, str(ROOT / "scripts" / "stack")]
# The web and scoring ports as scripts/stack reads them.
WEB = f"http://127.0.0.1:{env_int('TRIAGE_WEB_PORT', 8000)}"
NOT_ISOLATED = ("the end-to-end suite runs on its own stack, not the `make up` one: run `make test`, or export "
                "scripts/test-stack.env first (`set -a; . scripts/test-stack.env; set +a`); still the default: {names}")


def make_up_defaults() -> dict[str, str]:
    """What the `make up` stack uses: the configuration with no variable set."""
    saved = {name: os.environ.pop(name) for name in list(os.environ) if name.startswith("TRIAGE_")}
    try:
        where = addresses()
        return {"TRIAGE_VAR_DIR": str(var_dir()), "TRIAGE_DATABASE_URL": where.database_url,
                "TRIAGE_KAFKA_BOOTSTRAP": where.kafka_bootstrap, "TRIAGE_KAFKA_TOPIC": where.kafka_topic,
                "TRIAGE_REDIS_URL": where.redis_url, "TRIAGE_SCORING_URL": where.scoring_url,
                "TRIAGE_WEB_PORT": "8000", "TRIAGE_SMTP_PORT": "2525"}
    finally:
        os.environ.update(saved)


def stack_settings() -> dict[str, str]:
    """The same settings as this process (and every process it starts) sees them."""
    where = addresses()
    return {"TRIAGE_VAR_DIR": str(var_dir()), "TRIAGE_DATABASE_URL": where.database_url,
            "TRIAGE_KAFKA_BOOTSTRAP": where.kafka_bootstrap, "TRIAGE_KAFKA_TOPIC": where.kafka_topic,
            "TRIAGE_REDIS_URL": where.redis_url, "TRIAGE_SCORING_URL": where.scoring_url,
            "TRIAGE_WEB_PORT": str(env_int("TRIAGE_WEB_PORT", 8000)),
            "TRIAGE_SMTP_PORT": str(env_int("TRIAGE_SMTP_PORT", 2525))}


def shared_with_make_up() -> list[str]:
    """The settings the test stack would share with the `make up` stack (none, when isolated).

    A database on the same server counts as shared only if it has the same name; every
    other setting must differ outright (its own Postgres cluster, Kafka, var dir).
    """
    defaults, ours = make_up_defaults(), stack_settings()
    return [name for name in defaults if ours[name] == defaults[name]]


class Stack:
    """Drives scripts/stack; remembers what a test stopped so it can be restored."""

    def __init__(self) -> None:
        self.stopped: set[str] = set()

    def run(self, *args: str) -> None:
        result = subprocess.run([*STACK, *args], capture_output=True, text=True, timeout=300)
        if result.returncode != 0:
            raise RuntimeError(f"scripts/stack {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")

    def stop(self, name: str, *, kill: bool = False) -> None:
        self.stopped.add(name)
        self.run("stop", name, *(["--kill"] if kill else []))

    def start(self, name: str) -> None:
        self.run("start", name)
        self.stopped.discard(name)

    def restore(self) -> None:
        if self.stopped:
            self.run("up")
            self.stopped.clear()


@pytest.fixture(scope="session")
def stack_session() -> Stack:
    shared = shared_with_make_up()
    if shared:
        pytest.fail(NOT_ISOLATED.format(names=", ".join(shared)))
    stack = Stack()
    stack.run("up")
    return stack


@pytest.fixture
def stack(stack_session: Stack) -> Iterator[Stack]:
    yield stack_session
    stack_session.restore()


@pytest.fixture
def db(stack_session: Stack) -> Iterator[psycopg.Connection]:
    """A connection to the test stack's database, which its stream writes (triage_e2e)."""
    with psycopg.connect(addresses().database_url, autocommit=True) as conn:
        yield conn


@pytest.fixture
def api(stack_session: Stack) -> requests.Session:
    session = requests.Session()
    session.headers["Accept"] = "application/json"
    return session


@pytest.fixture(scope="session")
def staff_token(stack_session: Stack) -> str:
    result = subprocess.run([sys.executable, "manage.py", "api_token", "admin", "--hours", "2"], cwd=ROOT,
                            capture_output=True, text=True, check=True, env=local_env())
    return result.stdout.strip()


def scoring_headers() -> dict[str, str]:
    """What the stream sends the scoring service: the stack's generated token."""
    return {"Authorization": f"Bearer {addresses().scoring_token}"}


def wait_for(predicate: Callable[[], Any], *, timeout: float, interval: float = 0.5, what: str = "condition") -> Any:
    """Poll until `predicate()` is truthy; fail the test naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what} (last value: {last!r})")


def unique_text(prefix: str = "E2E") -> str:
    """A complaint text that no other test or run produces, to find its row again."""
    return f"{prefix} {uuid.uuid4().hex}: the parcel arrived broken and support never answered."


def submit(api: requests.Session, text: str, **extra: Any) -> requests.Response:
    return api.post(f"{WEB}/api/complaints/", json={"text": text, **extra}, timeout=30)


def submit_many(api: requests.Session, prefix: str, count: int) -> dict[str, str]:
    """Submit `count` unique complaints through the API; their texts by complaint id."""
    submitted = {}
    for n in range(count):
        text = unique_text(f"{prefix}-{n}")
        response = submit(api, text)
        assert response.status_code == 201, response.text
        submitted[response.json()["id"]] = text
    return submitted


def scored_count(db: psycopg.Connection, ids: Sequence[str]) -> int:
    row = db.execute("SELECT count(*) FROM triage_score WHERE complaint_id = ANY(%s::uuid[])", (list(ids),)).fetchone()
    return row[0]
