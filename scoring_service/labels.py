"""The labels every model's prediction carries, in one place that models import."""
from __future__ import annotations

from triage_core.priority import LANGUAGE_UNSUPPORTED  # noqa: F401  (the product's home of it)

# VADER's own convention for the compound score (vaderSentiment README).
POSITIVE_AT = 0.05
NEGATIVE_AT = -0.05


def sentiment_label(compound: float) -> str:
    if compound >= POSITIVE_AT:
        return "positive"
    if compound <= NEGATIVE_AT:
        return "negative"
    return "neutral"
