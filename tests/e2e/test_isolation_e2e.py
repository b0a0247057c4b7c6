"""The end-to-end suite runs on a stack of its own, never on a person's `make up` stack:
every process it starts reads another var dir, database, topic and ports than the
defaults, and a complaint it submits lands in that database and topic only."""
from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from tests.e2e.conftest import make_up_defaults, scored_count, shared_with_make_up, submit, unique_text, wait_for
from triage_core.config import addresses, var_dir

pytestmark = pytest.mark.e2e

APP_PROCESSES = ("scoring", "scoring-1", "web", "relay", "listener", "stream", "sla")
ISOLATED = ("TRIAGE_VAR_DIR", "TRIAGE_DATABASE_URL", "TRIAGE_KAFKA_BOOTSTRAP", "TRIAGE_KAFKA_TOPIC",
            "TRIAGE_REDIS_URL", "TRIAGE_SCORING_URL")


def process_environment(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    return dict(entry.split("=", 1) for entry in raw.decode(errors="replace").split("\0") if "=" in entry)


def test_the_suite_is_configured_apart_from_the_make_up_stack(stack_session):
    assert shared_with_make_up() == []
    assert var_dir() != Path(make_up_defaults()["TRIAGE_VAR_DIR"])


def test_every_process_of_the_test_stack_reads_its_own_var_dir_database_and_topic(stack_session):
    """What the processes were started with, read from /proc: a value missing from a
    process's environment would be the `make up` default.

    Mutant tried: scripts/stack's spawn() dropping TRIAGE_KAFKA_TOPIC from the
    environment of the processes it starts (the pipeline still worked end to end, on
    the test broker's default topic `complaints`): this test failed on the scoring
    process's environment, and the next one on the topic stored with the score.
    """
    defaults = make_up_defaults()
    for name in APP_PROCESSES:
        pid = int((var_dir() / "run" / f"{name}.pid").read_text())
        environ = process_environment(pid)
        # Only the settings are compared: the rest of a process's environment stays out of the report.
        seen = {setting: environ.get(setting, defaults[setting]) for setting in ISOLATED}
        assert [s for s in ISOLATED if seen[s] == defaults[s]] == [], name
        assert seen["TRIAGE_KAFKA_TOPIC"] == addresses().kafka_topic, name


def test_a_submitted_complaint_lands_in_the_test_database_topic_and_checkpoint(api, db):
    response = submit(api, unique_text("ISOLATION"))
    assert response.status_code == 201, response.text
    complaint_id = response.json()["id"]
    wait_for(lambda: scored_count(db, [complaint_id]) == 1, timeout=120, what="the complaint scored")

    defaults = make_up_defaults()
    (database,) = db.execute("SELECT current_database()").fetchone()
    assert database == psycopg.conninfo.conninfo_to_dict(addresses().database_url)["dbname"]
    assert database != psycopg.conninfo.conninfo_to_dict(defaults["TRIAGE_DATABASE_URL"])["dbname"]
    (topic,) = db.execute("SELECT kafka_topic FROM triage_score WHERE complaint_id = %s", (complaint_id,)).fetchone()
    # A complaint from the API comes through the app's own topic.
    assert topic == addresses().kafka_app_topic != f'{defaults["TRIAGE_KAFKA_TOPIC"]}_app'


    # The stream's checkpoint lives in the test var dir and tracks the test topics only.
    offsets = sorted((var_dir() / "checkpoints").glob("*/offsets/[0-9]*"), key=lambda p: int(p.name))
    assert offsets, f"no checkpoint under {var_dir()}"
    # Spark's offset log: a version line, the batch's metadata, then one line per source.
    topics = {name for line in offsets[-1].read_text().splitlines()[2:] for name in json.loads(line)}
    assert topics == {addresses().kafka_topic, addresses().kafka_app_topic}
