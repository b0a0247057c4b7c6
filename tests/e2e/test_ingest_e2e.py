"""The other ways complaints enter, and the health page's lag, on the real stack: the load
generator and the bulk importer produce to the real Kafka topic and the stream scores
what they sent; the lag the health page shows is what the stream has not read yet."""
from __future__ import annotations

import random
import subprocess
import sys

import pytest

from ingest import loadgen
from tests.e2e.conftest import scored_count, unique_text, wait_for
from tests.e2e.streaming_helpers import admin_shell, complaint_message, produce, produce_sentinels, stream_idle
from triage_core.config import PROJECT_ROOT as ROOT

pytestmark = pytest.mark.e2e


def test_the_load_generator_produces_complaints_the_stream_scores(db, stack):
    """Mutant tried: loadgen.message_for always writing the classic `{"data"}` message (the
    stream then derives each id from the record's position) -> none of the returned ids
    was ever scored and the test failed."""
    ids = loadgen.produce(count=40, rate=0, seed=random.randrange(2**32), progress=False)
    assert len(ids) == 40 and len(set(ids)) == 40
    wait_for(lambda: scored_count(db, ids) == 40, timeout=180, what="the generated complaints scored")
    sources = db.execute("SELECT DISTINCT source FROM triage_complaint WHERE id = ANY(%s::uuid[])",
                         (ids,)).fetchall()
    assert sources == [("loadgen",)]


def test_the_bulk_importer_sends_the_good_rows_and_names_the_bad_ones(db, stack, tmp_path):
    """Mutant tried: the importer naming its messages' source "api" -> the stored sources
    were not "bulk" and the test failed."""
    good = [unique_text(f"BULK-{n}") for n in range(3)]
    path = tmp_path / "complaints.csv"
    path.write_text("text\n" + "\n".join(f'"{t}"' for t in good[:2]) + '\n"too short"\n' + f'"{good[2]}"\n',
                    encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "ingest.bulk_import", str(path)], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 1, result.stderr  # a skipped row is reported in the exit code
    assert f"{path}:4: skipped" in result.stderr and "imported 3 complaints; skipped 1" in result.stdout

    def stored() -> list[tuple[str, str]]:
        return db.execute("""SELECT c.source, c.text FROM triage_complaint c JOIN triage_score s
                             ON s.complaint_id = c.id WHERE c.text = ANY(%s)""", (good,)).fetchall()

    wait_for(lambda: len(stored()) == 3, timeout=180, what="the imported complaints scored")
    assert sorted(stored()) == sorted(("bulk", t) for t in good)


def health_lag() -> int:
    """The total lag as the health page computes it (health.kafka_lag over the
    database's processed offsets), against the test stack's broker and database."""
    out = admin_shell("from triage_app import health, selectors\n"
                       "db = selectors.pipeline_db_health()\n"
                       "print(health.kafka_lag(processed_offsets=db['processed_offsets'])['total_lag'])")
    return int(out.strip().splitlines()[-1])


def test_the_health_lag_counts_exactly_what_the_stream_has_not_read(db, stack):
    """One stored record last on every partition, so the caught-up lag is exactly 0; then
    9 records with the stream stopped are a lag of exactly 9. Mutant tried: partition_lags
    without the `+ 1` (the last processed offset taken as the next to read) -> the
    caught-up lag read one per partition and the test failed."""
    sentinels = produce_sentinels()
    wait_for(lambda: scored_count(db, sentinels) == len(sentinels) and stream_idle(), timeout=180,
             what="the stream caught up")
    stack.stop("stream")
    try:
        assert health_lag() == 0
        waiting = [complaint_message(unique_text(f"LAG-{n}")) for n in range(9)]
        produce([(key, value) for _, key, value in waiting])
        assert health_lag() == 9
    finally:
        stack.start("stream")
    wait_for(lambda: scored_count(db, [cid for cid, _, _ in waiting]) == 9, timeout=180,
             what="the waiting complaints scored")
    wait_for(lambda: health_lag() == 0, timeout=60, what="the lag back to 0")
