"""`python -m scoring_service.eval`: the quality table of every model.

Sentiment: Pearson r of `compound` against the mean human rating, and 3-class F1.
- Model classes: compound >= +0.05 positive, <= -0.05 negative, else neutral.
- Human classes (the mapping that reproduces the paper's VADER F1, 0.96 / 0.61):
  mean rating > 0 positive, < 0 negative, exactly 0 neutral.
- F1 is averaged over the three classes weighted by their support, as in the paper.
`vader` learned nothing from these corpora, so it is also reported on all rows;
`triage` is reported only on the held-out 30 % it never trained on.

Complaints: category accuracy on the held-out part of scoring_service/data/complaints.tsv,
and precision/recall of each severity signal (rules, nothing trained) on all of it.
"""
from __future__ import annotations

import argparse
import math
from collections.abc import Sequence

from scoring_service import corpora
from scoring_service.models import NEGATIVE_AT, POSITIVE_AT, VaderModel
from scoring_service.train import complaint_split
from scoring_service.triage import CATEGORIES, SIGNALS, TriageModel, load_complaints, severity_signals, tokens

PAPER = {"tweets": {"r": 0.881, "f1": 0.96}, "movie_reviews": {"r": 0.451, "f1": 0.61}}
CLASSES = ("negative", "neutral", "positive")


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float:
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    return sxy / math.sqrt(sxx * syy)


def model_class(compound: float) -> str:
    return "positive" if compound >= POSITIVE_AT else "negative" if compound <= NEGATIVE_AT else "neutral"


def human_class(rating: float) -> str:
    return "positive" if rating > 0 else "negative" if rating < 0 else "neutral"


def weighted_f1(gold: Sequence[str], predicted: Sequence[str], classes: Sequence[str] = CLASSES) -> float:
    total = 0.0
    for c in classes:
        tp = sum(1 for g, p in zip(gold, predicted) if g == c and p == c)
        fp = sum(1 for g, p in zip(gold, predicted) if g != c and p == c)
        fn = sum(1 for g, p in zip(gold, predicted) if g == c and p != c)
        f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
        total += f1 * sum(1 for g in gold if g == c)
    return total / len(gold)


def sentiment_rows(models: dict) -> list[dict]:
    rows = []
    for corpus in corpora.CORPUS_FILES:
        everything = corpora.load_corpus(corpus)
        _, held_out = corpora.split(everything)
        for split_name, data in (("all", everything), ("held-out", held_out)):
            for model in models.values():
                if model.name != "vader" and split_name == "all":
                    continue  # trained on part of "all"
                compounds = [p["compound"] for p in model.predict([r.text for r in data])]
                ratings = [r.rating for r in data]
                rows.append({
                    "corpus": corpus, "split": split_name, "n": len(data), "model": model.name,
                    "r": pearson(compounds, ratings),
                    "f1": weighted_f1([human_class(x) for x in ratings], [model_class(c) for c in compounds]),
                    "paper_r": PAPER[corpus]["r"], "paper_f1": PAPER[corpus]["f1"],
                })
    return rows


def complaint_quality(model: TriageModel) -> dict:
    complaints = load_complaints()
    _, held_out = complaint_split(complaints)
    correct = sum(1 for c in held_out if model.category(tokens(c.text))[0] == c.category)
    per_category = {}
    for cat in CATEGORIES:
        group = [c for c in held_out if c.category == cat]
        per_category[cat] = (sum(1 for c in group if model.category(tokens(c.text))[0] == cat), len(group))
    found = {c.id: severity_signals(c.text) for c in complaints}
    signals = {}
    for name in SIGNALS:
        tp = sum(1 for c in complaints if name in c.signals and name in found[c.id])
        fp = sum(1 for c in complaints if name not in c.signals and name in found[c.id])
        fn = sum(1 for c in complaints if name in c.signals and name not in found[c.id])
        signals[name] = {"support": tp + fn, "precision": tp / (tp + fp) if tp + fp else 0.0,
                         "recall": tp / (tp + fn) if tp + fn else 0.0}
    exact = sum(1 for c in complaints if set(found[c.id]) == set(c.signals))
    texts = [c.text for c in held_out]
    negative_share = {m.name: sum(1 for p in m.predict(texts) if p["label"] == "negative") / len(texts)
                      for m in (VaderModel(model.vader), model)}
    return {"category_accuracy": correct / len(held_out), "held_out": len(held_out),
            "per_category": per_category, "signals": signals,
            "signals_exact": exact / len(complaints), "complaints": len(complaints),
            "negative_share": negative_share}


def render(sentiment: list[dict], complaints: dict) -> str:
    lines = ["Sentiment vs human ratings (VADER paper corpora)", "",
             "| corpus | split | n | model | Pearson r | 3-class F1 | paper VADER r | paper VADER F1 |",
             "|---|---|---|---|---|---|---|---|"]
    for row in sentiment:
        lines.append(f"| {row['corpus']} | {row['split']} | {row['n']} | {row['model']} | {row['r']:.3f} | "
                     f"{row['f1']:.3f} | {row['paper_r']:.3f} | {row['paper_f1']:.2f} |")
    lines += ["", f"Complaint category accuracy (triage, held-out {complaints['held_out']} of "
                  f"{complaints['complaints']} labelled complaints): {complaints['category_accuracy']:.3f}", "",
              "| category | correct / held-out |", "|---|---|"]
    for cat, (ok, n) in complaints["per_category"].items():
        lines.append(f"| {cat} | {ok} / {n} |")
    shares = ", ".join(f"{name} {share:.3f}" for name, share in complaints["negative_share"].items())
    lines += ["", f"Share of held-out complaints labelled negative: {shares}"]
    lines += ["", f"Severity signals (rules, all {complaints['complaints']} labelled complaints; "
                  f"exact signal set right for {complaints['signals_exact']:.3f})", "",
              "| signal | support | precision | recall |", "|---|---|---|---|"]
    for name, s in complaints["signals"].items():
        lines.append(f"| {name} | {s['support']} | {s['precision']:.3f} | {s['recall']:.3f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    vader = VaderModel()
    triage = TriageModel.load(vader=vader.vader)
    print(render(sentiment_rows({"vader": vader, "triage": triage}), complaint_quality(triage)))


if __name__ == "__main__":
    main()
