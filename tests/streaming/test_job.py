"""The job shell's own logic: settings from the environment, failure summaries, the fault hook."""
from __future__ import annotations

import os

from streaming import job, scoring


def test_settings_default_to_a_local_run_on_loopback(monkeypatch):
    for name in ("TRIAGE_SPARK_MASTER", "TRIAGE_CHECKPOINT_DIR", "TRIAGE_STREAM_TRIGGER_MS", "PYSPARK_GATEWAY_PORT"):
        monkeypatch.delenv(name, raising=False)
    settings = job.JobSettings.from_env()
    assert settings.master == "local[2]"
    assert settings.trigger_ms == 500 and settings.shuffle_partitions == 2
    assert settings.checkpoint_dir.endswith("checkpoints/complaints-scoring")


def test_under_spark_submit_the_master_is_left_to_it(monkeypatch):
    monkeypatch.delenv("TRIAGE_SPARK_MASTER", raising=False)
    monkeypatch.setenv("PYSPARK_GATEWAY_PORT", "12345")
    assert job.JobSettings.from_env().master is None


def test_connector_matches_the_scala_and_spark_versions_pyspark_ships():
    import os

    import pyspark

    jars = os.listdir(os.path.join(os.path.dirname(pyspark.__file__), "jars"))
    spark_core = next(j for j in jars if j.startswith("spark-core_"))  # e.g. spark-core_2.13-4.2.0.jar
    scala_and_version = spark_core[len("spark-core_"):-len(".jar")]
    scala, version = scala_and_version.split("-", 1)
    assert job.kafka_package() == f"org.apache.spark:spark-sql-kafka-0-10_{scala}:{version}"


def test_failure_summary_names_the_python_cause_inside_spark_wrapping():
    wrapped = Exception(
        "[STREAM_FAILED] Query [id = 1] terminated with exception: [FOREACH_BATCH_USER_FUNCTION_ERROR]\n"
        "py4j.protocol.Py4JJavaError: An error occurred while calling o1.collect.\n"
        "org.apache.spark.SparkException: Job aborted\n"
        "Traceback (most recent call last):\n"
        f"streaming.scoring_client.ScoringUnavailable: {scoring.SCORING_UNAVAILABLE}: POST http://x failed 5 times\n"
        "\tat org.apache.spark.Foo.bar(Foo.scala:1)\n")
    assert job.failure_summary(wrapped) == (
        f"streaming.scoring_client.ScoringUnavailable: {scoring.SCORING_UNAVAILABLE}: POST http://x failed 5 times")
    assert job.failure_summary(Exception("plain message\nmore")) == "plain message"


def test_failure_summary_names_builtin_exceptions_without_a_module():
    wrapped = Exception(
        "[STREAM_FAILED] Query [id = 1] terminated with exception\n"
        "org.apache.spark.api.python.PythonException: Traceback (most recent call last):\n"
        "Note: the executor's Python is /usr/bin/python3\n"
        "ModuleNotFoundError: No module named 'streaming'\n"
        "\tat org.apache.spark.Foo.bar(Foo.scala:1)\n")
    assert job.failure_summary(wrapped) == "ModuleNotFoundError: No module named 'streaming'"


def test_the_ready_mark_is_written_only_where_the_stack_asks(monkeypatch, tmp_path):
    monkeypatch.setenv("TRIAGE_VAR_DIR", str(tmp_path))
    monkeypatch.delenv(job.READY_FILE_ENV, raising=False)
    job.mark_ready()  # under spark-submit: no stack asked, nothing written in var/
    assert not list(tmp_path.rglob("*"))
    wanted = tmp_path / "run" / "stream.ready"
    monkeypatch.setenv(job.READY_FILE_ENV, str(wanted))
    job.mark_ready()
    assert wanted.read_text() == str(os.getpid())


def test_pause_after_commit_is_off_without_its_file(monkeypatch, tmp_path):
    monkeypatch.setenv("TRIAGE_VAR_DIR", str(tmp_path))
    job.pause_after_commit_if_asked(batch_id=7, scored=3)
    assert not (tmp_path / "run" / job.PAUSED_FILE).exists()


def test_pause_after_commit_reports_the_batch_and_waits_until_its_file_goes(monkeypatch, tmp_path):
    import json
    import threading

    monkeypatch.setenv("TRIAGE_VAR_DIR", str(tmp_path))
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / job.PAUSE_AFTER_COMMIT_FILE).touch()
    pausing = threading.Thread(target=job.pause_after_commit_if_asked, kwargs={"batch_id": 7, "scored": 3})
    pausing.start()
    paused = run_dir / job.PAUSED_FILE
    pausing.join(timeout=0.5)
    assert pausing.is_alive(), "the batch returned to Spark while the pause file exists"
    for _ in range(100):
        if paused.exists():
            break
        pausing.join(timeout=0.1)
    assert json.loads(paused.read_text()) == {"pid": os.getpid(), "batch_id": 7, "scored": 3}
    (run_dir / job.PAUSE_AFTER_COMMIT_FILE).unlink()
    pausing.join(timeout=30)
    assert not pausing.is_alive() and not paused.exists()


class FakeClock:
    """job.time for the restart loop: sleeping advances the clock, nothing waits."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class FakeQuery:
    """A streaming query that fails after running `runs_for` seconds, or stops the job."""

    def __init__(self, clock: FakeClock, runs_for: float | None, stop) -> None:
        self.clock, self.runs_for, self.stop_job = clock, runs_for, stop
        self.stopped = False

    def awaitTermination(self, timeout: float) -> bool:
        from pyspark.errors import StreamingQueryException

        if self.runs_for is None:  # the last query: SIGTERM arrives while it runs
            self.stop_job()
            return False
        self.clock.now += self.runs_for
        raise StreamingQueryException(message="scoring service unavailable")

    def stop(self) -> None:
        self.stopped = True


def test_a_failed_query_restarts_with_a_doubling_backoff_reset_after_a_healthy_run(monkeypatch, caplog):
    """Queries fail after 5 s, 5 s, 5 s, then after a healthy 10 minutes, then once more;
    the pauses before restarting are 1, 2, 4, then 1 again (the healthy run reset it),
    then 2; the sixth query is stopped by SIGTERM and the loop ends. Mutant tried: the
    reset after a healthy run removed -> the fourth pause was 8 s and the test failed."""
    import logging
    import signal as signal_module

    clock = FakeClock()
    handlers = {}
    monkeypatch.setattr(job, "time", clock)
    monkeypatch.setattr(job.signal, "signal", lambda signum, handler: handlers.__setitem__(signum, handler))
    monkeypatch.setattr(job, "build_spark", lambda settings: type("Spark", (), {"stop": lambda self: None})())
    monkeypatch.setattr(job, "mark_ready", lambda: None)
    plan = [5.0, 5.0, 5.0, 600.0, 5.0, None]
    started = []

    def sigterm() -> None:
        handlers[signal_module.SIGTERM](signal_module.SIGTERM, None)

    def start_query(spark, settings):
        query = FakeQuery(clock, plan[len(started)], sigterm)
        started.append(query)
        return query

    monkeypatch.setattr(job, "start_query", start_query)
    with caplog.at_level(logging.ERROR, logger="streaming.job"):
        assert job.run(job.JobSettings.from_env()) == 0
    pauses = [record.args[0] for record in caplog.records if "restarting from the checkpoint" in record.msg]
    assert pauses == [1.0, 2.0, 4.0, 1.0, 2.0]
    assert len(started) == 6 and started[-1].stopped
    assert all("scoring service unavailable" in record.args[1] for record in caplog.records
               if "restarting from the checkpoint" in record.msg)
