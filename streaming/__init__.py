"""Spark Structured Streaming job: Kafka complaints -> batched scoring -> Postgres."""
