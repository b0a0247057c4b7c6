"""`triage` 2.0: complaint triage learned from real customer text, English and Russian.

Per text it answers, with evidence for each:
- `language` (fastText's identifier, scoring_service.triage_v2.language); a language the
  models do not cover is `label: language_unsupported`, with the language named and no
  made-up tone: the product sends it to a person;
- `complaint`: the probability that the writer complains about a product, service or
  company (logistic regression, one per language);
- `compound` (-1..1): tone. English: a ridge regression over the text's terms, stacked
  with VADER's scores and fitted to the mean human ratings of the VADER paper's
  corpora; Russian: the ridge regression, scaled to -1..1 on its own training data;
- `category` with its probability and the words that favour it (one multinomial
  logistic regression over both languages: English and Russian cue words share terms);
- `signals`: the severity rules' findings (scoring_service.triage_v2.signals);
- `evidence` and `explanation`: the terms that moved the complaint score most.

The model gives evidence; the product decides. Priority and escalation are computed in
`triage_core.priority` from these outputs under the admin's policy.

Learned by scikit-learn (scoring_service.triage_v2.train); served here with numpy and
scipy only, from scoring_service/data/triage_v2.model.gz.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from scipy import sparse

from scoring_service import DATA_DIR
from scoring_service.labels import LANGUAGE_UNSUPPORTED, sentiment_label
from scoring_service.triage_v2 import artefact
from scoring_service.triage_v2.batch import BatchFeaturizer
from scoring_service.triage_v2.language import LanguageGuess, identify, language_name
from scoring_service.triage_v2.text import readable, shown_in_evidence
from scoring_service.vader import Vader

ARTEFACT_PATH = DATA_DIR / "triage_v2.model.gz"
CATEGORIES = ("billing", "delivery", "product_quality", "staff_service", "account_security", "other")
RATING_SCALE = 2.0  # English compound = tanh(rating / RATING_SCALE), rating on the paper's -4..+4
EVIDENCE_TERMS = 3


def combiner_inputs(tone: np.ndarray, vader: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Inputs of the English tone stack: the text model's tone, VADER's compound/pos/neg,
    and interactions that let the stack trust the text model more where VADER found no
    sentiment words, and each of them by the length of the text (VADER reads a tweet
    well, a long review less so)."""
    c, pos, neg, neu = vader[:, 0], vader[:, 1], vader[:, 2], vader[:, 3]
    size = np.log1p(lengths) / 5.0
    return np.column_stack([tone, c, pos, neg, tone * neu, c * np.abs(c), tone * size, c * size, size,
                            tone * (1.0 - np.abs(c)), np.ones_like(tone)])


class TriageModelV2:
    name = "triage"
    description = ("Complaint triage 2: language (fastText lid.176), complaint probability, tone, category "
                   "and severity signals with evidence, English and Russian; scikit-learn models over NLTK "
                   "tokens, pymorphy3 lemmas and VADER's scores, trained on public customer-written corpora")

    def __init__(self, meta: Mapping, arrays: Mapping[str, np.ndarray], *, sha256: str,
                 vader: Vader | None = None):
        self.vader = vader or Vader()
        self.meta = meta
        self.version = f"{meta['version']}+{sha256[:8]}"
        self.terms: list[str] = arrays["vocabulary"].tobytes().decode("utf-8").split("\n")
        self.featurizer = BatchFeaturizer(self.terms)
        self.index = self.featurizer.index
        self.weights = arrays["weights"].astype(np.float64)   # (terms, heads)
        self.bias = arrays["bias"].astype(np.float64)          # (heads,)
        heads = list(meta["heads"])
        self.head = {name: i for i, name in enumerate(heads)}
        self.category_heads = [self.head[f"category:{c}"] for c in CATEGORIES]
        self.shared_category_heads = [self.head[f"category_shared:{c}"] for c in CATEGORIES]
        self.combiner = np.asarray(meta["tone_en_combiner"], dtype=np.float64)
        self.tone_ru_scale = tuple(meta["tone_ru_scale"])
        self.readable = [readable(t) for t in self.terms]
        # Terms worth naming to staff: words and word pairs, not function words, lemmas,
        # stems or the dense VADER/signal columns.
        self.shown = np.array([shown_in_evidence(t) for t in self.terms])

    @classmethod
    def load(cls, path: Path = ARTEFACT_PATH, *, vader: Vader | None = None) -> TriageModelV2:
        meta, arrays, sha256 = artefact.read(path)
        return cls(meta, arrays, sha256=sha256, vader=vader)

    # ------------------------------------------------------------------ raw scores

    def raw_scores(self, matrix: sparse.csr_matrix) -> np.ndarray:
        return np.asarray(matrix @ self.weights) + self.bias

    # `english`: per row, True for English, False for Russian (the only other language
    # that reaches the models).
    def tone(self, raw: np.ndarray, english: np.ndarray, vader: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Compound -1..1 per row."""
        tone_en = raw[:, self.head["tone:en"]]
        rating = np.clip(combiner_inputs(tone_en, vader, lengths) @ self.combiner, -4.0, 4.0)
        scale, shift = self.tone_ru_scale
        russian = np.clip(raw[:, self.head["tone:ru"]] * scale + shift, -1.0, 1.0)
        return np.where(english, np.tanh(rating / RATING_SCALE), russian)

    def complaint(self, raw: np.ndarray, english: np.ndarray) -> np.ndarray:
        logits = np.where(english, raw[:, self.head["complaint:en"]], raw[:, self.head["complaint:ru"]])
        return 1.0 / (1.0 + np.exp(-logits))

    def categories(self, raw: np.ndarray, english: np.ndarray) -> np.ndarray:
        """Category probabilities; Russian from the model of language-independent terms."""
        logits = np.where(english[:, None], raw[:, self.category_heads], raw[:, self.shared_category_heads])
        logits = logits - logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

    # ------------------------------------------------------------------ evidence

    def evidence(self, matrix: sparse.csr_matrix, english: np.ndarray, best: np.ndarray) -> list[tuple[list, list]]:
        """Per row: (terms that moved the complaint score most, with their contribution;
        words that favour the chosen category most). Only the terms staff can read count;
        their contributions are computed, and ordered, for the whole batch at once
        (per-row numpy calls cost more than the work they do)."""
        n = matrix.shape[0]
        row_all = np.repeat(np.arange(n), np.diff(matrix.indptr))
        keep = self.shown[matrix.indices]
        cols, values, row_of = matrix.indices[keep], matrix.data[keep], row_all[keep]
        head = np.where(english, self.head["complaint:en"], self.head["complaint:ru"])
        moved = values * self.weights[cols, head[row_of]]
        heads = np.where(english[row_of][:, None], np.asarray(self.category_heads)[None, :],
                         np.asarray(self.shared_category_heads)[None, :])
        cat = self.weights[cols[:, None], heads]
        picked = np.arange(len(cols)), best[row_of]
        chosen = cat[picked]
        cat[picked] = -np.inf
        favour = values * (chosen - cat.max(axis=1))
        # Each row's entries in the order staff read them (largest effect first), for the
        # whole batch in one sort; a row then walks its own entries until it has enough
        # distinct words, usually after three or four.
        by_moved = np.lexsort((-np.abs(moved), row_of)).tolist()
        liked = np.flatnonzero(favour > 0)
        by_favour = liked[np.lexsort((-favour[liked], row_of[liked]))].tolist()
        moved_bounds = np.searchsorted(row_of, np.arange(n + 1)).tolist()
        favour_bounds = np.searchsorted(row_of[liked], np.arange(n + 1)).tolist()
        # Words are looked up only for the entries a row walks, not for all of them.
        cols_l, moved_l, favour_l, readable = cols.tolist(), moved.tolist(), favour.tolist(), self.readable
        return [(_distinct(by_moved[moved_bounds[row]:moved_bounds[row + 1]], cols_l, readable, moved_l),
                 [word for word, _ in _distinct(by_favour[favour_bounds[row]:favour_bounds[row + 1]], cols_l,
                                                readable, favour_l)])
                for row in range(n)]

    # ------------------------------------------------------------------ predictions

    def predict(self, texts: Sequence[str]) -> list[dict]:
        guesses = [identify(text) for text in texts]
        supported = [i for i, g in enumerate(guesses) if g.supported]
        out: list[dict | None] = [None] * len(texts)
        for i, guess in enumerate(guesses):
            if not guess.supported:
                out[i] = unsupported_prediction(guess)
        if not supported:
            return out  # type: ignore[return-value]
        feats, vader, matrix = self.featurizer.features([texts[i] for i in supported],
                                                        [guesses[i].code for i in supported], self.vader)
        english = np.asarray([f.lang == "en" for f in feats])
        raw = self.raw_scores(matrix)
        compounds = self.tone(raw, english, vader, np.asarray([len(texts[i]) for i in supported], dtype=float))
        complaint = self.complaint(raw, english)
        cats = self.categories(raw, english)
        best_of = np.argmax(cats, axis=1)
        evidence = self.evidence(matrix, english, best_of)
        # Python floats for the whole batch at once: per-row numpy scalars cost more.
        compound_of, complaint_of = compounds.tolist(), complaint.tolist()
        confidence_of = cats[np.arange(len(feats)), best_of].tolist()
        for row, (i, f, best) in enumerate(zip(supported, feats, best_of.tolist())):
            moved, favour = evidence[row]
            compound = round(compound_of[row], 4)
            scores = f.vader
            if scores is not None:
                neg, neu, pos = scores["neg"], scores["neu"], scores["pos"]
            else:  # no lexicon for Russian: the proportions follow the tone
                neg, pos = round(max(0.0, -compound), 4), round(max(0.0, compound), 4)
                neu = round(1.0 - neg - pos, 4)
            p = round(complaint_of[row], 4)
            category = CATEGORIES[best]
            out[i] = {
                "compound": compound, "neg": neg, "neu": neu, "pos": pos,
                "label": sentiment_label(compound),
                "language": f.lang, "language_confidence": guesses[i].confidence,
                "complaint": p,
                "category": category, "category_confidence": round(confidence_of[row], 3),
                "category_evidence": favour,
                "signals": f.signals,
                "evidence": [{"term": word, "weight": round(w, 3)} for word, w in moved],
                "explanation": explanation(f.lang, p, compound, category, favour, f.signals, moved),
            }
        return out  # type: ignore[return-value]


def _distinct(order: Sequence[int], cols: Sequence[int], readable: Sequence[str], score: Sequence[float]
              ) -> list[tuple[str, float]]:
    """The first EVIDENCE_TERMS distinct words (readable[cols[j]]) in `order`, with their scores."""
    picked: list[tuple[str, float]] = []
    seen: set[str] = set()
    for j in order:
        word = readable[cols[j]]
        if word not in seen:
            seen.add(word)
            picked.append((word, score[j]))
            if len(picked) == EVIDENCE_TERMS:
                break
    return picked


def unsupported_prediction(guess: LanguageGuess) -> dict:
    """No tone and no category are invented for a language the models cannot read."""
    name = language_name(guess.code)
    return {
        "compound": 0.0, "neg": 0.0, "neu": 0.0, "pos": 0.0,
        "label": LANGUAGE_UNSUPPORTED,
        "language": guess.code, "language_confidence": guess.confidence,
        "complaint": None, "category": None, "category_confidence": None, "category_evidence": [],
        "signals": {}, "evidence": [],
        "explanation": f"Needs a person: language {name}; the models read English and Russian only.",
    }


def explanation(language: str, complaint: float, compound: float, category: str,
                category_evidence: Sequence[str], signals: Mapping[str, Sequence[str]],
                moved: Sequence[tuple[str, float]]) -> str:
    tone = "neutral" if -0.05 < compound < 0.05 else ("negative" if compound < 0 else "positive")
    words = ", ".join([f"{w} +" if c > 0 else f"{w} -" for w, c in moved])
    cues = ", ".join(category_evidence)
    text = (f"Complaint {complaint:.0%}{f' ({words}).' if words else '.'} Tone {tone} ({compound:+.2f}). "
            f"Category {category}{f' ({cues}).' if cues else '.'}")
    if signals:
        text += " Signals: " + "; ".join([f"{n} ({', '.join(w)})" for n, w in signals.items()]) + "."
    return f"{text} Language {language}."
