"""The streaming job: the thin I/O shell around streaming.transform.

    Kafka `complaints` --readStream--> foreachBatch(write_batch): on the executors, chunk by
    chunk: parse/validate -> route (experiment) -> score (HTTP, batched) -> rank -> Postgres
    (a transaction per chunk, NOTIFY); on the driver, the batch's record

Run locally with `python -m streaming.job` (local[2], driver on 127.0.0.1); on a cluster
the same file runs under `spark-submit --master ...` (docs/streaming.md).
"""
from __future__ import annotations

import functools
import json
import logging
import os
import re
import signal
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

if __package__ in (None, ""):
    # `spark-submit streaming/job.py` runs this file as a script; `streaming` and
    # `triage_core` come from --py-files then, or from the repo when run from it.
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import pandas as pd
import psycopg
import pyspark
from pyspark.errors import StreamingQueryException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.streaming import StreamingQuery

from streaming import scoring, sink, transform
from triage_core import notify
from triage_core.config import (
    STREAM_GROUP_PREFIX,
    addresses,
    env,
    env_int,
    spark_kafka_jars,
    spark_kafka_options,
    var_dir,
)
from triage_core.priority import Policy

log = logging.getLogger("streaming.job")

QUERY_NAME = "complaints-scoring"
# Failed queries are restarted from the checkpoint after this pause, doubling up to the cap.
RESTART_BACKOFF_INITIAL_S = 1.0
RESTART_BACKOFF_MAX_S = 30.0
# A query that ran this long before failing was healthy: its next failure starts the
# backoff from the beginning again.
HEALTHY_RUN_S = 120.0

# Test-only fault hook, off unless the file exists (tests/e2e/test_streaming_e2e.py
# creates it): every micro-batch then waits after its chunks' Postgres commits, before
# returning to Spark, which writes the batch to the checkpoint's commit log only once
# foreachBatch returns. A kill -9 during the wait lands in the window where at-least-once delivery
# replays a batch that is already stored. The job writes PAUSED_FILE (the batch's id and
# how many scores it stored) when it starts waiting; the wait ends when the file goes, or
# after PAUSE_MAX_S, so a forgotten file cannot stop a stack for good.
PAUSE_AFTER_COMMIT_FILE = "stream.pause-after-commit"
PAUSED_FILE = "stream.paused"
PAUSE_MAX_S = 300.0


@dataclass(frozen=True)
class JobSettings:
    master: str | None  # None: leave it to spark-submit --master
    checkpoint_dir: str
    kafka_bootstrap: str
    topic: str      # the loaders' topic
    app_topic: str  # the app's: the only one whose records may say source web or api
    kafka_options: Mapping[str, str]  # the stream's login (triage_core.config.spark_kafka_options)
    database_url: str
    max_offsets_per_trigger: int
    trigger_ms: int
    shuffle_partitions: int
    chunk_rows: int  # records per Arrow batch: what an executor scores, then stores, at a time
    scoring: scoring.ScoringSettings

    @classmethod
    def from_env(cls) -> JobSettings:
        where = addresses()
        under_spark_submit = "PYSPARK_GATEWAY_PORT" in os.environ
        return cls(
            master=env("TRIAGE_SPARK_MASTER", "") or (None if under_spark_submit else "local[2]"),
            checkpoint_dir=os.path.abspath(env("TRIAGE_CHECKPOINT_DIR", str(var_dir() / "checkpoints" / QUERY_NAME))),
            kafka_bootstrap=where.kafka_bootstrap,
            topic=where.kafka_topic,
            app_topic=where.kafka_app_topic,
            kafka_options=spark_kafka_options("stream"),
            database_url=where.database_url,
            max_offsets_per_trigger=env_int("TRIAGE_STREAM_MAX_OFFSETS_PER_TRIGGER", 50000),
            trigger_ms=env_int("TRIAGE_STREAM_TRIGGER_MS", 500),
            shuffle_partitions=env_int("TRIAGE_SPARK_SHUFFLE_PARTITIONS", 2),
            chunk_rows=env_int("TRIAGE_STREAM_CHUNK_ROWS", 5000),
            scoring=scoring.ScoringSettings.from_env(),
        )


def kafka_package() -> str:
    """The official connector matching the installed pyspark."""
    return f"org.apache.spark:spark-sql-kafka-0-10_2.13:{pyspark.__version__}"


def connector_config() -> dict[str, str]:
    """How Spark finds the Kafka connector.

    The jars set-up resolved into build/spark/jars when they are there (starts offline);
    otherwise Spark resolves the package itself into the ivy cache TRIAGE_SPARK_JARS_IVY.
    """
    try:
        return {"spark.jars": ",".join(spark_kafka_jars())}
    except FileNotFoundError:
        return {"spark.jars.packages": kafka_package(),
                "spark.jars.ivy": os.path.abspath(env("TRIAGE_SPARK_JARS_IVY", str(var_dir() / "ivy")))}


def build_spark(settings: JobSettings) -> SparkSession:
    builder = SparkSession.builder.appName("triage-streaming")
    if settings.master is not None:
        # Under spark-submit its --packages (docs/streaming.md) brings the connector.
        for key, value in connector_config().items():
            builder = builder.config(key, value)
    builder = (builder
               .config("spark.sql.shuffle.partitions", str(settings.shuffle_partitions))
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               .config("spark.sql.execution.arrow.maxRecordsPerBatch", str(settings.chunk_rows))
               .config("spark.ui.enabled", env("TRIAGE_SPARK_UI", "false"))
               .config("spark.ui.showConsoleProgress", "false"))
    if settings.master is not None:
        # Our own local run: everything on loopback. Under spark-submit the cluster
        # decides, since executors must reach the driver.
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        # Python workers must be this interpreter (the venv), not whatever python3 is on PATH.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        builder = (builder.master(settings.master)
                   .config("spark.driver.bindAddress", "127.0.0.1")
                   .config("spark.driver.host", "127.0.0.1"))
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(env("TRIAGE_SPARK_LOG_LEVEL", "WARN"))
    return spark


def read_complaints(spark: SparkSession, settings: JobSettings) -> DataFrame:
    return (spark.readStream.format("kafka")
            .option("kafka.bootstrap.servers", settings.kafka_bootstrap)
            .options(**settings.kafka_options)
            .option("subscribe", f"{settings.topic},{settings.app_topic}")
            .option("groupIdPrefix", STREAM_GROUP_PREFIX)
            .option("startingOffsets", "earliest")
            # Records deleted by retention before we read them are gone either way;
            # stopping the whole stream for them would stop every later complaint too.
            .option("failOnDataLoss", "false")
            .option("maxOffsetsPerTrigger", str(settings.max_offsets_per_trigger))
            .load())


def write_batch(batch_df: DataFrame, batch_id: int, *, settings: JobSettings) -> None:
    """One micro-batch: read the admin's current settings; the executors score and store
    it chunk by chunk (store_records); record the batch for the health page.

    The experiment and the policy are read at the start of every batch, so an admin's
    change applies from the next batch without a restart.
    """
    started_at, started = datetime.now(UTC), time.monotonic()
    with psycopg.connect(settings.database_url) as conn:
        experiment, policy = sink.current_experiment(conn), sink.current_policy(conn)
        conn.commit()  # no transaction stays open while the batch is scored
        read_ms = (time.monotonic() - started) * 1000
        result = sink.BatchResult.total(store_records(
            batch_df, experiment=experiment, policy=policy, settings=settings.scoring,
            database_url=settings.database_url, app_topic=settings.app_topic).toPandas())
        duration_ms = (time.monotonic() - started) * 1000
        sink.record_batch(conn, batch_id=batch_id, result=result, started_at=started_at, duration_ms=duration_ms)
        conn.commit()
    log.info("batch %d: %d records, %d scored, %d escalated, %d already scored, %d shadow, %d dead letters; "
             "%.0f ms (%.0f rows/s; settings %.0f, score and store %.0f); experiment v%d, policy v%d",
             batch_id, result.input_rows, result.scored, result.escalated, result.replayed_rows,
             result.shadow_rows, result.dead_letter_rows, duration_ms,
             result.input_rows / max(duration_ms / 1000.0, 1e-6), read_ms, duration_ms - read_ms,
             experiment.version, policy.version)
    pause_after_commit_if_asked(batch_id=batch_id, scored=result.scored)


def pause_after_commit_if_asked(*, batch_id: int, scored: int) -> None:
    """The fault hook described at PAUSE_AFTER_COMMIT_FILE; one stat() a batch when off."""
    run_dir = var_dir() / "run"
    asked = run_dir / PAUSE_AFTER_COMMIT_FILE
    if not asked.exists():
        return
    log.warning("batch %d committed; pausing before the checkpoint while %s exists", batch_id, asked)
    paused = run_dir / PAUSED_FILE
    partial = paused.with_suffix(".tmp")
    partial.write_text(json.dumps({"pid": os.getpid(), "batch_id": batch_id, "scored": scored}))
    partial.replace(paused)  # a reader never sees half a file
    deadline = time.monotonic() + PAUSE_MAX_S
    while asked.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    paused.unlink(missing_ok=True)


def start_query(spark: SparkSession, settings: JobSettings) -> StreamingQuery:
    return (read_complaints(spark, settings).writeStream
            .queryName(QUERY_NAME)
            .foreachBatch(functools.partial(write_batch, settings=settings))
            .option("checkpointLocation", settings.checkpoint_dir)
            .trigger(processingTime=f"{settings.trigger_ms} milliseconds")
            .start())


def store_records(records: DataFrame, *, experiment: sink.Experiment, policy: Policy,
                  settings: scoring.ScoringSettings, database_url: str, app_topic: str | None,
                  notify_channel: str = notify.CHANNEL) -> DataFrame:
    """Kafka records (KAFKA_SCHEMA) -> stored in Postgres; one sink.STORED_SCHEMA row (the
    counts) per chunk.

    The whole Python side of a micro-batch runs in ONE mapInPandas pass on the
    executors. Each chunk (an Arrow batch of records) is parsed, routed, scored, ranked
    and encoded (streaming.scoring.executor_pass), then stored in a transaction of its
    own (sink.write_outcomes) while the task scores the next chunk. Only the counts go
    back through the JVM to the driver. Exactly once: every statement of the store is
    idempotent, so a batch run again after a crash stores nothing twice, whichever of
    its chunks had committed; Spark commits the batch's offsets only after every chunk.
    """
    arms = transform.checked_arms(experiment.arms)

    def _process_partition(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        # One client (one keep-alive connection) and one Postgres writer for the partition.
        client = scoring.ScoringClient(settings)
        writer = sink.ChunkWriter(database_url, experiment_version=experiment.version, policy=policy,
                                  notify_channel=notify_channel)
        try:
            for batch in batches:
                if len(batch):
                    outcomes = scoring.executor_pass(batch, client=client, arms=arms,
                                                     shadow_model=experiment.shadow_model, policy=policy,
                                                     app_topic=app_topic)
                    if (stored := writer.submit(outcomes)) is not None:
                        yield pd.DataFrame([stored])
            if (stored := writer.finish()) is not None:
                yield pd.DataFrame([stored])
        finally:
            writer.close()
            client.close()

    return (records.select(*transform.KAFKA_SCHEMA.fieldNames())
            .mapInPandas(_process_partition, sink.STORED_SCHEMA))


READY_FILE_ENV = "TRIAGE_STREAM_READY_FILE"


def mark_ready() -> None:
    """The local stack (scripts/stack, which names the file in TRIAGE_STREAM_READY_FILE)
    reports the stream healthy once the file holds our PID. Without the variable (the job
    under spark-submit on a cluster) nothing is written: a job elsewhere must not mark a
    local stack's stream as running."""
    path = os.environ.get(READY_FILE_ENV, "").strip()
    if not path:
        return
    ready = Path(path)
    ready.parent.mkdir(parents=True, exist_ok=True)
    ready.write_text(str(os.getpid()))


# The Python exception line inside Spark's wrapped error, e.g.
# "streaming.scoring_client.ScoringUnavailable: SCORING_UNAVAILABLE: POST ... failed 5 times".
# A builtin's name has no module ("ModuleNotFoundError: No module named 'x'"): taken
# when it ends like an exception's, so that a log line "Word: ..." is not.
_EXCEPTION_LINE = re.compile(r"^\s*((?:[A-Za-z_]\w*\.)+[A-Z]\w*|[A-Z]\w*(?:Error|Exception|Exit|Interrupt)): .+")
_WRAPPER_MODULES = ("org.", "java.", "scala.", "py4j.", "pyspark.")


def failure_summary(exc: BaseException) -> str:
    """The root cause of a failed query in one line, for the log."""
    lines = str(exc).splitlines()
    causes = [ln.strip() for ln in lines
              if (m := _EXCEPTION_LINE.match(ln)) and not m.group(1).startswith(_WRAPPER_MODULES)]
    return ((causes or lines or [type(exc).__name__])[0])[:600]


def run(settings: JobSettings) -> int:
    """Runs the query until SIGTERM/SIGINT; restarts it from the checkpoint when it fails.

    A failed micro-batch (scoring service down past its retries, Postgres unreachable)
    stops the query before Spark commits the batch's offsets, so the restarted query
    reads the same records again: nothing is skipped and nothing gets a made-up score.
    """
    stopping = False

    def _stop(signum, _frame):
        nonlocal stopping
        log.info("signal %d: stopping after the current micro-batch", signum)
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)

    spark = build_spark(settings)
    backoff = RESTART_BACKOFF_INITIAL_S
    log.info("streaming %s and %s from %s -> %s; checkpoint %s; scoring %s",
             settings.topic, settings.app_topic, settings.kafka_bootstrap, settings.database_url.rsplit("@", 1)[-1],
             settings.checkpoint_dir, settings.scoring.base_url)
    try:
        while not stopping:
            query = start_query(spark, settings)
            query_started = time.monotonic()
            mark_ready()
            try:
                while not stopping and not query.awaitTermination(1):
                    pass
                if stopping:
                    query.stop()
                    break
                log.warning("query stopped without an error; restarting it")
            except StreamingQueryException as exc:
                if time.monotonic() - query_started > HEALTHY_RUN_S:
                    backoff = RESTART_BACKOFF_INITIAL_S
                log.error("micro-batch failed, restarting from the checkpoint in %.0f s: %s",
                          backoff, failure_summary(exc))
                deadline = time.monotonic() + backoff
                while not stopping and time.monotonic() < deadline:
                    time.sleep(0.2)
                backoff = min(RESTART_BACKOFF_MAX_S, backoff * 2)
    finally:
        spark.stop()
    log.info("stopped")
    return 0


def main() -> int:
    logging.basicConfig(level=env("TRIAGE_LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("py4j").setLevel(logging.WARNING)
    return run(JobSettings.from_env())


if __name__ == "__main__":
    sys.exit(main())
