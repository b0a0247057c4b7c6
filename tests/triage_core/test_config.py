"""Addresses and the models trained here (triage_core.config)."""
from __future__ import annotations

from triage_core import config


def test_models_trained_here_are_named_by_their_release(tmp_path, monkeypatch):
    monkeypatch.setenv("TRIAGE_EXTRA_MODELS_DIR", str(tmp_path))
    assert config.extra_model_names() == []
    for name in ("triage-2.1.0.model.gz", "triage-2.2.0.model.gz", "notes.txt", "other-1.0.model.gz"):
        (tmp_path / name).write_bytes(b"")
    assert config.extra_model_names() == ["triage@2.1.0", "triage@2.2.0"]


def test_the_app_topic_follows_the_loaders_topic_unless_named(monkeypatch):
    monkeypatch.setenv("TRIAGE_KAFKA_TOPIC", "complaints_x")
    monkeypatch.delenv("TRIAGE_KAFKA_APP_TOPIC", raising=False)
    assert config.addresses().kafka_app_topic == "complaints_x_app"
    monkeypatch.setenv("TRIAGE_KAFKA_APP_TOPIC", "from_the_app")
    assert config.addresses().kafka_app_topic == "from_the_app"
