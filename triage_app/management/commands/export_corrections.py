"""Export staff corrections as a labelled training source for `make train`.

    python manage.py export_corrections [--output var/corrections]

Writes `staff_corrections.tsv.gz` and `staff_corrections.json` (provenance: where and
when it was exported, how labels were made, row counts, SHA-256) in the shape of the
public corpora (scoring_service/datasets), one row per corrected complaint in a language
the models read (en, ru):

- the category staff set (their latest) becomes the row's category;
- "not a complaint" makes complaint 0; "urgency too low" makes complaint 1 (a complaint
  the model underrated); the latest of the two wins; "urgency too high" gives no label
  (an over-ranked complaint is still a complaint);
- no tone: staff do not rate tone.

The file holds customers' words: it stays in var/ (never committed) and is an input of
the model trained with it (`make train-corrections`), whose artefact records its SHA-256.
"""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from django.core.management.base import BaseCommand

from scoring_service.datasets import LANGUAGES, LabelledText, write_source
from triage_app.models import Correction
from triage_core.config import var_dir

SOURCE_NAME = "staff_corrections"
LABELS = ("staff corrections on the complaint page (triage_app.Correction), latest per complaint and kind: "
          "category correction -> category; 'not a complaint' -> complaint 0; 'urgency too low' -> complaint 1 "
          "(the latest of the two); 'urgency too high' -> no label; no tone")


def corrected_rows() -> list[LabelledText]:
    latest: dict[object, dict] = {}
    for c in Correction.objects.select_related("complaint", "complaint__score").order_by("created_at", "id"):
        entry = latest.setdefault(c.complaint_id, {"complaint": c.complaint, "category": None, "label": None})
        if c.kind == Correction.Kind.CATEGORY:
            entry["category"] = c.value
        elif c.kind == Correction.Kind.NOT_COMPLAINT:
            entry["label"] = 0
        elif c.kind == Correction.Kind.URGENCY_TOO_LOW:
            entry["label"] = 1
    rows = []
    for entry in latest.values():
        complaint = entry["complaint"]
        score = getattr(complaint, "score", None)
        lang = score.language if score is not None else None
        if lang not in LANGUAGES or (entry["category"] is None and entry["label"] is None):
            continue
        rows.append(LabelledText(text=complaint.text, lang=lang, complaint=entry["label"], category=entry["category"],
                                 domain="staff"))
    return rows


class Command(BaseCommand):
    help = "Export staff corrections as a labelled source (staff_corrections.tsv.gz + .json) for make train."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--output", type=Path, default=None, help="folder (default <var>/corrections)")

    def handle(self, *args, output: Path | None = None, **options) -> None:
        folder = output or var_dir() / "corrections"
        rows = corrected_rows()
        path = write_source(SOURCE_NAME, rows, {
            "name": SOURCE_NAME, "lang": "en+ru", "repository": None,
            "origin": "this deployment's PostgreSQL (triage_correction), exported by manage.py export_corrections",
            "exported_at": datetime.now(UTC).isoformat(timespec="seconds"), "licence": "the deployment's own data",
            "labels": LABELS}, directory=folder)
        folder.chmod(0o700)
        path.chmod(0o600)
        (folder / f"{SOURCE_NAME}.json").chmod(0o600)
        self.stdout.write(f"{len(rows)} corrected complaints -> {path}")
