"""Fixtures for the stream's tests: a small local SparkSession and a scratch database.

The SparkSession is local[1], session-scoped (JVM start-up costs ~10 s, paid once) and
bound to loopback; it needs no Kafka connector because the transform is tested on
DataFrames built with createDataFrame.
"""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from triage_core.config import PROJECT_ROOT, addresses, env

STREAM_TABLES = ["triage_complaint", "triage_score", "triage_shadow_score", "triage_dead_letter",
                 "triage_escalation_policy", "triage_experiment", "triage_stream_batch"]


@pytest.fixture(scope="session")
def spark():
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    # py4j logs at INFO while shutting down, after pytest has closed its capture streams.
    logging.getLogger("py4j").setLevel(logging.WARNING)
    from pyspark.sql import SparkSession

    session = (SparkSession.builder.master("local[1]").appName("triage-stream-tests")
               .config("spark.driver.bindAddress", "127.0.0.1")
               .config("spark.driver.host", "127.0.0.1")
               .config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", "1")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _database_url() -> str:
    return env("TRIAGE_TEST_DATABASE_URL", addresses().database_url)


def _url_of(database: str) -> str:
    """The configured Postgres URL with another database name (same server and role)."""
    parts = urlsplit(_database_url())
    return urlunsplit(parts._replace(path=f"/{database}"))


def _drop(server: psycopg.Connection, name: str) -> None:
    """DROP DATABASE ... WITH (FORCE), waiting out an autovacuum worker on it: PostgreSQL
    15 refuses a non-superuser's FORCE while one is there ("must be a member of the role
    whose process is being terminated"), and the worker leaves within seconds."""
    for _ in range(40):
        try:
            server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        except psycopg.errors.InsufficientPrivilege:
            time.sleep(0.25)
    server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _server() -> psycopg.Connection:
    """An autocommit connection to the server's `postgres` database, for CREATE/DROP DATABASE."""
    return psycopg.connect(_url_of("postgres"), autocommit=True, connect_timeout=3)


@pytest.fixture(scope="session")
def stream_template() -> Iterator[str]:
    """A database built by the app's own migrations (`manage.py migrate`), once a session.

    The stream's tables then have the foreign keys, indexes and defaults the app's
    migrations give them in production. Their seed rows (migrations 0002 and 0006 seed
    an experiment and a policy) are removed, so each test starts from empty tables.
    Skipped when no Postgres answers (in CI, CI=true, that fails: tests/conftest.py).
    """
    try:
        server = _server()
    except psycopg.OperationalError as exc:
        pytest.skip(f"no Postgres at TRIAGE_TEST_DATABASE_URL/TRIAGE_DATABASE_URL: {exc}")
    name = f"stream_template_{uuid.uuid4().hex[:12]}"
    with server:
        server.execute(f'CREATE DATABASE "{name}"')
        try:
            result = subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=PROJECT_ROOT,
                                    env={**os.environ, "TRIAGE_DATABASE_URL": _url_of(name)},
                                    capture_output=True, text=True, timeout=300)
            assert result.returncode == 0, f"migrate failed:\n{result.stdout}\n{result.stderr}"
            with psycopg.connect(_url_of(name), autocommit=True) as template:
                template.execute(f"TRUNCATE {', '.join(STREAM_TABLES)} CASCADE")
            yield name
        finally:
            _drop(server, name)


@pytest.fixture
def pg(stream_template: str) -> Iterator[psycopg.Connection]:
    """A connection to a fresh database copied from the migrated template.

    The stream is tested against the schema it writes in production, and the test
    never touches the app's rows (nor the rows of another test).
    """
    name = f"stream_test_{uuid.uuid4().hex[:12]}"
    with _server() as server:
        server.execute(f'CREATE DATABASE "{name}" TEMPLATE "{stream_template}"')
        try:
            with psycopg.connect(_url_of(name)) as conn:
                yield conn
                conn.rollback()
        finally:
            _drop(server, name)


@pytest.fixture
def pg_url(pg: psycopg.Connection) -> str:
    """The URL of `pg`'s database, for code that opens connections of its own (the
    executors' chunk writers)."""
    return _url_of(pg.info.dbname)
