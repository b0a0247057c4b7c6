"""Scoring throughput, in one run on the same texts:

1. NLTK's SentimentIntensityAnalyzer in-process (the baseline),
2. scoring_service.vader in-process: a fresh instance (cold token memo) and a second pass,
3. the same through `POST /v1/models/vader:predict` in batches, one gunicorn worker
   started here on a free loopback port and stopped afterwards,
4. the `triage` models in-process and over HTTP, for reference;
5. on complaint-like texts (the load generator's 5,000 and both development sets of
   complaints, English and Russian), NLTK VADER against the default model, `triage` 2.0,
   in-process in batches of 500 as the service runs it: the issue's speed figure.

In-process figures are one thread on one core, best of --repeat runs. The HTTP runs
reuse one keep-alive connection; the server's token memo is warm after the first run,
as it is in a long-running service. The texts are both
human-rated corpora of the VADER paper (14,805 texts). Progress bars advance per chunk
of texts so that tqdm itself costs nothing measurable.

    .venv/bin/python bench/bench_scoring.py [--repeat 3] [--batch 500] [--limit N]
"""
from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import requests
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ingest.loadgen import complaint_texts  # noqa: E402
from scoring_service import native  # noqa: E402
from scoring_service.corpora import CORPUS_FILES, load_corpus  # noqa: E402
from scoring_service.local_server import running_service  # noqa: E402
from scoring_service.triage import COMPLAINTS_PATH, COMPLAINTS_RU_PATH, TriageModel, load_complaints  # noqa: E402
from scoring_service.triage_v2.model import TriageModelV2  # noqa: E402
from scoring_service.vader import Vader, nltk_reference  # noqa: E402
from triage_core.config import addresses  # noqa: E402

CHUNK = 500


def in_batches(label: str, make_scorer: Callable[[], Callable[[Sequence[str]], object]], texts: Sequence[str],
               repeat: int) -> float:
    """Best texts/s over `repeat` runs; each run's scorer (made fresh) takes CHUNK texts at a time."""
    rates = []
    for run in range(repeat):
        score = make_scorer()
        with tqdm(total=len(texts), desc=f"{label} run {run + 1}/{repeat}", unit="text", leave=False) as bar:
            started = time.perf_counter()
            for start in range(0, len(texts), CHUNK):
                score(texts[start:start + CHUNK])
                bar.update(min(CHUNK, len(texts) - start))
            rates.append(len(texts) / (time.perf_counter() - started))
    return max(rates)


def in_process(label: str, make_scorer: Callable[[], Callable[[str], object]], texts: Sequence[str],
               repeat: int) -> float:
    """Best texts/s of a one-text-at-a-time scorer (NLTK's, VADER's, triage 1.0's)."""
    def make_chunk_scorer():
        score = make_scorer()
        return lambda chunk: [score(text) for text in chunk]

    return in_batches(label, make_chunk_scorer, texts, repeat)


def complaint_like_texts() -> list[str]:
    import itertools

    return ([item.text for item in itertools.islice(complaint_texts(7), 5000)]
            + [c.text for path in (COMPLAINTS_PATH, COMPLAINTS_RU_PATH) for c in load_complaints(path)])


def over_http(label: str, url: str, model: str, texts: Sequence[str], batch: int, repeat: int) -> float:
    auth = {"Authorization": f"Bearer {addresses().scoring_token}"}
    rates = []
    with requests.Session() as session:
        for run in range(repeat):
            with tqdm(total=len(texts), desc=f"{label} run {run + 1}/{repeat}", unit="text", leave=False) as bar:
                started = time.perf_counter()
                for start in range(0, len(texts), batch):
                    chunk = texts[start:start + batch]
                    response = session.post(
                        f"{url}/v1/models/{model}:predict", timeout=60, headers=auth,
                        json={"instances": [{"id": str(start + i), "text": t} for i, t in enumerate(chunk)]})
                    response.raise_for_status()
                    if len(response.json()["predictions"]) != len(chunk):
                        raise RuntimeError("the service answered a different number of predictions")
                    bar.update(len(chunk))
                rates.append(len(texts) / (time.perf_counter() - started))
    return max(rates)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--limit", type=int, default=0, help="use only the first N texts")
    args = parser.parse_args(argv)

    texts = [row.text for name in CORPUS_FILES for row in load_corpus(name)]
    if args.limit:
        texts = texts[:args.limit]
    nltk = nltk_reference()
    warm = Vader()
    for text in texts:
        warm.polarity_scores(text)
    triage = TriageModel.load()

    results: dict[str, float] = {}
    results["nltk in-process"] = in_process("nltk", lambda: nltk.polarity_scores, texts, args.repeat)
    results["fast vader in-process (fresh)"] = in_process(
        "fast (fresh)", lambda: Vader().polarity_scores, texts, args.repeat)
    results["fast vader in-process (warm memo)"] = in_process(
        "fast (warm)", lambda: warm.polarity_scores, texts, args.repeat)
    results["triage in-process"] = in_process("triage", lambda: triage.predict_one, texts, 1)
    with running_service(workers=1) as url:
        over_http("http warm-up", url, "vader", texts[:2000], args.batch, 1)
        results[f"vader HTTP batch {args.batch}, 1 worker"] = over_http(
            "vader http", url, "vader", texts, args.batch, args.repeat)
        results[f"triage HTTP batch {args.batch}, 1 worker"] = over_http(
            "triage http", url, "triage", texts, args.batch, 1)

    complaints = complaint_like_texts()
    v2 = TriageModelV2.load()
    v2.predict(complaints[:CHUNK])  # load fastText and pymorphy3, as a serving worker has
    like: dict[str, float] = {}
    like["nltk in-process"] = in_process("nltk (complaints)", lambda: nltk.polarity_scores, complaints, args.repeat)
    like["triage 2.0 in-process, batches of 500"] = in_batches(
        "triage 2.0", lambda: v2.predict, complaints, args.repeat)
    like["triage 1.0 in-process"] = in_process("triage 1.0", lambda: triage.predict_one, complaints, 1)

    baseline = results["nltk in-process"]
    print(f"\n{len(texts)} texts (both VADER-paper corpora), best of {args.repeat} runs; "
          f"Python {sys.version.split()[0]}; scoring modules: {native.state()} (scoring_service/native.py)\n")
    print("| path | texts/s | x NLTK in-process |")
    print("|---|---|---|")
    for label, rate in results.items():
        print(f"| {label} | {rate:,.0f} | {rate / baseline:.2f} |")
    fresh = results["fast vader in-process (fresh)"]
    print(f"\nfast/NLTK in-process: {fresh / baseline:.2f}x (fresh instance), "
          f"{results['fast vader in-process (warm memo)'] / baseline:.2f}x (warm); "
          f"HTTP/NLTK: {results[f'vader HTTP batch {args.batch}, 1 worker'] / baseline:.2f}x")

    print(f"\n{len(complaints)} complaint-like texts (load generator + both development sets), one thread\n")
    print("| path | texts/s | x NLTK in-process |")
    print("|---|---|---|")
    for label, rate in like.items():
        print(f"| {label} | {rate:,.0f} | {rate / like['nltk in-process']:.2f} |")


if __name__ == "__main__":
    main()
