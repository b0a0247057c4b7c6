"""Load generator: produces realistic complaints straight to the `complaints` topic.

    python -m ingest.loadgen --count 1000 --rate 100        # 100 complaints/s for 10 s
    python -m ingest.loadgen --count 100000 --rate 0        # as fast as Kafka takes them
    python -m ingest.loadgen --count 20 --classic           # the demo's {"data": text}

Bounded by --count (and --max-seconds): it always stops by itself. Texts are composed
from a seeded grammar of customer complaints (category, tone, severity signals), so a
run with the same --seed produces the same texts in the same order.
"""
from __future__ import annotations

import argparse
import itertools
import json
import random
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from ingest.batch_send import send_all
from ingest.producer import complaint_message

SUBJECTS = {
    "billing": ["I was charged twice for my subscription", "my invoice shows a fee I never agreed to",
                "the refund you promised three weeks ago has not arrived",
                "you billed my card after I cancelled", "the price on my bill is double the advertised price"],
    "delivery": ["my parcel is two weeks late", "the courier left my package in the rain",
                 "the order arrived with half the items missing", "tracking says delivered but nothing came",
                 "the delivery slot was missed for the third time"],
    "product_quality": ["the blender stopped working after two days", "the jacket fell apart after one wash",
                        "the screen of my new laptop is cracked", "the coffee machine leaks all over the counter",
                        "the headphones only play on one side"],
    "staff_service": ["the agent on the phone was rude to me", "nobody answers the support line",
                      "your staff hung up on me", "the store manager refused to help",
                      "I was kept on hold for an hour"],
    "account_security": ["someone logged into my account from another country",
                         "my password was changed without my permission", "I cannot access my account anymore",
                         "there are orders on my account that I did not place",
                         "I received a login code I never requested"],
}
OPENERS = ["Hello,", "Hi team,", "To whom it may concern:", "", "Dear support,", "Seriously?", "Good morning,"]
TONES = {
    "mild": ["It is a bit disappointing.", "Could you please look into it?", "Not a big deal, but please fix it.",
             "I would appreciate a quick answer.", "Thanks in advance for your help."],
    "negative": ["This is really frustrating.", "I am very unhappy with this.", "This is unacceptable.",
                 "Your service has been terrible lately.", "I am disappointed and annoyed."],
    "furious": ["This is absolutely outrageous!!!", "I am FURIOUS and sick of your excuses.",
                "Worst company I have ever dealt with. Disgusting.", "I am beyond angry, this is a disgrace!",
                "Horrible, horrible service. I hate this."],
}
SIGNALS = {
    "legal_threat": ["I will contact my lawyer.", "I am taking legal action if this is not fixed.",
                     "See you in small claims court."],
    "safety_risk": ["The charger started smoking and nearly caused a fire.", "My child got hurt because of it.",
                    "It gave me an electric shock."],
    "fraud": ["This looks like fraud.", "Someone stole money from my card through your site.",
              "These are unauthorized charges."],
    "cancel_intent": ["I am cancelling my subscription.", "I will close my account and switch to a competitor.",
                      "I want to cancel everything."],
    "repeated_contact": ["This is the fourth time I am writing to you.", "I have called five times already.",
                         "I already reported this last week and nobody replied."],
}


@dataclass(frozen=True)
class GeneratedComplaint:
    id: str
    text: str
    category: str
    tone: str
    signals: tuple[str, ...]


def sentence(clause: str) -> str:
    return clause[:1].upper() + clause[1:] + "."


def complaint_texts(seed: int = 42) -> Iterator[GeneratedComplaint]:
    """An endless, reproducible stream of varied complaints."""
    rng = random.Random(seed)
    categories = list(SUBJECTS)
    while True:
        category = rng.choice(categories)
        tone = rng.choices(list(TONES), weights=[5, 4, 2])[0]
        signals = tuple(rng.sample(list(SIGNALS), k=rng.choices([0, 1, 2], weights=[6, 3, 1])[0]))
        parts = [rng.choice(OPENERS), sentence(rng.choice(SUBJECTS[category])), rng.choice(TONES[tone])]
        parts += [rng.choice(SIGNALS[s]) for s in signals]
        if rng.random() < 0.3:
            parts.append(f"Order number {rng.randint(100000, 999999)}.")
        text = " ".join(p for p in parts if p)
        yield GeneratedComplaint(id=str(uuid.UUID(int=rng.getrandbits(128), version=4)), text=text,
                                 category=category, tone=tone, signals=signals)


def message_for(item: GeneratedComplaint, *, classic: bool) -> tuple[bytes | None, bytes]:
    if classic:
        return None, json.dumps({"data": item.text}).encode("utf-8")
    value = complaint_message(complaint_id=item.id, text=item.text, source="loadgen",
                              submitted_at=datetime.now(UTC))
    return item.id.encode("utf-8"), value.encode("utf-8")


def fresh_seed() -> int:
    """A seed of its own for a run: the ids come from the seed too, so two runs with one
    seed send the same complaint ids, and the stream keeps only the first of each."""
    return random.SystemRandom().randrange(2**32)


def produce(*, count: int, rate: float, seed: int | None = None, classic: bool = False, topic: str | None = None,
            bootstrap: str | None = None, max_seconds: float = 3600.0, progress: bool = True) -> list[str]:
    """Produce `count` complaints at `rate` per second (0 = as fast as possible); `seed`
    repeats an earlier run's texts and ids (default: a fresh seed).

    Returns the ids produced (new-format messages; classic ones get their id in the stream).
    """
    items = list(itertools.islice(complaint_texts(fresh_seed() if seed is None else seed), count))
    sent = send_all((message_for(item, classic=classic) for item in items), total=count, rate=rate, topic=topic,
                    bootstrap=bootstrap, client_id="triage-loadgen", max_seconds=max_seconds, progress=progress)
    return [item.id for item in items[:sent]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, required=True, help="how many complaints to produce")
    parser.add_argument("--rate", type=float, default=100.0, help="complaints per second; 0 = as fast as possible")
    parser.add_argument("--seed", type=int, default=None,
                        help="repeat a run's texts and ids (default: a fresh seed, printed)")
    parser.add_argument("--classic", action="store_true", help='produce the demo message {"data": text}, no key')
    parser.add_argument("--topic", default=None)
    parser.add_argument("--max-seconds", type=float, default=3600.0, help="stop after this long in any case")
    args = parser.parse_args(argv)
    if args.count < 0 or args.rate < 0:
        parser.error("--count and --rate must be >= 0")
    seed = fresh_seed() if args.seed is None else args.seed
    print(f"load-generator seed {seed} (--seed {seed} repeats this run)")
    started = time.monotonic()
    ids = produce(count=args.count, rate=args.rate, seed=seed, classic=args.classic, topic=args.topic,
                  max_seconds=args.max_seconds)
    elapsed = time.monotonic() - started
    print(f"produced {len(ids)} complaints in {elapsed:.1f}s ({len(ids) / max(elapsed, 1e-9):.0f}/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
