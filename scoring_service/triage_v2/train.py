"""`python -m scoring_service.triage_v2.train` (`make train`): rebuild triage 2.0.

Inputs (every one's SHA-256 goes into the artefact):
- the public corpora in scoring_service/data/corpora/ (docs/data.md), each split by a
  hash of the text into train (80 %) and held-out (20 %); only train rows are read here;
- the TRAIN split of the VADER paper's human-rated corpora (scoring_service.corpora),
  to which the English tone stack is fitted (mean human rating).
The development sets (scoring_service/data/complaints*.tsv) are never trained on.

Labels. `complaint` as each source states it; in addition a row whose source gives a
tone but no complaint label counts as "not a complaint" when its tone is neutral or
positive (distant supervision: praise and small talk are no complaint; a negative row
stays unlabelled, since people are negative about many things that are not a company).

Every source's rows weigh at most SOURCE_CAP rows' worth in each model, so no single
domain dominates. Deterministic: fixed split, sorted vocabulary, deterministic solvers.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression, Ridge
from tqdm import tqdm

from scoring_service import corpora
from scoring_service.datasets import CORPORA_DIR, LabelledText, read_source, sha256_of, source_names
from scoring_service.triage_v2 import artefact
from scoring_service.triage_v2.features import DENSE_COLUMNS, TextFeatures, design_matrix, featurize
from scoring_service.triage_v2.language import model_digest
from scoring_service.triage_v2.model import ARTEFACT_PATH, CATEGORIES, combiner_inputs
from scoring_service.vader import LEXICON_PATH, Vader

VERSION = "2.0.0"
HELD_OUT_PERCENT = 20
MIN_DOC_FREQ = 3
MAX_TERMS = 250_000
SOURCE_CAP = {"en": 12_000, "ru": 3_000}  # rows' worth per source and model
TONE_ALPHA = 1.0
# Inverse regularisation of the complaint models, chosen by leave-one-source-out AUC
# (C 1 / 4 / 16: English 0.862 / 0.869 / 0.865, Russian 0.862 / 0.886 / 0.896).
COMPLAINT_C = {"en": 4.0, "ru": 16.0}
CATEGORY_C = 4.0
# Tweets are VADER's home ground, where the bar is VADER itself (r 0.874 on the held-out
# tweets): weighing them twice keeps the stack at or above it there (0.880) while it still
# lifts review-style text far above VADER (0.61 against 0.41). Equal weights gave 0.873.
STACK_CORPUS_WEIGHT = {"tweets": 2.0, "movie_reviews": 1.0}
HEADS = ("tone:en", "tone:ru", "complaint:en", "complaint:ru", *(f"category:{c}" for c in CATEGORIES),
         *(f"category_shared:{c}" for c in CATEGORIES))


@dataclass(frozen=True)
class TrainingText:
    source: str
    row: LabelledText

    @property
    def complaint(self) -> int | None:
        if self.row.complaint is not None:
            return self.row.complaint
        if self.row.tone is not None and self.row.tone >= 0:
            return 0
        return None


def is_held_out(text: str) -> bool:
    """The fixed 20 % of every source that training never reads (a hash, not a draw)."""
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:4], "big") % 100 < HELD_OUT_PERCENT


def load_texts(names: Sequence[str] | None = None, *, split: str = "train", directory: Path = CORPORA_DIR,
               limit_per_source: int | None = None) -> list[TrainingText]:
    """Rows of the named sources (default: all) in `split` ("train", "held_out" or "all")."""
    out = []
    for name in names or source_names(directory=directory):
        rows = read_source(name, directory=directory)
        if split != "all":
            rows = [r for r in rows if is_held_out(r.text) == (split == "held_out")]
        if limit_per_source:
            rows = rows[::max(1, len(rows) // limit_per_source)][:limit_per_source]
        out += [TrainingText(name, r) for r in rows]
    return out


def featurize_all(texts: Sequence[str], langs: Sequence[str], vader: Vader, desc: str) -> list[TextFeatures]:
    return [featurize(t, lang, vader) for t, lang in tqdm(list(zip(texts, langs)), desc=desc, unit="text",
                                                          mininterval=2, disable=None)]


def vocabulary(features: Sequence[TextFeatures]) -> list[str]:
    df = Counter(term for f in features for term in f.values)
    kept = sorted((t for t, n in df.items() if n >= MIN_DOC_FREQ and t not in DENSE_COLUMNS),
                  key=lambda t: (-df[t], t))[:MAX_TERMS - len(DENSE_COLUMNS)]
    return list(DENSE_COLUMNS) + sorted(kept)


@dataclass
class Design:
    """Training texts as one matrix over one vocabulary, featurized once."""

    texts: Sequence[TrainingText]
    features: Sequence[TextFeatures]
    terms: list[str]
    index: dict[str, int]
    matrix: sparse.csr_matrix

    @classmethod
    def of(cls, texts: Sequence[TrainingText], vader: Vader) -> Design:
        feats = featurize_all([t.row.text for t in texts], [t.row.lang for t in texts], vader, "features")
        terms = vocabulary(feats)
        index = {t: i for i, t in enumerate(terms)}
        return cls(texts, feats, terms, index, design_matrix([f.values for f in feats], index))

    @property
    def langs(self) -> np.ndarray:
        return np.asarray([t.row.lang for t in self.texts])


def source_weights(texts: Sequence[TrainingText], picked: np.ndarray) -> np.ndarray:
    """Each source weighs at most SOURCE_CAP[lang] rows' worth among the picked rows."""
    counts = Counter(texts[i].source for i in picked)
    return np.asarray([min(1.0, SOURCE_CAP[texts[i].row.lang] / counts[texts[i].source]) for i in picked])


def fit_tone(design: Design, lang: str, mask: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    tone = np.asarray([np.nan if t.row.tone is None else t.row.tone for t in design.texts])
    keep = (design.langs == lang) & ~np.isnan(tone) & (True if mask is None else mask)
    picked = np.flatnonzero(keep)
    model = Ridge(alpha=TONE_ALPHA, solver="sparse_cg", tol=1e-6, max_iter=2000)
    model.fit(design.matrix[picked], tone[picked], sample_weight=source_weights(design.texts, picked))
    return model.coef_, float(model.intercept_)


def complaint_labels(design: Design) -> np.ndarray:
    return np.asarray([-1 if t.complaint is None else t.complaint for t in design.texts])


def fit_complaint(design: Design, lang: str, mask: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    labels = complaint_labels(design)
    picked = np.flatnonzero((design.langs == lang) & (labels >= 0) & (True if mask is None else mask))
    model = LogisticRegression(C=COMPLAINT_C[lang], solver="liblinear", max_iter=1000, random_state=0)
    model.fit(design.matrix[picked], labels[picked], sample_weight=source_weights(design.texts, picked))
    return model.coef_[0], float(model.intercept_[0])


def fit_category(design: Design, *, shared_only: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(weights terms x categories, bias); a category without training rows is never predicted.

    `shared_only`: learn from the language-independent terms alone (cue words, signals,
    punctuation). Russian has too few category labels of its own (docs/data.md), so its
    categories come from this model, which learns mostly from English complaints.
    """
    labels = np.asarray([CATEGORIES.index(t.row.category) if t.row.category else -1 for t in design.texts])
    picked = np.flatnonzero(labels >= 0)
    columns = (np.flatnonzero([is_shared(t) for t in design.terms]) if shared_only
               else np.arange(len(design.terms)))
    model = LogisticRegression(C=CATEGORY_C, solver="lbfgs", max_iter=500)
    model.fit(design.matrix[picked][:, columns], labels[picked], sample_weight=source_weights(design.texts, picked))
    weights = np.zeros((len(design.terms), len(CATEGORIES)))
    bias = np.full(len(CATEGORIES), -30.0)
    for k, c in enumerate(model.classes_):
        weights[columns, c] = model.coef_[k]
        bias[c] = model.intercept_[k]
    return weights, bias


def is_shared(term: str) -> bool:
    """A term that means the same in both languages."""
    return term.startswith(("cue:", "sig:")) or term in ("!", "?")


def fit_tone_stack(design: Design, tone_en: tuple[np.ndarray, float],
                   rated: Mapping[str, Sequence[corpora.RatedText]], vader: Vader) -> np.ndarray:
    """English tone: the text model's tone beside VADER's scores, fitted to the mean human
    rating of the VADER paper's corpora (train split), each corpus as a whole weighted by
    STACK_CORPUS_WEIGHT."""
    rows = [r for corpus in sorted(rated) for r in rated[corpus]]
    share = {corpus: STACK_CORPUS_WEIGHT.get(corpus, 1.0) / len(rated[corpus]) for corpus in rated}
    feats = [featurize(r.text, "en", vader) for r in rows]
    tone = np.asarray(design_matrix([f.values for f in feats], design.index) @ tone_en[0]) + tone_en[1]
    scores = np.asarray([[v["compound"], v["pos"], v["neg"], v["neu"]] for v in english_scores(feats)])
    root_w = np.sqrt(np.concatenate([np.full(len(rated[c]), share[c]) for c in sorted(rated)]))
    inputs = combiner_inputs(tone, scores, np.asarray([len(r.text) for r in rows], dtype=float))
    return np.linalg.lstsq(inputs * root_w[:, None], np.asarray([r.rating for r in rows]) * root_w,
                           rcond=None)[0]


def english_scores(feats: Sequence[TextFeatures]) -> list[Mapping[str, float]]:
    """VADER's scores of English texts' features (every English text has them)."""
    out = []
    for f in feats:
        assert f.vader is not None, "English features carry VADER's scores"
        out.append(f.vader)
    return out


def fit_tone_scale(design: Design, tone_ru: tuple[np.ndarray, float]) -> tuple[float, float]:
    """Russian tone: the ridge output scaled to the -1..1 labels it was trained on."""
    rows = np.flatnonzero((design.langs == "ru") & np.asarray([t.row.tone is not None for t in design.texts]))
    if not len(rows):
        return 1.0, 0.0
    predicted = np.asarray(design.matrix[rows] @ tone_ru[0]) + tone_ru[1]
    a, b = np.linalg.lstsq(np.column_stack([predicted, np.ones_like(predicted)]),
                           np.asarray([design.texts[i].row.tone for i in rows]), rcond=None)[0]
    return float(a), float(b)


def fit(texts: Sequence[TrainingText], rated: Mapping[str, Sequence[corpora.RatedText]], *, vader: Vader | None = None,
        design: Design | None = None, quiet: bool = False) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Train every head; returns the artefact's (meta, arrays)."""
    vader = vader or Vader()
    say = (lambda *a: None) if quiet else print
    started = time.perf_counter()
    design = design or Design.of(texts, vader)
    say(f"{len(texts):,} texts, {len(design.terms):,} terms ({time.perf_counter() - started:.0f} s)")
    weights = np.zeros((len(design.terms), len(HEADS)))
    bias = np.zeros(len(HEADS))
    fitted = {}
    for lang in ("en", "ru"):
        for head, fitter in (("tone", fit_tone), ("complaint", fit_complaint)):
            fitted[f"{head}:{lang}"] = fitter(design, lang)
            weights[:, HEADS.index(f"{head}:{lang}")], bias[HEADS.index(f"{head}:{lang}")] = fitted[f"{head}:{lang}"]
        say(f"{lang}: tone and complaint fitted ({time.perf_counter() - started:.0f} s)")
    for prefix, shared_only in (("category", False), ("category_shared", True)):
        cat_weights, cat_bias = fit_category(design, shared_only=shared_only)
        for k, c in enumerate(CATEGORIES):
            weights[:, HEADS.index(f"{prefix}:{c}")] = cat_weights[:, k]
            bias[HEADS.index(f"{prefix}:{c}")] = cat_bias[k]
    say(f"category fitted ({time.perf_counter() - started:.0f} s)")
    combiner = fit_tone_stack(design, fitted["tone:en"], rated, vader)
    scale = fit_tone_scale(design, fitted["tone:ru"])
    sources = Counter(t.source for t in texts)
    meta: dict[str, Any] = {"version": VERSION, "heads": list(HEADS), "tone_en_combiner": [float(x) for x in combiner],
            "tone_ru_scale": list(scale),
            "training": {"texts": len(texts), "terms": len(design.terms), "sources": dict(sorted(sources.items())),
                         "rated_texts": {c: len(r) for c, r in sorted(rated.items())},
                         "min_doc_freq": MIN_DOC_FREQ, "source_cap": SOURCE_CAP,
                         "tone_alpha": TONE_ALPHA, "complaint_c": COMPLAINT_C, "category_c": CATEGORY_C,
                         "held_out_percent": HELD_OUT_PERCENT}}
    arrays: dict[str, np.ndarray] = {
        "vocabulary": np.frombuffer("\n".join(design.terms).encode("utf-8"), dtype=np.uint8),
        "weights": weights.astype(np.float32), "bias": bias.astype(np.float32)}
    return meta, arrays


def input_digests(names: Sequence[str], directory: Path = CORPORA_DIR) -> dict[str, str]:
    digests = {f"corpora/{n}.tsv.gz": sha256_of(directory / f"{n}.tsv.gz") for n in names}
    for file in corpora.CORPUS_FILES.values():
        digests[f"vader_icwsm2014/{file}"] = sha256_of(corpora.CORPORA_DIR / file)
    digests["vader_lexicon.txt"] = sha256_of(LEXICON_PATH)
    digests["lid.176.ftz"] = model_digest()
    return digests


def rated_train_split(limit: int | None = None) -> dict[str, list[corpora.RatedText]]:
    """The TRAIN split of each human-rated corpus (the held-out 30 % is for evaluation)."""
    out = {}
    for name in corpora.CORPUS_FILES:
        rows = corpora.split(corpora.load_corpus(name))[0]
        out[name] = rows[::max(1, len(rows) // limit)] if limit else rows
    return out


def rated_halves(rated: Mapping[str, Sequence[corpora.RatedText]]) -> tuple[list[TrainingText], dict]:
    """Half of each rated corpus (every other row) trains the English text model as tone
    (rating / 4, the paper's -4..+4 scale); the other half, which that model never saw,
    is what the tone stack is fitted to, so it learns how far to trust the text model
    on unseen text."""
    as_training = [TrainingText(f"vader_{name}", LabelledText(r.text, "en", tone=max(-1.0, min(1.0, r.rating / 4))))
                   for name, rows in sorted(rated.items()) for r in rows[0::2]]
    return as_training, {name: list(rows[1::2]) for name, rows in rated.items()}


def load_extra_sources(paths: Sequence[Path]) -> list[TrainingText]:
    """Labelled sources outside the committed corpora, such as staff corrections exported
    from Postgres (manage.py export_corrections): every row is trained on (they are
    judged on live traffic, by the A/B page's agreement with staff, not held out here)."""
    out = []
    for path in paths:
        if not path.name.endswith(".tsv.gz"):
            raise ValueError(f"{path}: an extra source is a <name>.tsv.gz as export_corrections writes it")
        name = path.name[: -len(".tsv.gz")]
        out += [TrainingText(name, r) for r in read_source(name, directory=path.parent)]
    return out


def train(*, output: Path = ARTEFACT_PATH, names: Sequence[str] | None = None, directory: Path = CORPORA_DIR,
          limit_per_source: int | None = None, quiet: bool = False, extra_sources: Sequence[Path] = (),
          release: str = VERSION) -> tuple[Path, str]:
    """Train and write the artefact; returns (its path, its SHA-256). `extra_sources`
    (load_extra_sources) join the corpora; `release` names the model's version (its
    build is the artefact's hash), so a model trained with corrections can be served
    beside the committed one (scoring_service.models: TRIAGE_EXTRA_MODELS_DIR)."""
    names = list(names or source_names(directory=directory))
    texts = load_texts(names, directory=directory, limit_per_source=limit_per_source)
    extra = load_extra_sources(extra_sources)
    rated_texts, stack_rows = rated_halves(rated_train_split(limit_per_source))
    meta, arrays = fit([*texts, *extra, *rated_texts], stack_rows, quiet=quiet)
    meta["version"] = release
    meta["inputs"] = input_digests(names, directory) | {f"extra/{p.name}": sha256_of(p) for p in extra_sources}
    meta["extra_rows"] = len(extra)
    meta["limit_per_source"] = limit_per_source
    digest = artefact.write(output, meta, arrays)
    return output, digest


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=ARTEFACT_PATH)
    parser.add_argument("--limit-per-source", type=int, default=None,
                        help="train on at most N rows of each source (a quick check, not the model)")
    parser.add_argument("--extra-source", type=Path, action="append", default=[],
                        help="a labelled <name>.tsv.gz beyond the corpora "
                             "(e.g. var/corrections/staff_corrections.tsv.gz)")
    parser.add_argument("--release", default=VERSION, help=f"the model's release (default {VERSION})")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    path, digest = train(output=args.output, limit_per_source=args.limit_per_source,
                         extra_sources=args.extra_source, release=args.release)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB), version {args.release}+{digest[:8]}, "
          f"{time.perf_counter() - started:.0f} s")
    print(json.dumps(artefact.read(path)[0]["training"], indent=1))


if __name__ == "__main__":
    main()
