"""`triage`: a complaint-aware model of tone and content.

Tone. VADER (scoring_service.vader) reads sentiment words well but misses how people
write about products: "the plot is thin", "falls apart after a week". A Naive Bayes
word model, trained with NLTK on the human-rated corpora (tokens from NLTK's
TweetTokenizer, negation scope marked with `nltk.sentiment.util.mark_negation`),
supplies that. A small linear model, fitted on out-of-fold scores, combines both
into a predicted human rating (-4..+4); `compound` is tanh(rating / 2).

Content. The category is an NLTK Naive Bayes classifier over Porter stems plus
hand-written cue words, trained on the labelled complaints this project ships
(scoring_service/data/complaints.tsv). Severity signals are hand-written phrase rules
with a negation guard ("not going to cancel" is no cancel intent); each reports the
words that triggered it.

Priority and escalation use `triage_core.priority.evaluate` under the default policy,
the same function the stream applies with the admin's current policy.

The trained tables live in scoring_service/data/triage_model.json, written by
`python -m scoring_service.train` (deterministic) and committed.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from nltk.sentiment.util import mark_negation
from nltk.stem.porter import PorterStemmer
from nltk.tokenize.casual import TweetTokenizer

from scoring_service import DATA_DIR
from scoring_service.labels import sentiment_label
from scoring_service.vader import Vader
from triage_core.priority import DEFAULT_POLICY, evaluate

ARTEFACT_PATH = DATA_DIR / "triage_model.json"
COMPLAINTS_PATH = DATA_DIR / "complaints.tsv"
COMPLAINTS_RU_PATH = DATA_DIR / "complaints_ru.tsv"  # the Russian development set, same columns

CATEGORIES = ("billing", "delivery", "product_quality", "staff_service", "account_security", "other")
SIGNALS = ("legal_threat", "safety_risk", "fraud", "cancel_intent", "repeated_contact")
RATING_SCALE = 2.0  # compound = tanh(rating / RATING_SCALE)

_tokenizer = TweetTokenizer(preserve_case=False, reduce_len=True, strip_handles=True)
_stemmer = PorterStemmer()


# TweetTokenizer's URL pattern backtracks badly inside one long run without spaces:
# a 10,000-character "www.a.a.a..." takes over a minute, enough to kill a worker.
# No word is that long, so a longer run is cut into pieces of this length first (the
# cost then grows linearly with the text).
MAX_TOKEN_CHARS = 64


def tokens(text: str) -> list[str]:
    runs = text.split()
    if any(len(run) > MAX_TOKEN_CHARS for run in runs):
        text = " ".join(run[i:i + MAX_TOKEN_CHARS] for run in runs for i in range(0, len(run), MAX_TOKEN_CHARS))
    return _tokenizer.tokenize(text)


def tone_features(words: Sequence[str]) -> set[str]:
    """The Naive Bayes tone features: distinct tokens, "_NEG" inside a negation's scope."""
    return set(mark_negation(list(words)))


def combiner_inputs(vader_scores: Mapping[str, float], nb_log_odds: float) -> list[float]:
    """Inputs of the linear tone model. The interactions let the NB word model count for
    more where VADER found no sentiment words, and less where VADER is confident."""
    c = vader_scores["compound"]
    t = math.tanh(nb_log_odds / 4.0)
    return [c, vader_scores["pos"], vader_scores["neg"], t, t * vader_scores["neu"], c * abs(c), t * abs(c), 1.0]


COMBINER_NAMES = ["vader_compound", "vader_pos", "vader_neg", "nb", "nb_x_vader_neu",
                  "vader_compound_x_abs", "nb_x_abs_vader_compound", "bias"]

# Cue words per category (Porter stems), hand-written from what support agents file
# complaints under. They enter the category classifier as features ("cue:billing"),
# so they are weighed by the training data, not trusted blindly.
CATEGORY_CUES: Mapping[str, frozenset[str]] = {
    "billing": frozenset("""charg bill invoic refund payment paid pay fee price overcharg debit
        discount receipt vat money cost instal interest credit statement promo overdraft £""".split()),
    "delivery": frozenset("""deliv deliveri parcel packag courier driver track arriv ship dispatch
        depot redeliveri collect van postman""".split()),
    "product_quality": frozenset("""broke broken fault faulti defect qualiti crack leak melt mould
        rip ripp snap batteri screen materi stop shrank flicker scratch peel buzz""".split()),
    "staff_service": frozenset("""rude staff agent manag hold servic unprofession assist advis engin
        technician desk repli support receptionist instal fitter guard shout call""".split()),
    "account_security": frozenset("""login log password hack lock verif two-factor code data privaci
        secur ident phish usernam breach devic""".split()),
}
_STOPWORDS = frozenset("""the a an and or but to of in on at for with my me i is it was this that
    you your be have has had are were not no do did so as from by we our they them he she his her
    its there their what which who when where how why all any can could would will just than then
    about after before been being into out up down off over again very too also get got""".split())


@lru_cache(maxsize=50_000)
def stem(word: str) -> str:
    return _stemmer.stem(word)


def category_features(words: Iterable[str]) -> dict[str, bool]:
    """Featureset of the category classifier (NLTK style: name -> True)."""
    feats: dict[str, bool] = {}
    for w in words:
        if w in _STOPWORDS or not (w.isalpha() or w == "£"):
            continue
        s = stem(w)
        feats[f"stem:{s}"] = True
        for category, cues in CATEGORY_CUES.items():
            if s in cues:
                feats[f"cue:{category}"] = True
    return feats


# Severity rules: phrases over lower-cased text. A match preceded (within three words)
# by a negation does not count: "no lawyers needed", "I am not going to cancel".
_SIGNAL_PATTERNS: Mapping[str, str] = {
    "legal_threat": r"lawyers?|attorneys?|solicitors?|sue|suing|lawsuit|legal action|court|small claims"
                    r"|ombudsman|regulator|trading standards|advertising standards|consumer rights law"
                    r"|gdpr breach|legal claim|claim(ing)? through my lawyer",
    "safety_risk": r"fire|smoke|sparks?|melt(ed|ing)|explod\w*|scald\w*|burn(ing|t|ed|s)?|electrocut\w*"
                   r"|live wires?|electric shock|hospital|injur\w*|hurt|sprain\w*|slipped|i fell"
                   r"|chok\w*|swallow\w*|allergic( reaction)?|food poisoning|poison\w*|dangerous|hazard\w*"
                   r"|(nearly|almost) (hit|landed on|landed|ran over|run over)|swell(ed|ing)|hissing"
                   r"|for my safety|unsafe for",
    "fraud": r"fraud\w*|scam\w*|phishing|hack(ed|ers?)|stolen|stole|identity theft|unauthori[sz]ed"
             r"|never (made|signed up|agreed|bought|ordered|authori[sz]ed)|did not authori[sz]e"
             r"|didn'?t (make|buy|order|authori[sz]e)|counterfeit|fakes?|in my name"
             r"|someone (\w+ ){0,2}(logged|using|used|opened|signed|redeemed|ordered)",
    "cancel_intent": r"cancel(l?ing)?|terminate|close (my|all my) (account|accounts|contract)"
                     r"|closing (it|my \w+|all my \w+)|delete my account|switching to|(take|taking) my business"
                     r"|go(ing)? elsewhere|somewhere else|never deal with you again|won'?t be (buying|ordering)"
                     r"|last time i (order|buy|shop)|i'?m leaving|done with (you|this company)",
    "repeated_contact": r"(second|third|fourth|fifth|sixth|seventh|\d+(st|nd|rd|th)) (time|message|email|call"
                        r"|week|replacement|letter)|(two|three|four|five|six|several|many|multiple|\d+) times"
                        r"|(asked|called|rang|phoned|written|wrote|emailed|contacted|reported|complained)( \w+){0,6} twice"
                        r"|every time i (call|ring|phone|contact|write|email)"
                        r"|keep (calling|asking|sending|explaining|ringing|emailing)|again and again|once again"
                        r"|already (reported|contacted|called|emailed|sent|complained)"
                        r"|(complained|called|written|emailed|asked) (about this )?before|on my last"
                        r"|not a single reply|how many times|repeatedly|days in a row|last (two|three|\d+) calls",
}
SIGNAL_RULES: Mapping[str, re.Pattern] = {
    name: re.compile(rf"\b(?:{pattern})\b") for name, pattern in _SIGNAL_PATTERNS.items()
}
_NEGATION_BEFORE = re.compile(r"\b(?:not|no|never|without|\w+n't|nt)\W+(?:\w+\W+){0,2}$")


def severity_signals(text: str, names: Iterable[str] = SIGNALS) -> dict[str, list[str]]:
    """{signal: [evidence phrases]} for every signal among `names` whose rule fires
    (absent ones omitted)."""
    lowered = text.lower().replace("’", "'")
    found: dict[str, list[str]] = {}
    for name in names:
        rule = SIGNAL_RULES[name]
        evidence = []
        for match in rule.finditer(lowered):
            if _NEGATION_BEFORE.search(lowered, max(0, match.start() - 40), match.start()):
                continue
            if match.group(0) not in evidence:
                evidence.append(match.group(0))
        if evidence:
            found[name] = evidence
    return found


@dataclass(frozen=True)
class NaiveBayesTable:
    """An NLTK NaiveBayesClassifier exported as log2 tables (scoring_service.train).

    Classifying sums the same terms NLTK's `prob_classify` sums: the label's log prior
    plus, for each feature the classifier saw in training, log P(feature | label).
    """
    log_prior: Mapping[str, float]
    log_likelihood: Mapping[str, Mapping[str, float]]  # feature -> label -> log2 P(True | label)

    def log_scores(self, features: Iterable[str]) -> dict[str, float]:
        scores = dict(self.log_prior)
        for f in features:
            row = self.log_likelihood.get(f)
            if row is not None:
                for label, lp in row.items():
                    scores[label] += lp
        return scores

    def probabilities(self, features: Iterable[str]) -> dict[str, float]:
        scores = self.log_scores(features)
        top = max(scores.values())
        weights = {label: 2.0 ** (s - top) for label, s in scores.items()}
        total = sum(weights.values())
        return {label: w / total for label, w in weights.items()}


def intensity_word(compound: float) -> str:
    strength = abs(compound)
    if strength >= 0.75:
        return "strong"
    if strength >= 0.4:
        return "moderate"
    if strength >= 0.05:
        return "mild"
    return "none"


def explanation(*, compound: float, category: str, category_evidence: Sequence[str],
                signals: Mapping[str, Sequence[str]], priority: float) -> str:
    tone = "neutral" if abs(compound) < 0.05 else ("negative" if compound < 0 else "positive")
    parts = [f"Tone {tone} ({compound:+.2f}, {intensity_word(compound)})."]
    parts.append(f"Category {category}" + (f" ({', '.join(category_evidence)})." if category_evidence else "."))
    if signals:
        listed = "; ".join(f"{name} ({', '.join(words)})" for name, words in signals.items())
        parts.append(f"Signals: {listed}.")
    else:
        parts.append("No severity signals.")
    # The model's own ranking under the default policy; the product re-ranks under the
    # admin's current policy (triage_core.priority) and says so beside it.
    parts.append(f"Model priority {priority:g}/100 under the default policy.")
    return " ".join(parts)


class TriageModel:
    name = "triage"
    description = ("Complaint triage: tone from VADER + an NLTK Naive Bayes word model trained on "
                   "human-rated reviews and tweets; category (NLTK Naive Bayes) and severity signals "
                   "(phrase rules) with evidence; priority 0..100 with an explanation")

    def __init__(self, artefact: Mapping, *, version: str, vader: Vader | None = None):
        self.vader = vader or Vader()
        tone = artefact["tone"]
        self.tone_prior = float(tone["prior"])
        self.tone_weights: Mapping[str, float] = tone["weights"]
        self.combiner = [float(x) for x in tone["combiner"]["coef"]]
        cat = artefact["category"]
        self.category_nb = NaiveBayesTable(log_prior=cat["log_prior"], log_likelihood=cat["log_likelihood"])
        self.version = version
        self.policy = DEFAULT_POLICY

    @classmethod
    def load(cls, path: Path = ARTEFACT_PATH, *, vader: Vader | None = None) -> TriageModel:
        raw = path.read_bytes()
        artefact = json.loads(raw)
        return cls(artefact, version=f"{artefact['version']}+{hashlib.sha256(raw).hexdigest()[:8]}", vader=vader)

    def nb_log_odds(self, words: Sequence[str]) -> float:
        weights = self.tone_weights
        return self.tone_prior + sum(weights.get(f, 0.0) for f in tone_features(words))

    def rating(self, text: str, words: Sequence[str] | None = None,
               vader_scores: Mapping[str, float] | None = None) -> float:
        """Predicted mean human rating, -4 (extremely negative) .. +4."""
        words = tokens(text) if words is None else words
        scores = self.vader.polarity_scores(text) if vader_scores is None else vader_scores
        inputs = combiner_inputs(scores, self.nb_log_odds(words))
        return max(-4.0, min(4.0, sum(w * x for w, x in zip(self.combiner, inputs))))

    def category(self, words: Sequence[str]) -> tuple[str, float, list[str]]:
        """(category, its probability, evidence words)."""
        feats = category_features(words)
        probs = self.category_nb.probabilities(feats)
        best = max(probs, key=probs.__getitem__)
        table = self.category_nb.log_likelihood
        ranked = []
        for w in dict.fromkeys(words):
            row = table.get(f"stem:{stem(w)}") if w.isalpha() and w not in _STOPWORDS else None
            if row:
                margin = row[best] - max(lp for label, lp in row.items() if label != best)
                if margin > 0.5:
                    ranked.append((margin, w))
        evidence = [w for _, w in sorted(ranked, key=lambda x: -x[0])[:3]]
        return best, probs[best], evidence

    def predict_one(self, text: str) -> dict:
        words = tokens(text)
        scores = self.vader.polarity_scores(text)
        rating = self.rating(text, words, scores)
        compound = round(math.tanh(rating / RATING_SCALE), 4)
        category, confidence, evidence = self.category(words)
        signals = severity_signals(text)
        verdict = evaluate(compound=compound, signals=signals, category=category, policy=self.policy)
        return {
            "compound": compound,
            # neg/neu/pos are VADER's lexical proportions of the same text (the triage
            # model predicts one rating, not three proportions).
            "neg": scores["neg"], "neu": scores["neu"], "pos": scores["pos"],
            "label": sentiment_label(compound),
            "rating": round(rating, 3),
            "intensity": round(abs(compound), 4),
            "category": category,
            "category_confidence": round(confidence, 3),
            "category_evidence": evidence,
            "signals": signals,
            "priority": verdict.priority,
            "explanation": explanation(compound=compound, category=category, category_evidence=evidence,
                                       signals=signals, priority=verdict.priority),
        }

    def predict(self, texts: Sequence[str]) -> list[dict]:
        return [self.predict_one(t) for t in texts]


@dataclass(frozen=True)
class LabelledComplaint:
    id: str
    category: str
    signals: frozenset[str]
    text: str


def load_complaints(path: Path = COMPLAINTS_PATH) -> list[LabelledComplaint]:
    rows = []
    lines = path.read_text(encoding="utf-8").splitlines()
    for line in lines[1:]:
        id_, category, signals, text = line.split("\t", 3)
        rows.append(LabelledComplaint(id_, category, frozenset(s for s in signals.split(";") if s != "-"), text))
    return rows
