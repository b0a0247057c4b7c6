"""Russian corpora written by real people, from public GitHub repositories.

Each `Source` pins a repository, a full commit and the data files read at that commit;
its `convert(blobs)` is a pure, deterministic parser (stdlib only) from those files'
bytes to `LabelledText` rows. Provenance, licences and caveats are in `docs/data.md`.

Rules shared by every source here:
- `lang="ru"` on every row; a row is dropped when its text is clearly not Russian (fewer
  than 3 Cyrillic letters, Cyrillic under 30% of its letters, or Ukrainian-only letters
  without any Russian-only ones).
- Star ratings map as 1 -> -1.0, 2 -> -0.5, 3 -> 0.0, 4 -> +0.5, 5 -> +1.0 (tone);
  1-2 stars -> complaint 1, 4-5 -> complaint 0, 3 -> complaint None.
- Rows are deduplicated by normalised text inside a source (first seen wins); a source
  that would exceed ~40% of the Russian total is thinned deterministically (every k-th
  row after deduplication) to its `cap`.
"""
from __future__ import annotations

import csv
import io
import json
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator, Mapping

from scoring_service.datasets import LabelledText, normalise_text
from scoring_service.datasets.build import Source

# --------------------------------------------------------------------------- helpers

_CYR = re.compile(r"[А-Яа-яЁё]")
_LETTER = re.compile(r"[^\W\d_]")
_UKR_ONLY = re.compile(r"[іїєґІЇЄҐ]")
_RU_ONLY = re.compile(r"[ыэъЫЭЪ]")


def is_russian(text: str) -> bool:
    """Deliberately lenient: drop only what is clearly not Russian."""
    cyr = len(_CYR.findall(text))
    if cyr < 3:
        return False
    letters = len(_LETTER.findall(text))
    if letters and cyr / letters < 0.3:
        return False
    if _UKR_ONLY.search(text) and not _RU_ONLY.search(text):
        return False
    return True


def _decode(blob: bytes) -> str:
    text = blob.decode("utf-8-sig")
    return text


def _csv_rows(blob: bytes, **kwargs) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(_decode(blob), newline=""), **kwargs))


def _stars(rating: int) -> tuple[float, int | None]:
    tone = {1: -1.0, 2: -0.5, 3: 0.0, 4: 0.5, 5: 1.0}[rating]
    complaint = 1 if rating <= 2 else 0 if rating >= 4 else None
    return tone, complaint


def _finish(rows: Iterable[LabelledText], cap: int | None = None) -> list[LabelledText]:
    """Drop non-Russian rows, deduplicate by normalised text, then thin to `cap`
    (every k-th row, k = ceil(n / cap)) if the source would dominate the Russian total."""
    seen: set[str] = set()
    kept: list[LabelledText] = []
    for row in rows:
        key = normalise_text(row.text)
        if not key or key in seen or not is_russian(key):
            continue
        seen.add(key)
        kept.append(row)
    if cap is not None and len(kept) > cap:
        step = math.ceil(len(kept) / cap)
        kept = kept[::step]
    return kept


# --------------------------------------------------------------------------- RuSentiTweet

RUSENTITWEET_TONE = {"positive": 1.0, "neutral": 0.0, "negative": -1.0}  # 'skip', 'speech' dropped


def convert_rusentitweet(blobs: Mapping[str, bytes]) -> list[LabelledText]:
    def rows() -> Iterator[LabelledText]:
        for rec in _csv_rows(blobs["rusentitweet_full.csv"]):
            tone = RUSENTITWEET_TONE.get(rec["label"].strip())
            if tone is None:
                continue
            # General-domain tweets, not addressed to a company: complaint stays None.
            yield LabelledText(text=rec["text"], lang="ru", tone=tone, domain="tweets")
    return _finish(rows())


# --------------------------------------------------------------------------- SentiRuEval-2015 (reviews only)

SENTIRUEVAL_PATHS = tuple(f"SentiRuEval-2015-subtask-1/SentiRuEval_{d}_markup_{s}.xml"
                          for d in ("rest", "car") for s in ("train", "test"))
# aspect category -> complaint category, in priority order (first match wins)
SENTIRUEVAL_CATEGORY = (
    ("Service", "staff_service"),
    ("Price", "billing"),
    ("Costs", "billing"),
    ("Food", "product_quality"),
    ("Reliability", "product_quality"),
    ("Driveability", "product_quality"),
    ("Comfort", "product_quality"),
    ("Safety", "product_quality"),
    ("Appearance", "product_quality"),
    ("Interior", "other"),
)


def _sentirueval_category(categories: Mapping[str, str]) -> str | None:
    for wanted in ("negative", "both"):
        for name, category in SENTIRUEVAL_CATEGORY:
            if categories.get(name) == wanted:
                return category
    return None


def convert_sentirueval(blobs: Mapping[str, bytes]) -> list[LabelledText]:
    def rows() -> Iterator[LabelledText]:
        for path in SENTIRUEVAL_PATHS:
            domain = "restaurants" if "_rest_" in path else "cars"
            root = ET.fromstring(blobs[path])
            for review in root.iter("review"):
                text = review.findtext("text") or ""
                cats = {c.get("name", ""): c.get("sentiment", "") for c in review.iter("category")}
                whole = cats.get("Whole")
                if whole == "positive":
                    tone, complaint, category = 1.0, 0, None
                elif whole == "negative":
                    tone, complaint, category = -1.0, 1, _sentirueval_category(cats)
                elif whole in ("neutral", "both"):
                    tone, complaint, category = 0.0, None, None
                else:  # 'absence' or missing: no whole-review label
                    continue
                yield LabelledText(text=text, lang="ru", tone=tone, complaint=complaint,
                                   category=category, domain=domain)
    return _finish(rows())


# --------------------------------------------------------------------------- sravni.ru bank reviews

SRAVNI_CLASS = {"0": (-1.0, 1), "1": (0.0, None), "2": (1.0, 0)}  # 0 neg, 1 neutral, 2 pos (the repo's notebook)
_BILLING = re.compile(
    r"комисси|списа|списыва|спиcан|начисл|процент|ставк|переплат|плат[аеуы]\b|платёж|платеж|оплат|"
    r"страховк|штраф|пени|кешб|кэшб|тариф|стоимост|деньг|денег|средств|задолженност|долг|возврат|верн",
    re.IGNORECASE)


def convert_sravni(blobs: Mapping[str, bytes]) -> list[LabelledText]:
    def rows() -> Iterator[LabelledText]:
        for rec in _csv_rows(blobs["data/data_balanced.csv"]):
            label = SRAVNI_CLASS.get(rec["rating"].strip())
            if label is None:
                continue
            tone, complaint = label
            category = None
            if complaint == 1:
                category = "billing" if _BILLING.search(rec["text"]) else "other"
            yield LabelledText(text=rec["text"], lang="ru", tone=tone, complaint=complaint,
                               category=category, domain=f"bank:{rec['bank'].strip()}")
    # The balanced file repeats neutral reviews to balance classes; _finish deduplicates.
    return _finish(rows())


# --------------------------------------------------------------------------- CEDR

CEDR_PATHS = ("CEDR/cedr-main-train.csv", "CEDR/cedr-main-test.csv")
CEDR_JOY, CEDR_SURPRISE, CEDR_NEGATIVE = 0, 2, {1, 3, 4}  # joy, sadness, surprise, fear, anger


def _cedr_tone(labels: str) -> float | None:
    ids = {int(x) for x in labels.strip("[] ").split()} if labels.strip("[] ") else set()
    if not ids:
        return 0.0
    has_joy, has_neg = CEDR_JOY in ids, bool(ids & CEDR_NEGATIVE)
    if has_joy and not has_neg:
        return 1.0
    if has_neg and not has_joy:
        return -1.0
    return None  # surprise alone, or joy mixed with a negative emotion: no clear tone


def convert_cedr(blobs: Mapping[str, bytes]) -> list[LabelledText]:
    def rows() -> Iterator[LabelledText]:
        for path in CEDR_PATHS:
            for rec in _csv_rows(blobs[path]):
                tone = _cedr_tone(rec["labels"])
                if tone is None:
                    continue
                yield LabelledText(text=rec["text"], lang="ru", tone=tone, domain=rec["source"].strip())
    return _finish(rows())


# --------------------------------------------------------------------------- Steam reviews (Russian segment)

STEAM_PATHS = tuple(f"steam_sentiment_data/steam_review_data_batch_{n}.csv" for n in (9, 23, 32, 35))
_STEAM_HEADER_LINE = re.compile(
    r"^(Опубликовано:.*|Отредактировано:.*|Товар получен бесплатно|Продукт получен бесплатно|"
    r"Отзыв из раннего доступа|Ранний доступ|ОБЗОР ПРОДУКТА В РАННЕМ ДОСТУПЕ)$")
STEAM_CAP = None  # set below from the build-time totals if Steam would exceed ~40%


def _steam_text(raw: str) -> str:
    lines = raw.replace("\r\n", "\n").split("\n")
    while lines and (not lines[0].strip() or _STEAM_HEADER_LINE.match(lines[0].strip())):
        lines.pop(0)
    return "\n".join(lines)


def convert_steam(blobs: Mapping[str, bytes]) -> list[LabelledText]:
    def rows() -> Iterator[LabelledText]:
        for path in STEAM_PATHS:
            for rec in _csv_rows(blobs[path], delimiter=";"):
                verdict = rec["label"].split("\n", 1)[0].strip()
                if verdict == "Не рекомендую":
                    tone, complaint = -1.0, 1
                elif verdict == "Рекомендую":
                    tone, complaint = 1.0, 0
                else:
                    continue
                text = _steam_text(rec["review"])
                if not text.strip():
                    continue
                yield LabelledText(text=text, lang="ru", tone=tone, complaint=complaint, domain="steam_games")
    return _finish(rows(), cap=STEAM_CAP)


# --------------------------------------------------------------------------- Gazprombank reviews (banki.ru, sravni.ru)

GPB_PATHS = ("data/raw/banki_ru/ipoteka.json", "data/sravni_ru/obsluzhivanie_rating.json")


def convert_gpb(blobs: Mapping[str, bytes]) -> list[LabelledText]:
    def rows() -> Iterator[LabelledText]:
        for path in GPB_PATHS:
            site = "banki.ru" if "banki_ru" in path else "sravni.ru"
            for rec in json.loads(_decode(blobs[path])):
                rating = rec.get("rating")
                if not isinstance(rating, int) or not 1 <= rating <= 5:
                    continue  # only reviews with the writer's own star rating
                text = rec.get("review_text") or ""
                if not text.strip():
                    continue
                tone, complaint = _stars(rating)
                yield LabelledText(text=text, lang="ru", tone=tone,
                                   complaint=complaint,
                                   domain=f"bank:gazprombank:{site}:{(rec.get('product_type') or '').strip()}")
    return _finish(rows())


# --------------------------------------------------------------------------- the sources

SOURCES: tuple[Source, ...] = (
    Source(
        name="ru_rusentitweet",
        lang="ru",
        repository="sismetanin/rusentitweet",
        commit="bb714550c20f29cdab8ed6378bae15f4790f1b6d",
        paths=("rusentitweet_full.csv",),
        licence="none stated in the repository (no LICENSE file; README gives only the citation)",
        labels="tone: positive +1, neutral 0, negative -1; 'skip' and 'speech' rows dropped; "
               "complaint and category None (general tweets, not addressed to companies)",
        convert=convert_rusentitweet,
        citation="Smetanin S. RuSentiTweet: a sentiment analysis dataset of general domain tweets in Russian. "
                 "PeerJ Computer Science 8:e1039 (2022). doi:10.7717/peerj-cs.1039",
    ),
    Source(
        name="ru_sentirueval2015_reviews",
        lang="ru",
        repository="searayeah/russian-sentiment-emotion-datasets",
        commit="b43a50a589e6664837f994ef72d0f75c4bd6fbcd",
        paths=SENTIRUEVAL_PATHS,
        licence="none stated (no LICENSE file in the repository; SentiRuEval-2015 data were distributed "
                "by the organisers for research without a stated licence)",
        labels="whole-review sentiment (category 'Whole'): positive -> tone +1, complaint 0; negative -> tone -1, "
               "complaint 1; neutral/both -> tone 0, complaint None; absence dropped. Category for negative "
               "reviews from the first negative (else 'both') aspect category: Service -> staff_service, "
               "Price/Costs -> billing, Food/Reliability/Driveability/Comfort/Safety/Appearance -> "
               "product_quality, Interior -> other. Restaurant and car reviews only, never the bank/telecom tweets.",
        convert=convert_sentirueval,
        citation="Loukachevitch N. et al. SentiRuEval: testing object-oriented sentiment analysis systems in "
                 "Russian. Dialogue 2015.",
    ),
    Source(
        name="ru_sravni_bank_reviews",
        lang="ru",
        repository="Domnenko-Aleksey/Comment-sentiment-analysis",
        commit="371610ec1cc8b03b137915c590d18e793a7b2170",
        paths=("data/data_balanced.csv",),
        licence="none stated (no LICENSE file in the repository)",
        labels="rating class (0 negative, 1 neutral, 2 positive, per the repo's notebook): tone -1/0/+1; "
               "complaint 1 for class 0, 0 for class 2, None for class 1; category for complaints by a "
               "keyword rule: money/fee/rate/charge words -> billing, else other (heuristic)",
        convert=convert_sravni,
    ),
    Source(
        name="ru_cedr",
        lang="ru",
        repository="searayeah/russian-sentiment-emotion-datasets",
        commit="b43a50a589e6664837f994ef72d0f75c4bd6fbcd",
        paths=CEDR_PATHS,
        licence="Apache-2.0 (declared on the CEDR dataset card; no LICENSE file in this repository)",
        labels="emotion labels (0 joy, 1 sadness, 2 surprise, 3 fear, 4 anger): joy only -> tone +1; "
               "sadness/fear/anger only -> tone -1; no emotion -> tone 0; surprise alone or joy mixed with a "
               "negative emotion dropped; complaint and category None (not customer text)",
        convert=convert_cedr,
        citation="Sboev A. et al. Data-driven model for emotion detection in Russian texts. Procedia Computer "
                 "Science 190 (2021) 637-642.",
    ),
    Source(
        name="ru_steam_reviews",
        lang="ru",
        repository="nslyubaykin/steam_reviews_rus",
        commit="bdec9b8c036ccb67de3f6458b73a649926a6b069",
        paths=STEAM_PATHS,
        licence="none stated (no LICENSE file in the repository)",
        labels="the reviewer's own Steam verdict: 'Не рекомендую' -> tone -1, complaint 1; 'Рекомендую' -> "
               "tone +1, complaint 0; category None. 'Опубликовано:'/'Товар получен бесплатно' header lines "
               "stripped. Only the 4 batch files under 4 MiB (of 54) are in the snapshot.",
        convert=convert_steam,
    ),
    Source(
        name="ru_gpb_bank_reviews",
        lang="ru",
        repository="MrShaller/gazprombank_hachaton",
        commit="ebf15ced1db04c67273a9b01bd9514a243cdc99a",
        paths=GPB_PATHS,
        licence="none stated (no LICENSE file in the repository)",
        labels="the writer's own 1-5 star rating on banki.ru / sravni.ru: tone -1/-0.5/0/+0.5/+1; "
               "complaint 1 for 1-2 stars, 0 for 4-5, None for 3; category None. Reviews without a star "
               "rating (most of the repo's sravni.ru files) and all LLM-labelled files are not used.",
        convert=convert_gpb,
    ),
)
