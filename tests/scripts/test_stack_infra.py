"""scripts/stack/infra.py: the parts that need no server."""
from __future__ import annotations

import base64
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from stack import infra  # noqa: E402


def test_a_kafka_cluster_id_is_a_uuid_that_no_command_line_reads_as_an_option(monkeypatch):
    # The first UUID encodes to an id starting with "-": it must be drawn again.
    dash = uuid.UUID(bytes=base64.urlsafe_b64decode("-6pc65h3QSeILkknqsXibQ=="))
    plain = uuid.UUID(int=1)
    draws = iter([dash, plain])
    monkeypatch.setattr(infra.uuid, "uuid4", lambda: next(draws))
    cluster_id = infra.kafka_cluster_id()
    assert cluster_id == base64.urlsafe_b64encode(plain.bytes).decode().rstrip("=")
    assert uuid.UUID(bytes=base64.urlsafe_b64decode(cluster_id + "==")) == plain
