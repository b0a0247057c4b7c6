"""Training corpora written by real people, normalised into one shape.

Each public source is converted once, from a snapshot of its repository, by its own
module here (`python -m scoring_service.datasets.build <source> --mirror DIR`) into
`scoring_service/data/corpora/<source>.tsv.gz` plus `<source>.json` (provenance). Training
reads only those committed files, never the snapshots.

A row says what its source's labels say, and nothing is invented where a source is
silent: `tone` (-1..1), `complaint` (1 = the writer complains about a product, service
or company; 0 = they do not) and `category` are each optional.
"""
from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

CORPORA_DIR = Path(__file__).resolve().parents[1] / "data" / "corpora"
CATEGORIES = ("billing", "delivery", "product_quality", "staff_service", "account_security", "other")
LANGUAGES = ("en", "ru")
COLUMNS = ("text", "lang", "tone", "complaint", "category", "domain")


@dataclass(frozen=True)
class LabelledText:
    text: str
    lang: str
    tone: float | None = None       # -1 (most negative) .. +1
    complaint: int | None = None    # 1 complaint, 0 not a complaint, None: the source does not say
    category: str | None = None     # one of CATEGORIES, None: the source does not say
    domain: str = ""                # sub-domain inside a source (e.g. "books"), free text

    def __post_init__(self):
        if self.lang not in LANGUAGES:
            raise ValueError(f"language {self.lang!r} not in {LANGUAGES}")
        if self.tone is not None and not -1.0 <= self.tone <= 1.0:
            raise ValueError(f"tone {self.tone} outside -1..1")
        if self.complaint not in (None, 0, 1):
            raise ValueError(f"complaint {self.complaint!r} must be 0, 1 or None")
        if self.category is not None and self.category not in CATEGORIES:
            raise ValueError(f"category {self.category!r} not in {CATEGORIES}")
        if not self.text.strip():
            raise ValueError("empty text")


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def normalise_text(text: str) -> str:
    """One line of plain text: whitespace runs (tabs, newlines) become one space."""
    return " ".join(text.replace("\x00", " ").split())


def write_source(name: str, rows: Iterable[LabelledText], provenance: Mapping, *,
                 directory: Path = CORPORA_DIR) -> Path:
    """Write `<name>.tsv.gz` (deterministic bytes: gzip mtime 0, rows deduplicated by text
    in first-seen order) and `<name>.json` (the provenance plus row counts and SHA-256)."""
    directory.mkdir(parents=True, exist_ok=True)
    seen: set[str] = set()
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t", quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    writer.writerow(COLUMNS)
    counts = {"rows": 0, "tone": 0, "complaint_1": 0, "complaint_0": 0, "category": 0}
    for row in rows:
        text = normalise_text(row.text)
        if not text or text in seen:
            continue
        seen.add(text)
        writer.writerow([text, row.lang, "" if row.tone is None else f"{row.tone:.4f}",
                         "" if row.complaint is None else str(row.complaint), row.category or "", row.domain])
        counts["rows"] += 1
        counts["tone"] += row.tone is not None
        counts["complaint_1"] += row.complaint == 1
        counts["complaint_0"] += row.complaint == 0
        counts["category"] += row.category is not None
    path = directory / f"{name}.tsv.gz"
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=9) as gz:
        gz.write(buffer.getvalue().encode("utf-8"))
    meta = {**provenance, "counts": counts, "file": path.name, "sha256": sha256_of(path),
            "bytes": path.stat().st_size}
    (directory / f"{name}.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def read_source(name: str, *, directory: Path = CORPORA_DIR) -> list[LabelledText]:
    with gzip.open(directory / f"{name}.tsv.gz", "rt", encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter="\t")
        header = next(reader)
        if tuple(header) != COLUMNS:
            raise ValueError(f"{name}: columns {header} are not {COLUMNS}")
        return [LabelledText(text=t, lang=lang, tone=float(tone) if tone else None,
                             complaint=int(c) if c else None, category=cat or None, domain=domain)
                for t, lang, tone, c, cat, domain in reader]


def source_names(*, directory: Path = CORPORA_DIR) -> list[str]:
    return sorted(p.name[: -len(".tsv.gz")] for p in directory.glob("*.tsv.gz"))


def provenance(name: str, *, directory: Path = CORPORA_DIR) -> dict:
    return json.loads((directory / f"{name}.json").read_text(encoding="utf-8"))
