"""Fixtures for the stream's tests: a small local SparkSession and a scratch schema.

The SparkSession is local[1], session-scoped (JVM start-up costs ~10 s, paid once) and
bound to loopback; it needs no Kafka connector because the transform is tested on
DataFrames built with createDataFrame.
"""
from __future__ import annotations

import logging
import os
import sys
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from triage_core.config import addresses, env

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


@pytest.fixture
def pg() -> Iterator[psycopg.Connection]:
    """A connection whose search_path is a fresh schema holding the stream's tables.

    The tables copy the app's own definitions (from its migrations, which `make up`
    applies), so the stream is tested against the schema it writes in production, and the
    test never touches the app's rows. Skipped when no Postgres answers (in CI, CI=true,
    that fails: tests/conftest.py).
    """
    try:
        conn = psycopg.connect(_database_url(), connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"no Postgres at TRIAGE_TEST_DATABASE_URL/TRIAGE_DATABASE_URL: {exc}")
    schema = f"stream_test_{uuid.uuid4().hex[:12]}"
    with conn.transaction():
        present = {row[0] for row in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            " AND table_name = ANY(%s)", (STREAM_TABLES,))}
        missing = set(STREAM_TABLES) - present
        if missing:
            pytest.fail(f"the app's tables {sorted(missing)} are missing: apply the migrations (`make up`)")
        conn.execute(f'CREATE SCHEMA "{schema}"')
        conn.execute(f'SET search_path TO "{schema}"')
        for table in STREAM_TABLES:
            conn.execute(f'CREATE TABLE "{schema}".{table} (LIKE public.{table} INCLUDING ALL)')
    conn.execute(f'SET search_path TO "{schema}"')
    conn.commit()
    try:
        yield conn
    finally:
        conn.rollback()
        with conn.transaction():
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        conn.close()
