"""The job shell's own logic: settings from the environment, failure summaries."""
from __future__ import annotations

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
