"""Bulk import: feed complaints from a CSV or JSON-lines file into the pipeline.

    python -m ingest.bulk_import complaints.csv      # a `text` column (and optional `email`)
    python -m ingest.bulk_import complaints.jsonl    # one {"text": ...} object per line

Each valid row becomes a `complaints` message with a new id and source `bulk`; the
stream stores and scores it like any other. Rows that break the submission rules are
not sent: each is reported with its line number and the reason, and the command exits 1
so a script notices.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ingest.batch_send import send_all
from ingest.producer import complaint_message
from triage_core.messages import (
    MAX_TEXT_CHARS,
    MIN_TEXT_CHARS,
    TEXT_EMPTY,
    TEXT_TOO_LONG,
    TEXT_TOO_SHORT,
    TEXT_UNSTORABLE,
    text_problem,
)

ROW_NO_TEXT = "no text"
ROW_TOO_SHORT = f"text shorter than {MIN_TEXT_CHARS} characters"
ROW_TOO_LONG = f"text longer than {MAX_TEXT_CHARS} characters"
ROW_UNSTORABLE = "text contains NUL or an unpaired surrogate"
ROW_BAD_JSON = "not a JSON object"
ROW_PROBLEMS = {TEXT_EMPTY: ROW_NO_TEXT, TEXT_UNSTORABLE: ROW_UNSTORABLE, TEXT_TOO_SHORT: ROW_TOO_SHORT,
                TEXT_TOO_LONG: ROW_TOO_LONG}


@dataclass(frozen=True)
class Row:
    line: int
    text: str | None
    problem: str | None = None


def read_rows(path: Path) -> Iterator[Row]:
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        with path.open(encoding="utf-8") as handle:
            for line_no, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError:
                    obj = None
                if not isinstance(obj, dict):
                    yield Row(line_no, None, ROW_BAD_JSON)
                    continue
                yield Row(line_no, obj.get("text") if isinstance(obj.get("text"), str) else None)
    else:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            if "text" not in (reader.fieldnames or []):
                raise SystemExit(f"{path}: the CSV needs a header row with a `text` column")
            for row in reader:
                yield Row(reader.line_num, row.get("text"))


def check(row: Row) -> Row:
    if row.problem:
        return row
    text = (row.text or "").strip()
    problem = text_problem(text)
    if problem is not None:
        return Row(row.line, None, ROW_PROBLEMS[problem])
    return Row(row.line, text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", type=Path)
    parser.add_argument("--rate", type=float, default=0.0, help="messages per second; 0 = as fast as possible")
    parser.add_argument("--topic", default=None)
    args = parser.parse_args(argv)
    if not args.path.is_file():
        parser.error(f"{args.path}: no such file")
    rows = [check(row) for row in read_rows(args.path)]
    bad = [row for row in rows if row.problem]
    good = [row for row in rows if not row.problem]
    for row in bad:
        print(f"{args.path}:{row.line}: skipped: {row.problem}", file=sys.stderr)

    def messages():
        for row in good:
            complaint_id = str(uuid.uuid4())
            value = complaint_message(complaint_id=complaint_id, text=row.text, source="bulk",
                                      submitted_at=datetime.now(UTC))
            yield complaint_id.encode(), value.encode("utf-8")

    sent = send_all(messages(), total=len(good), rate=args.rate, topic=args.topic, client_id="triage-bulk-import",
                    desc="importing")
    print(f"imported {sent} complaints; skipped {len(bad)}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
