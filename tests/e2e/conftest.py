"""Fixtures for the end-to-end suite: the real local stack (scripts/stack.py).

`make test` brings the stack up before pytest; the `stack` fixture makes sure of it
when the suite runs on its own, and lets a test stop, kill and restart components.
Every test leaves the stack up as it found it (the fixture restarts what it stopped).
"""
from __future__ import annotations

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

from triage_core.config import addresses

ROOT = Path(__file__).resolve().parents[2]
STACK = [sys.executable, str(ROOT / "scripts" / "stack.py")]
WEB = "http://127.0.0.1:8000"


class Stack:
    """Drives scripts/stack.py; remembers what a test stopped so it can be restored."""

    def __init__(self) -> None:
        self.stopped: set[str] = set()

    def run(self, *args: str) -> None:
        result = subprocess.run([*STACK, *args], capture_output=True, text=True, timeout=300)
        if result.returncode != 0:
            raise RuntimeError(f"stack.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")

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
    stack = Stack()
    stack.run("up")
    return stack


@pytest.fixture
def stack(stack_session: Stack) -> Iterator[Stack]:
    yield stack_session
    stack_session.restore()


@pytest.fixture
def db(stack_session: Stack) -> Iterator[psycopg.Connection]:
    """A connection to the live database the stream writes (not a test database)."""
    with psycopg.connect(addresses().database_url, autocommit=True) as conn:
        yield conn


@pytest.fixture
def api(stack_session: Stack) -> requests.Session:
    session = requests.Session()
    session.headers["Accept"] = "application/json"
    return session


@pytest.fixture(scope="session")
def staff_token(stack_session: Stack) -> str:
    result = subprocess.run([sys.executable, "manage.py", "drf_create_token", "admin"], cwd=ROOT,
                            capture_output=True, text=True, check=True)
    return result.stdout.strip().split()[2]


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
