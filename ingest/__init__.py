"""The producing side: the app's Kafka producer, the outbox relay, load generation."""
