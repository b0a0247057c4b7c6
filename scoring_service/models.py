"""The versioned models the service serves, behind one small interface.

Every model answers a batch of texts with the same core fields (compound, neg, neu,
pos, label) so that any version can stand in for another (the KServe V1 idea);
`triage` adds its own fields. A name may be served in several versions at once
(`triage` 1.0 and 2.0), so an experiment can compare them; the newest is the name's
default.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from scoring_service.labels import NEGATIVE_AT, POSITIVE_AT, sentiment_label  # noqa: F401  (re-exported)
from scoring_service.triage import TriageModel
from scoring_service.triage_v2.model import TriageModelV2
from scoring_service.vader import LEXICON_PATH, Vader
from triage_core.config import extra_model_paths

DEFAULT_MODEL = "vader"


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
            scores: dict[str, Any] = self.vader.polarity_scores(text)  # a fresh dict per call
            scores["label"] = sentiment_label(scores["compound"])
            out.append(scores)
        return out


def release_of(version: str) -> str:
    """The part of a version before "+": "2.0.0+1a2b3c4d" -> "2.0.0" (semver build metadata)."""
    return version.split("+", 1)[0]


def _release_order(version: str) -> tuple[int, ...]:
    # Numeric, so 10.0.0 is newer than 9.0.0; a version that is not dotted numbers is a
    # bug in a model and fails when the registry is built, not on a request.
    return tuple(int(part) for part in release_of(version).split("."))


class UnknownModel(LookupError):
    def __init__(self, name: str, known: Sequence[str]):
        super().__init__(name)
        self.name = name
        self.known = list(known)


class UnknownVersion(LookupError):
    def __init__(self, name: str, version: str, known: Sequence[str]):
        super().__init__(f"{name}@{version}")
        self.name = name
        self.version = version
        self.known = list(known)


class ModelRegistry:
    """Every served model by name, each name with its versions, newest first.

    A name serves at most one build of a release ("1.0.0"), so a caller may name a
    version by its release alone and it is never ambiguous; two builds of one release
    are refused when the registry is built.
    """

    def __init__(self, models: Iterable[ScoringModel], *, extra: Iterable[ScoringModel] = ()):
        """`extra` models are served by version only: the name's default stays the newest
        of `models` (a model trained locally never takes over the seeded experiment)."""
        models = list(models)
        # The newest of `models` per name: sorted oldest first, so the newest is kept.
        self._defaults = {m.name: m for m in sorted(models, key=lambda m: _release_order(m.version))}
        by_name: dict[str, list[ScoringModel]] = {}
        for model in [*models, *extra]:
            by_name.setdefault(model.name, []).append(model)
        for name, versions in by_name.items():
            versions.sort(key=lambda m: _release_order(m.version), reverse=True)
            releases = [_release_order(m.version) for m in versions]
            if len(set(releases)) != len(releases):
                raise ValueError(f"model {name!r} has two builds of one release: {[m.version for m in versions]}")
        self._by_name: dict[str, tuple[ScoringModel, ...]] = {name: tuple(v) for name, v in by_name.items()}

    def names(self) -> list[str]:
        return sorted(self._by_name)

    def versions(self, name: str) -> tuple[ScoringModel, ...]:
        """The versions of `name`, newest (the default) first; UnknownModel if none."""
        found = self._by_name.get(name)
        if found is None:
            raise UnknownModel(name, self.names())
        return found

    def default(self, name: str) -> ScoringModel:
        versions = self.versions(name)
        return self._defaults.get(name, versions[0])

    def version(self, name: str, version: str) -> ScoringModel:
        """`name` at `version`, given in full ("1.0.0+abcd1234") or by its release ("1.0.0")."""
        versions = self.versions(name)
        for model in versions:
            if version in (model.version, release_of(model.version)):
                return model
        raise UnknownVersion(name, version, [m.version for m in versions])


def load_models() -> ModelRegistry:
    """Every served model, loaded now (readiness means they are all in memory): vader,
    triage 1.0 and 2.0, and any triage build in TRIAGE_EXTRA_MODELS_DIR (another release,
    e.g. 2.1.0 trained with staff corrections, served as triage@2.1.0)."""
    vader = VaderModel()
    # One VADER for all: its memo of resolved tokens is then warmed by every model.
    return ModelRegistry([
        vader,
        TriageModel.load(vader=vader.vader),
        TriageModelV2.load(vader=vader.vader),
    ], extra=[TriageModelV2.load(path, vader=vader.vader) for path in extra_model_paths()])
