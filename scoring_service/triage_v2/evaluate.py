"""`python -m scoring_service.triage_v2.evaluate`: how good triage 2.0 is, as Markdown.

Five tables (docs/evaluation.md explains each):
1. the held-out 20 % of every training source (scoring_service.triage_v2.train.is_held_out),
   scored by the model: ROC AUC of the complaint probability, Pearson r of the tone;
2. leave one source out: the complaint head of a language refitted without one source,
   scored on that source, so a figure says how the model does on a domain it never saw;
3. VADER's home ground: Pearson r against the mean human rating of the VADER paper's
   corpora (held-out 30 %), for vader, triage 1.0 and triage 2.0;
4. the development sets (scoring_service/data/complaints*.tsv): category macro-F1,
   severity signals, complaint AUC (Russian) and how many complaints escalate;
5. the product's ranking: ROC AUC of triage_core.priority's priority, complaint vs not.

Complaint labels are the ones the sources state (LabelledText.complaint); the distant
"neutral or positive tone is no complaint" labels that training adds are not scored.
A text the model could not read (language_unsupported) has no complaint probability and
no tone: it is left out of the AUC and r of tables 1 and 4 and counted in its own column;
its priority (table 5) is the policy's `unsupported_priority`, as in the product.

`--sample N` (CI): at most N rows of every source, and a model trained for the run on
N rows per source instead of the committed artefact. The VADER corpora and the
development sets are small and are always read whole.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
from sklearn.metrics import f1_score, roc_auc_score
from tqdm import tqdm

from scoring_service import corpora
from scoring_service.datasets import LANGUAGES, provenance, source_names
from scoring_service.eval import human_class, model_class, pearson, weighted_f1
from scoring_service.models import ScoringModel, VaderModel
from scoring_service.train import complaint_split
from scoring_service.triage import COMPLAINTS_PATH, COMPLAINTS_RU_PATH, TriageModel, load_complaints
from scoring_service.triage_v2.model import TriageModelV2
from scoring_service.triage_v2.signals import SIGNALS
from scoring_service.triage_v2.train import (
    Design,
    TrainingText,
    fit_complaint,
    load_texts,
    rated_halves,
    rated_train_split,
    train,
)
from triage_core.priority import DEFAULT_POLICY, Evaluation, Policy, evaluate

DEV_SETS = {"en": COMPLAINTS_PATH, "ru": COMPLAINTS_RU_PATH}
# The Russian development set ends with ten texts that are no complaint (thanks,
# questions); every other row of both sets is a complaint.
DEV_NON_COMPLAINTS = frozenset(f"ru{i}" for i in range(121, 131))

T = TypeVar("T")


def present(values: Sequence[T | None]) -> list[T]:
    """The values of rows already chosen for having one (the type checker cannot see it)."""
    out = [v for v in values if v is not None]
    assert len(out) == len(values), "rows were chosen for having a value"
    return out


# ---------------------------------------------------------------------- metrics

def auc_or_none(labels: Sequence[int], scores: Sequence[float]) -> float | None:
    """ROC AUC, or None where only one class is present."""
    if len(set(labels)) < 2:
        return None
    return float(roc_auc_score(labels, scores))


def pearson_or_none(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    if len(xs) < 3 or len(set(xs)) < 2 or len(set(ys)) < 2:
        return None
    return pearson(xs, ys)


def number(x: float | None, digits: int = 3) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def mean_or_none(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def verdict(prediction: Mapping, *, policy: Policy = DEFAULT_POLICY) -> Evaluation:
    """What the product decides for one prediction (a vader one has no complaint probability)."""
    return evaluate(compound=prediction["compound"], signals=prediction.get("signals"),
                    category=prediction.get("category"), policy=policy, complaint=prediction.get("complaint"),
                    label=prediction.get("label"), language=prediction.get("language"))


def is_read(prediction: Mapping) -> bool:
    return prediction["complaint"] is not None


# ---------------------------------------------------------------------- 1. held-out split

@dataclass(frozen=True)
class Scored:
    text: TrainingText
    triage: dict
    vader: dict


def scored_held_out(texts: Sequence[TrainingText], model: TriageModelV2, vader: VaderModel) -> list[Scored]:
    strings = [t.row.text for t in texts]
    return [Scored(t, p, v) for t, p, v in zip(texts, model.predict(strings), vader.predict(strings))]


def held_out_summary(rows: Sequence[Scored]) -> dict:
    read = [r for r in rows if is_read(r.triage)]
    labelled = [r for r in read if r.text.row.complaint is not None]
    toned = [r for r in read if r.text.row.tone is not None]
    return {
        "n": len(rows),
        "complaints": sum(1 for r in labelled if r.text.row.complaint == 1),
        "not": sum(1 for r in labelled if r.text.row.complaint == 0),
        "auc": auc_or_none(present([r.text.row.complaint for r in labelled]),
                           [r.triage["complaint"] for r in labelled]),
        "toned": len(toned),
        "r": pearson_or_none([r.triage["compound"] for r in toned], present([r.text.row.tone for r in toned])),
        "unsupported": (len(rows) - len(read)) / len(rows) if rows else 0.0,
    }


def held_out_table(scored: Sequence[Scored], names: Sequence[str]) -> dict:
    by_source = defaultdict(list)
    for row in scored:
        by_source[row.text.source].append(row)
    per_source = {name: {"lang": source_lang(name, by_source[name]), **held_out_summary(by_source[name])}
                  for name in names}
    pooled = {lang: held_out_summary([r for r in scored if r.text.row.lang == lang]) for lang in LANGUAGES}
    macro = {lang: {"auc": mean_or_none([s["auc"] for s in per_source.values() if s["lang"] == lang]),
                    "r": mean_or_none([s["r"] for s in per_source.values() if s["lang"] == lang])}
             for lang in LANGUAGES}
    return {"sources": per_source, "pooled": pooled, "macro": macro}


def source_lang(name: str, rows: Sequence[Scored]) -> str:
    return rows[0].text.row.lang if rows else name.split("_", 1)[0]


# ---------------------------------------------------------------------- 2. leave one source out

def complaint_labelled_sources(names: Sequence[str]) -> list[str]:
    """Sources that state complaint labels themselves (provenance counts)."""
    out = []
    for name in names:
        counts = provenance(name)["counts"]
        if counts["complaint_1"] + counts["complaint_0"]:
            out.append(name)
    return out


def leave_one_source_out(train_texts: Sequence[TrainingText], held_out: Sequence[TrainingText],
                         rated_texts: Sequence[TrainingText], names: Sequence[str], vader) -> dict:
    """Refit only the complaint head of the source's language without that source; AUC on
    every row of the source (it was never trained on). A source with complaints only is
    scored against the held-out non-complaints of the other sources of its language,
    which no refit trains on either."""
    texts = [*train_texts, *held_out, *rated_texts]
    trainable = np.concatenate([np.ones(len(train_texts), bool), np.zeros(len(held_out), bool),
                                np.ones(len(rated_texts), bool)])
    is_held_out = np.concatenate([np.zeros(len(train_texts), bool), np.ones(len(held_out), bool),
                                  np.zeros(len(rated_texts), bool)])
    design = Design.of(texts, vader)
    sources = np.asarray([t.source for t in texts])
    stated = np.asarray([-1 if t.row.complaint is None else t.row.complaint for t in texts])
    langs = design.langs
    rows = {}
    for name in tqdm(complaint_labelled_sources(names), desc="leave one source out", unit="source", disable=None):
        own = sources == name
        if not own.any():
            rows[name] = {"lang": name.split("_", 1)[0], "n": 0, "complaints": 0, "not": 0, "auc": None,
                          "negatives": "n/a"}
            continue
        lang = langs[np.flatnonzero(own)[0]]
        coef, intercept = fit_complaint(design, lang, trainable & ~own)
        positives = own & (stated == 1)
        negatives = own & (stated == 0)
        negatives_from = "own"
        if not negatives.any():
            negatives = ~own & is_held_out & (langs == lang) & (stated == 0)
            negatives_from = f"held-out non-complaints of the other {lang} sources"
        picked = np.flatnonzero(positives | negatives)
        scores = np.asarray(design.matrix[picked] @ coef).ravel() + intercept
        rows[name] = {"lang": lang, "n": len(picked), "complaints": int(positives.sum()),
                      "not": int(negatives.sum()), "negatives": negatives_from,
                      "auc": auc_or_none(stated[picked].tolist(), scores.tolist())}
    macro = {lang: mean_or_none([r["auc"] for r in rows.values() if r["lang"] == lang]) for lang in LANGUAGES}
    return {"sources": rows, "macro": macro}


# ---------------------------------------------------------------------- 3. VADER's home ground

def home_ground(models: Mapping[str, ScoringModel]) -> list[dict]:
    """Pearson r and the paper's 3-class F1 (scoring_service.eval); vader, which learned
    nothing from these corpora, also on all rows."""
    out = []
    for corpus in corpora.CORPUS_FILES:
        everything = corpora.load_corpus(corpus)
        _, held = corpora.split(everything)
        for split_name, data in (("all", everything), ("held-out", held)):
            for label, model in models.items():
                if split_name == "all" and label != "vader":
                    continue  # the triage models trained on the other 70 %
                compounds = [p["compound"] for p in model.predict([r.text for r in data])]
                ratings = [r.rating for r in data]
                out.append({"corpus": corpus, "split": split_name, "n": len(data), "model": label,
                            "r": pearson(compounds, ratings),
                            "f1": weighted_f1([human_class(x) for x in ratings], [model_class(c) for c in compounds])})
    return out


# ---------------------------------------------------------------------- 4. development sets

def signal_quality(gold: Sequence[frozenset[str]], found: Sequence[Mapping]) -> dict[str, dict]:
    out = {}
    for name in SIGNALS:
        tp = sum(1 for g, f in zip(gold, found) if name in g and f.get(name))
        fp = sum(1 for g, f in zip(gold, found) if name not in g and f.get(name))
        fn = sum(1 for g, f in zip(gold, found) if name in g and not f.get(name))
        out[name] = {"support": tp + fn, "precision": tp / (tp + fp) if tp + fp else None,
                     "recall": tp / (tp + fn) if tp + fn else None}
    return out


def macro_f1(gold: Sequence[str], predicted: Sequence[str | None]) -> float:
    return float(f1_score(gold, [p or "none" for p in predicted], labels=sorted(set(gold)), average="macro",
                          zero_division=0))


def dev_quality(triage2: TriageModelV2, triage1: TriageModel) -> dict:
    out = {}
    for lang, path in DEV_SETS.items():
        rows = load_complaints(path)
        predictions = triage2.predict([r.text for r in rows])
        complaint = [r.id not in DEV_NON_COMPLAINTS for r in rows]
        read = [(c, p) for c, p in zip(complaint, predictions) if is_read(p)]
        is_complaint = [p for c, p in zip(complaint, predictions) if c]
        not_complaint = [p for c, p in zip(complaint, predictions) if not c]
        result = {
            "n": len(rows), "complaints": len(is_complaint), "not": len(not_complaint),
            "unsupported": sum(1 for p in predictions if not is_read(p)),
            "f1": macro_f1([r.category for r in rows], [p["category"] for p in predictions]),
            "signals": signal_quality([r.signals for r in rows], [p["signals"] for p in predictions]),
            "auc": auc_or_none([int(c) for c, _ in read], [p["complaint"] for _, p in read]),
            "escalated": sum(verdict(p).escalated for p in is_complaint) / len(is_complaint),
            "escalated_not": (sum(verdict(p).escalated for p in not_complaint) / len(not_complaint)
                              if not_complaint else None),
        }
        if lang == "en":
            # triage 1.0's category model trained on most of the English set, so both
            # models are compared on the part it held out (scoring_service.train).
            _, held = complaint_split(rows)
            held_ids = {r.id for r in held}
            gold = [r.category for r in held]
            result["held_out_1"] = len(held)
            result["f1_held_out_1"] = {
                "triage 2.0": macro_f1(gold, [p["category"] for r, p in zip(rows, predictions) if r.id in held_ids]),
                "triage 1.0": macro_f1(gold, [p["category"] for p in triage1.predict([r.text for r in held])])}
        out[lang] = result
    return out


# ---------------------------------------------------------------------- 5. priority ranking

def priority_ranking(scored: Sequence[Scored]) -> dict:
    out = {}
    for lang in LANGUAGES:
        rows = [r for r in scored if r.text.row.lang == lang and r.text.row.complaint is not None]
        labels = present([r.text.row.complaint for r in rows])
        out[lang] = {"n": len(rows), "complaints": sum(labels), "not": len(labels) - sum(labels),
                     "triage 2.0": auc_or_none(labels, [verdict(r.triage).priority for r in rows]),
                     "vader": auc_or_none(labels, [verdict(r.vader).priority for r in rows])}
    return out


# ---------------------------------------------------------------------- report

def render(*, title: str, held: dict, loso: dict | None, home: list[dict], dev: dict, ranking: dict) -> str:
    lines = [f"# {title}", "",
             "## 1. Held-out split of every source", "",
             "ROC AUC: complaint probability, complaint vs not, where the source states both classes. "
             "Pearson r: compound vs the source's tone label. Both over the rows the model read; "
             "`unsupported`: share of rows it answered `language_unsupported`.", "",
             "| source | lang | n | complaints / not | ROC AUC | tone rows | Pearson r | unsupported |",
             "|---|---|---|---|---|---|---|---|"]
    for name, s in held["sources"].items():
        lines.append(f"| {name} | {s['lang']} | {s['n']} | {s['complaints']} / {s['not']} | {number(s['auc'])} | "
                     f"{s['toned']} | {number(s['r'])} | {s['unsupported']:.3f} |")
    for lang, s in held["pooled"].items():
        lines.append(f"| all {lang} (pooled) | {lang} | {s['n']} | {s['complaints']} / {s['not']} | "
                     f"{number(s['auc'])} | {s['toned']} | {number(s['r'])} | {s['unsupported']:.3f} |")
    for lang, s in held["macro"].items():
        lines.append(f"| macro average {lang} | {lang} | | | {number(s['auc'])} | | {number(s['r'])} | |")
    lines += ["", "## 2. Leave one source out (complaint head)", ""]
    if loso is None:
        lines.append("Skipped (--skip-loso).")
    else:
        lines += ["The complaint head of the source's language refitted without that source (every other "
                  "head as trained); ROC AUC on all rows of the source.", "",
                  "| source | lang | n | complaints / not | negatives | ROC AUC |", "|---|---|---|---|---|---|"]
        for name, s in loso["sources"].items():
            lines.append(f"| {name} | {s['lang']} | {s['n']} | {s['complaints']} / {s['not']} | {s['negatives']} | "
                         f"{number(s['auc'])} |")
        for lang, auc in loso["macro"].items():
            lines.append(f"| macro average {lang} | {lang} | | | | {number(auc)} |")
    lines += ["", "## 3. VADER's home ground (VADER paper corpora, mean human rating)", "",
              "| corpus | split | n | model | Pearson r | 3-class F1 |", "|---|---|---|---|---|---|"]
    for row in home:
        lines.append(f"| {row['corpus']} | {row['split']} | {row['n']} | {row['model']} | {row['r']:.3f} | "
                     f"{row['f1']:.3f} |")
    lines += ["", "## 4. Development sets", "",
              "Category macro-F1 over every text of the set (triage 2.0 never trained on either set). "
              "Escalated: share escalated under the default policy.", "",
              "| lang | texts | complaints / not | unsupported | category macro-F1 triage 2.0 | "
              "complaint ROC AUC | complaints escalated | non-complaints escalated |",
              "|---|---|---|---|---|---|---|---|"]
    for lang, d in dev.items():
        lines.append(f"| {lang} | {d['n']} | {d['complaints']} / {d['not']} | {d['unsupported']} | "
                     f"{number(d['f1'])} | {number(d['auc'])} | "
                     f"{d['escalated']:.3f} | {number(d['escalated_not'])} |")
    english = dev["en"]
    lines += ["", f"English category macro-F1 on the {english['held_out_1']} complaints triage 1.0 held out "
                  f"(its category model trained on the others): "
              + ", ".join(f"{name} {number(f1)}" for name, f1 in english["f1_held_out_1"].items()) + "."]
    lines += ["", "Severity signals of triage 2.0 (rules). The rules were written while reading these same "
                  "sets, so these figures are optimistic.", "",
              "| lang | signal | support | precision | recall |", "|---|---|---|---|---|"]
    for lang, d in dev.items():
        for name, s in d["signals"].items():
            lines.append(f"| {lang} | {name} | {s['support']} | {number(s['precision'])} | {number(s['recall'])} |")
    lines += ["", "## 5. Priority ranking (held-out rows, all sources pooled)", "",
              "ROC AUC of triage_core.priority's priority under the default policy, complaint vs not.", "",
              "| lang | n | complaints / not | triage 2.0 | vader |", "|---|---|---|---|---|"]
    for lang, s in ranking.items():
        lines.append(f"| {lang} | {s['n']} | {s['complaints']} / {s['not']} | {number(s['triage 2.0'])} | "
                     f"{number(s['vader'])} |")
    return "\n".join(lines) + "\n"


def report(*, sample: int | None = None, skip_loso: bool = False,
           log: Callable[[str], None] = lambda message: None) -> str:
    started = time.perf_counter()
    names = source_names()
    vader = VaderModel()
    with tempfile.TemporaryDirectory() as tmp:
        if sample:
            path, _ = train(output=Path(tmp) / "triage_v2.model.gz", limit_per_source=sample, quiet=True)
            triage2 = TriageModelV2.load(path, vader=vader.vader)
            log(f"trained a {sample}-rows-per-source model ({time.perf_counter() - started:.0f} s)")
        else:
            triage2 = TriageModelV2.load(vader=vader.vader)
    triage1 = TriageModel.load(vader=vader.vader)
    held_texts = load_texts(names, split="held_out", limit_per_source=sample)
    scored = scored_held_out(held_texts, triage2, vader)
    held = held_out_table(scored, names)
    log(f"held-out split scored ({time.perf_counter() - started:.0f} s)")
    loso = None
    if not skip_loso:
        rated_texts, _ = rated_halves(rated_train_split(sample))
        loso = leave_one_source_out(load_texts(names, split="train", limit_per_source=sample), held_texts,
                                    rated_texts, names, vader.vader)
        log(f"leave one source out done ({time.perf_counter() - started:.0f} s)")
    home = home_ground({"vader": vader, "triage 1.0": triage1, "triage 2.0": triage2})
    dev = dev_quality(triage2, triage1)
    ranking = priority_ranking(scored)
    title = (f"triage {triage2.version} evaluation" + (f" (--sample {sample}: a model trained on {sample} "
                                                       f"rows per source, not the committed one)" if sample else ""))
    return render(title=title, held=held, loso=loso, home=home, dev=dev, ranking=ranking)


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=None,
                        help="at most N rows per source, and a model trained on N rows per source (CI)")
    parser.add_argument("--skip-loso", action="store_true", help="skip the leave-one-source-out refits")
    parser.add_argument("--output", type=Path, default=None, help="also write the report to this Markdown file")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    text = report(sample=args.sample, skip_loso=args.skip_loso, log=lambda m: print(m, file=sys.stderr))
    print(text, end="")
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    print(f"evaluation took {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return text


if __name__ == "__main__":
    main()
