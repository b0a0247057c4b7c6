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
        f"streaming.scoring.ScoringUnavailable: {scoring.SCORING_UNAVAILABLE}: POST http://x failed 5 times\n"
        "\tat org.apache.spark.Foo.bar(Foo.scala:1)\n")
    assert job.failure_summary(wrapped) == (
        f"streaming.scoring.ScoringUnavailable: {scoring.SCORING_UNAVAILABLE}: POST http://x failed 5 times")
    assert job.failure_summary(Exception("plain message\nmore")) == "plain message"


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
