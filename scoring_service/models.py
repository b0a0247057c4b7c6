"""The versioned models the service serves, behind one small interface.

Every model answers a batch of texts with the same core fields (compound, neg, neu,
pos, label) so that any version can stand in for another (the KServe V1 idea);
`triage` adds its own fields.
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Protocol

from scoring_service.vader import LEXICON_PATH, Vader

DEFAULT_MODEL = "vader"
# VADER's own convention for the compound score (vaderSentiment README).
POSITIVE_AT = 0.05
NEGATIVE_AT = -0.05


def sentiment_label(compound: float) -> str:
    if compound >= POSITIVE_AT:
        return "positive"
    if compound <= NEGATIVE_AT:
        return "negative"
    return "neutral"


class ScoringModel(Protocol):
    name: str
    version: str
    description: str

    def predict(self, texts: Sequence[str]) -> list[dict]:
        """One prediction dict per text, in order (no id: the caller adds it)."""


class VaderModel:
    """NLTK's VADER, scores identical to `nltk.sentiment.vader` (scoring_service.vader)."""

    name = "vader"
    description = ("NLTK VADER (Hutto & Gilbert 2014) rule-based sentiment; scores identical to "
                   "nltk.sentiment.vader.SentimentIntensityAnalyzer, computed by a faster implementation")

    def __init__(self, vader: Vader | None = None):
        self.vader = vader or Vader()
        lexicon_digest = hashlib.sha256(LEXICON_PATH.read_bytes()).hexdigest()[:8]
        self.version = f"1.0.0+lexicon.{lexicon_digest}"

    def polarity_scores(self, text: str) -> dict[str, float]:
        return self.vader.polarity_scores(text)

    def predict(self, texts: Sequence[str]) -> list[dict]:
        out = []
        for text in texts:
            scores = self.vader.polarity_scores(text)
            scores["label"] = sentiment_label(scores["compound"])
            out.append(scores)
        return out


def load_models() -> Mapping[str, ScoringModel]:
    """Every served model, loaded now (readiness means they are all in memory)."""
    from scoring_service.triage import TriageModel

    vader = VaderModel()
    triage = TriageModel.load(vader=vader.vader)
    return {vader.name: vader, triage.name: triage}
