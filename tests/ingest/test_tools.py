"""Pure parts of the load generator and the bulk importer (no Kafka)."""
import json

from ingest import bulk_import, loadgen
from triage_core.messages import MAX_TEXT_CHARS


def test_loadgen_is_reproducible_and_varied():
    first = [c.text for c, _ in zip(loadgen.complaint_texts(7), range(200))]
    again = [c.text for c, _ in zip(loadgen.complaint_texts(7), range(200))]
    other = [c.text for c, _ in zip(loadgen.complaint_texts(8), range(200))]
    assert first == again
    assert first != other
    assert len(set(first)) > 150


def test_loadgen_runs_without_a_seed_send_new_ids(monkeypatch):
    sent: list[bytes] = []

    def send_all(messages, **kwargs):
        sent.extend(key for key, _ in messages)
        return kwargs["total"]

    monkeypatch.setattr(loadgen, "send_all", send_all)
    first = loadgen.produce(count=50, rate=0, progress=False)
    second = loadgen.produce(count=50, rate=0, progress=False)
    assert len(set(first) | set(second)) == 100  # two runs, no id twice
    assert loadgen.produce(count=5, rate=0, seed=9, progress=False) == \
        loadgen.produce(count=5, rate=0, seed=9, progress=False)  # a seed repeats a run
    assert [key.decode() for key in sent[:50]] == first


def test_loadgen_texts_fit_the_submission_rules_and_carry_their_signals():
    for item, _ in zip(loadgen.complaint_texts(3), range(500)):
        assert 10 <= len(item.text) <= MAX_TEXT_CHARS
        assert item.text[0].isupper() or not item.text[0].isalpha()
        for signal in item.signals:
            assert any(phrase in item.text for phrase in loadgen.SIGNALS[signal])


def test_loadgen_messages_follow_the_contract():
    item = next(loadgen.complaint_texts(1))
    key, value = loadgen.message_for(item, classic=False)
    body = json.loads(value)
    assert key == item.id.encode()
    assert body["id"] == item.id and body["text"] == item.text and body["source"] == "loadgen"
    key, value = loadgen.message_for(item, classic=True)
    assert key is None and json.loads(value) == {"data": item.text}


def test_bulk_import_reports_each_bad_row_with_its_line(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join([
        json.dumps({"text": "The refund never arrived and nobody answers."}),
        "not json",
        json.dumps({"text": "short"}),
        json.dumps({"text": "x" * (MAX_TEXT_CHARS + 1)}),
        json.dumps({"email": "a@example.com"}),
    ]) + "\n")
    rows = [bulk_import.check(r) for r in bulk_import.read_rows(path)]
    assert [(r.line, r.problem) for r in rows] == [
        (1, None), (2, bulk_import.ROW_BAD_JSON), (3, bulk_import.ROW_TOO_SHORT),
        (4, bulk_import.ROW_TOO_LONG), (5, bulk_import.ROW_NO_TEXT)]
    assert rows[0].text == "The refund never arrived and nobody answers."


def test_bulk_import_reads_csv_text_column(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text('text,email\n"My order came late, again.",a@example.com\n,\n')
    rows = [bulk_import.check(r) for r in bulk_import.read_rows(path)]
    assert rows[0].text == "My order came late, again." and rows[0].problem is None
    assert rows[1].problem == bulk_import.ROW_NO_TEXT


def test_bulk_import_skips_text_postgres_cannot_store(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"text": "a NUL \u0000 inside a long enough text"}) + "\n")
    (row,) = [bulk_import.check(r) for r in bulk_import.read_rows(path)]
    assert row.problem == bulk_import.ROW_UNSTORABLE
