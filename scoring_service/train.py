"""`python -m scoring_service.train`: rebuild scoring_service/data/triage_model.json.

Deterministic (fixed split seed, fixed fold assignment, no sampling), so running it
again on the same data writes the same file. What the model learns from:

- tone: the TRAIN split (70 %, seed `corpora.SPLIT_SEED`) of both human-rated corpora
  of the VADER paper. The held-out 30 % of each is never read here; eval reports on it.
  The word model also sees the TRAIN split of the labelled complaints as negative texts.
- category: the TRAIN split (70 %, stratified by category, seed `COMPLAINT_SPLIT_SEED`)
  of the project's labelled complaints; eval reports category accuracy on the rest.
- severity signals are hand-written rules (scoring_service.triage) and learn nothing.

The artefact is committed so that serving needs neither the corpora nor training time.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from nltk.classify import NaiveBayesClassifier

from scoring_service import corpora
from scoring_service.triage import (
    ARTEFACT_PATH,
    COMBINER_NAMES,
    COMPLAINTS_PATH,
    LabelledComplaint,
    category_features,
    combiner_inputs,
    load_complaints,
    tokens,
    tone_features,
)
from scoring_service.vader import Vader

ARTEFACT_VERSION = "1.0.0"
COMPLAINT_SPLIT_SEED = 7
COMPLAINT_HELD_OUT_FRACTION = 0.3
TONE_FOLDS = 5
TONE_MIN_COUNT = 3  # a word seen fewer times in training is noise, and bloats the file
RIDGE = 1.0


def complaint_split(rows: Sequence[LabelledComplaint]) -> tuple[list[LabelledComplaint], list[LabelledComplaint]]:
    """(train, held_out), stratified by category so every category is in both."""
    rng = random.Random(COMPLAINT_SPLIT_SEED)
    train, held_out = [], []
    for category in sorted({r.category for r in rows}):
        group = [r for r in rows if r.category == category]
        rng.shuffle(group)
        cut = int(round(len(group) * COMPLAINT_HELD_OUT_FRACTION))
        held_out += group[:cut]
        train += group[cut:]
    key = lambda r: r.id  # noqa: E731
    return sorted(train, key=key), sorted(held_out, key=key)


def train_category(rows: Sequence[LabelledComplaint]) -> NaiveBayesClassifier:
    return NaiveBayesClassifier.train([(category_features(tokens(r.text)), r.category) for r in rows])


def export_naive_bayes(classifier: NaiveBayesClassifier) -> dict:
    """The classifier's log2 tables: what `prob_classify` sums for a present feature.

    Reads NLTK's internal probability distributions (nltk is pinned in requirements.txt).
    """
    labels = sorted(classifier.labels())
    log_prior = {label: classifier._label_probdist.logprob(label) for label in labels}
    fnames = sorted({fname for (_, fname) in classifier._feature_probdist})
    table = {f: {label: round(classifier._feature_probdist[label, f].logprob(True), 6) for label in labels}
             for f in fnames}
    return {"log_prior": log_prior, "log_likelihood": table}


def _binary_tone_label(rating: float) -> str | None:
    return "pos" if rating > 0 else "neg" if rating < 0 else None


def train_tone_nb(featuresets: Sequence[set[str]], ratings: Sequence[float],
                  complaints: Sequence[set[str]] = ()) -> tuple[float, dict[str, float]]:
    """NLTK Naive Bayes on positive vs negative texts -> (prior, per-word log-odds in nats).

    `complaints` are extra negative examples: tweets and film reviews never talk about
    parcels, refunds or locked accounts, and without them the word model reads a flat
    "my parcel has not arrived" as mildly positive (the corpora lean positive).
    """
    labelled = [({f: True for f in fs}, label) for fs, r in zip(featuresets, ratings)
                if (label := _binary_tone_label(r)) is not None]
    labelled += [({f: True for f in fs}, "neg") for fs in complaints]
    classifier = NaiveBayesClassifier.train(labelled)
    counts: dict[str, int] = {}
    for fs, _ in labelled:
        for f in fs:
            counts[f] = counts.get(f, 0) + 1
    probdist = classifier._feature_probdist
    weights = {}
    for f, n in counts.items():
        if n >= TONE_MIN_COUNT:
            log2_ratio = probdist["pos", f].logprob(True) - probdist["neg", f].logprob(True)
            weights[f] = log2_ratio * math.log(2)
    prior = (classifier._label_probdist.logprob("pos") - classifier._label_probdist.logprob("neg")) * math.log(2)
    return prior, weights


def nb_log_odds(prior: float, weights: dict[str, float], features: set[str]) -> float:
    return prior + sum(weights.get(f, 0.0) for f in features)


def train_tone(train_rows: Sequence[corpora.RatedText], corpus_of: Sequence[str],
               complaints: Sequence[LabelledComplaint]) -> dict:
    vader = Vader()
    featuresets = [tone_features(tokens(r.text)) for r in train_rows]
    complaint_features = [tone_features(tokens(c.text)) for c in complaints]
    ratings = [r.rating for r in train_rows]
    # Out-of-fold NB scores: the combiner must learn how far to trust the word model
    # on texts it did not see, or it would trust its memorised training texts.
    folds = [i % TONE_FOLDS for i in range(len(train_rows))]
    random.Random(corpora.SPLIT_SEED).shuffle(folds)
    oof = [0.0] * len(train_rows)
    for k in range(TONE_FOLDS):
        inside = [i for i, f in enumerate(folds) if f != k]
        prior, weights = train_tone_nb([featuresets[i] for i in inside], [ratings[i] for i in inside],
                                       complaint_features)
        for i, f in enumerate(folds):
            if f == k:
                oof[i] = nb_log_odds(prior, weights, featuresets[i])
    x = np.array([combiner_inputs(vader.polarity_scores(r.text), s) for r, s in zip(train_rows, oof)])
    y = np.array(ratings)
    # Each corpus weighs the same, so the 7,400 review sentences do not drown the tweets.
    sizes = {c: corpus_of.count(c) for c in set(corpus_of)}
    w = np.array([len(corpus_of) / (len(sizes) * sizes[c]) for c in corpus_of])
    xw = x * w[:, None]
    coef = np.linalg.solve(x.T @ xw + RIDGE * np.eye(x.shape[1]), xw.T @ y)
    prior, weights = train_tone_nb(featuresets, ratings, complaint_features)
    return {
        "prior": round(prior, 6),
        "weights": {f: round(v, 4) for f, v in sorted(weights.items())},
        "combiner": {"inputs": COMBINER_NAMES, "coef": [round(float(c), 6) for c in coef]},
    }


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_artefact() -> dict:
    train_rows: list[corpora.RatedText] = []
    corpus_of: list[str] = []
    sources = {}
    for name, filename in corpora.CORPUS_FILES.items():
        train, held_out = corpora.split(corpora.load_corpus(name))
        train_rows += train
        corpus_of += [name] * len(train)
        sources[name] = {"file": filename, "sha256": _sha256(corpora.CORPORA_DIR / filename),
                         "train": len(train), "held_out": len(held_out)}
    complaints_train, complaints_held_out = complaint_split(load_complaints())
    category = export_naive_bayes(train_category(complaints_train))
    return {
        "version": ARTEFACT_VERSION,
        "trained_from": {
            "split_seed": corpora.SPLIT_SEED, "held_out_fraction": corpora.HELD_OUT_FRACTION,
            "corpora": sources,
            "complaints": {"file": COMPLAINTS_PATH.name, "sha256": _sha256(COMPLAINTS_PATH),
                           "split_seed": COMPLAINT_SPLIT_SEED, "train": len(complaints_train),
                           "held_out": len(complaints_held_out)},
        },
        "tone": train_tone(train_rows, corpus_of, complaints_train),
        "category": category,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ARTEFACT_PATH)
    args = parser.parse_args(argv)
    artefact = build_artefact()
    args.out.write_text(json.dumps(artefact, sort_keys=True, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KiB): "
          f"{len(artefact['tone']['weights'])} tone words, "
          f"{len(artefact['category']['log_likelihood'])} category features")


if __name__ == "__main__":
    main()
