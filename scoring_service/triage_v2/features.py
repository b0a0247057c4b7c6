"""One text -> the model's feature vector (as term -> value), the same in training and
in serving, so what the model learned is what it sees.

Text terms (scoring_service.triage_v2.text.terms) weigh 1/sqrt(number of terms), so a
long complaint and a short one are on one scale. Beside them, as named columns:
VADER's four scores (English; VADER's lexicon is English) and one column per severity
signal the rules found, so the learner weighs a stated legal threat like any other
evidence.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from scoring_service.triage_v2.signals import SIGNALS, rule_mask, severity_signals
from scoring_service.triage_v2.text import base_forms, terms, tokens
from scoring_service.vader import Vader

VADER_COLUMNS = ("vader:compound", "vader:pos", "vader:neg", "vader:neu")
SIGNAL_COLUMNS = tuple(f"sig:{name}" for name in SIGNALS)
DENSE_COLUMNS = VADER_COLUMNS + SIGNAL_COLUMNS


@dataclass(frozen=True)
class TextFeatures:
    lang: str
    values: dict[str, float]                 # term or dense column -> value
    vader: Mapping[str, float] | None        # VADER's scores (English), else None
    signals: dict[str, list[str]]            # signal -> evidence


def featurize(text: str, lang: str, vader: Vader) -> TextFeatures:
    words = tokens(text)
    base = base_forms(words, lang)
    found = terms(words, base)
    weight = 1.0 / math.sqrt(len(found)) if found else 0.0
    values = dict.fromkeys(found, weight)
    scores = None
    if lang == "en":
        scores = vader.polarity_scores(text)
        values["vader:compound"] = scores["compound"]
        values["vader:pos"] = scores["pos"]
        values["vader:neg"] = scores["neg"]
        values["vader:neu"] = scores["neu"]
    signals = severity_signals(text, lang, rule_mask(text, words, base, lang))
    for name in signals:
        values[f"sig:{name}"] = 1.0
    return TextFeatures(lang=lang, values=values, vader=scores, signals=signals)


def design_matrix(rows: Sequence[Mapping[str, float]], index: Mapping[str, int]) -> sparse.csr_matrix:
    """Feature dicts -> CSR matrix over the vocabulary `index` (unknown terms are dropped)."""
    get = index.get
    cols = np.fromiter((get(term, -1) for values in rows for term in values), dtype=np.int64)
    data = np.fromiter((v for values in rows for v in values.values()), dtype=np.float64, count=len(cols))
    row_of = np.repeat(np.arange(len(rows)), [len(values) for values in rows])
    known = cols >= 0
    cols, data, row_of = cols[known], data[known], row_of[known]
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(np.bincount(row_of, minlength=len(rows)), out=indptr[1:])
    return sparse.csr_matrix((data, cols, indptr), shape=(len(rows), len(index)))
