"""The human-rated corpora of the VADER paper, and the fixed train/held-out split.

The files live outside the repository, in the `shared/` folder beside the checkout
(`TRIAGE_VADER_CORPORA` overrides it); they are needed to train and evaluate, never to serve.
"""
from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path


def _default_corpora_dir() -> Path:
    beside_checkout = Path(__file__).resolve().parents[2] / "shared" / "data" / "vader_icwsm2014"
    return beside_checkout if beside_checkout.is_dir() else Path("/work/shared/data/vader_icwsm2014")


CORPORA_DIR = Path(os.environ.get("TRIAGE_VADER_CORPORA") or _default_corpora_dir())
CORPUS_FILES = {
    "tweets": "tweets_GroundTruth.tsv",
    "movie_reviews": "movieReviewSnippets_GroundTruth.tsv",
}
SPLIT_SEED = 20140601
HELD_OUT_FRACTION = 0.3


@dataclass(frozen=True)
class RatedText:
    id: str
    rating: float  # mean of 20 human raters, -4..+4
    text: str


def load_corpus(name: str, directory: Path = CORPORA_DIR) -> list[RatedText]:
    with open(directory / CORPUS_FILES[name], encoding="utf-8", newline="") as f:
        raw = f.read()
    rows = []
    # CRLF ends rows; split on it exactly so a stray "\r" or "\n" inside a text stays put.
    for line in raw.split("\r\n"):
        if not line:
            continue
        id_, rating, text = line.split("\t", 2)
        rows.append(RatedText(id_, float(rating), text))
    return rows


def split(rows: list[RatedText], *, seed: int = SPLIT_SEED) -> tuple[list[RatedText], list[RatedText]]:
    """(train, held_out): a fixed shuffle, so every run holds out the same texts."""
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    cut = int(round(len(rows) * (1 - HELD_OUT_FRACTION)))
    return [rows[i] for i in sorted(order[:cut])], [rows[i] for i in sorted(order[cut:])]
