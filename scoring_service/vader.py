"""VADER sentiment (Hutto & Gilbert, ICWSM-14), re-implemented for speed.

Scores are the ones NLTK's `nltk.sentiment.vader.SentimentIntensityAnalyzer` gives,
quirks included, because the classic demo's contract is "answer exactly what NLTK
answers". The quirks reproduced on purpose:

- A word that occurs more than once is scored in the context of its *first*
  occurrence (NLTK looks its position up with `list.index`).
- "but" halves everything before its first occurrence and boosts what follows by 1.5.
- The "so/this" emphasis at distance three applies whenever the word just before is
  "so" or "this" (an operator-precedence slip in NLTK), and "never" is case-sensitive.
- A token keeps its punctuation unless exactly one of NLTK's PUNC_LIST strings is
  stuck to one side of an otherwise punctuation-free word ("cat," -> "cat",
  "cat..." stays "cat...").

Where NLTK spends its time, and what this module does instead:

- NLTK builds, for every call, a dictionary of 34 punctuated variants of every word
  to undo "word," -> "word". Here a token is normalised by looking at its own edges,
  and the result is memoised per token.
- NLTK lower-cases and looks words up in the lexicon again and again while walking the
  three preceding words. Here each distinct token is resolved once into a small record
  (lower case, ALL CAPS, lexicon valence, booster weight, negation), also memoised.
- Floating-point operations are done in NLTK's order, so results are bit-identical,
  not merely close.
"""
from __future__ import annotations

import math
import string
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import vaderSentiment

LEXICON_PATH = Path(vaderSentiment.__file__).resolve().parent / "vader_lexicon.txt"

B_INCR = 0.293
B_DECR = -0.293
C_INCR = 0.733
N_SCALAR = -0.74
NORMALIZE_ALPHA = 15

NEGATIONS = frozenset("""
aint arent cannot cant couldnt darent didnt doesnt ain't aren't can't couldn't daren't
didn't doesn't dont hadnt hasnt havent isnt mightnt mustnt neither don't hadn't hasn't
haven't isn't mightn't mustn't neednt needn't never none nope nor not nothing nowhere
oughtnt shant shouldnt uhuh wasnt werent oughtn't shan't shouldn't uh-uh wasn't weren't
without wont wouldnt won't wouldn't rarely seldom despite
""".split())

_BOOSTING = """absolutely amazingly awfully completely considerably decidedly deeply effing
enormously entirely especially exceptionally extremely fabulously flipping flippin fricking
frickin frigging friggin fully fucking greatly hella highly hugely incredibly intensely majorly
more most particularly purely quite really remarkably so substantially thoroughly totally
tremendously uber unbelievably unusually utterly very""".split()
_DAMPENING = """almost barely hardly kinda kindof kind-of less little marginally occasionally
partly scarcely slightly somewhat sorta sortof sort-of""".split() + ["just enough", "kind of", "sort of"]
BOOSTERS: Mapping[str, float] = {**{w: B_INCR for w in _BOOSTING}, **{w: B_DECR for w in _DAMPENING}}

IDIOMS: Mapping[str, float] = {
    "the shit": 3, "the bomb": 3, "bad ass": 1.5, "yeah right": -2,
    "cut the mustard": 2, "kiss of death": -1.5, "hand to mouth": -2,
}
# Idioms and two-word boosters keyed by word tuples: the words of a text never contain
# whitespace, so a tuple lookup is the same test as NLTK's " ".join(...) in dict.
_IDIOMS_BY_WORDS = {tuple(k.split(" ")): v for k, v in IDIOMS.items()}
_PAIR_BOOSTERS = frozenset(tuple(k.split(" ")) for k in BOOSTERS if " " in k)

PUNCTUATION = frozenset(string.punctuation)
PUNC_AFFIXES = frozenset([".", "!", "?", ",", ";", ":", "-", "'", '"', "!!", "!!!", "??", "???",
                          "?!?", "!?!", "?!?!", "!?!?"])
_SO_THIS = ("so", "this")

# Memo tables grow with the vocabulary seen; a service that meets endless novel tokens
# (random ids, URLs) would grow them forever, so they are emptied past this size.
MEMO_LIMIT = 200_000


def load_lexicon(path: Path = LEXICON_PATH) -> dict[str, float]:
    """word -> mean valence, parsed as NLTK parses it (first two tab-separated fields)."""
    lexicon: dict[str, float] = {}
    for line in path.read_text(encoding="utf-8").split("\n"):
        word, measure = line.strip().split("\t")[0:2]
        lexicon[word] = float(measure)
    return lexicon


def strip_punctuation_affix(token: str) -> str:
    """`token` without the one PUNC_LIST string glued to the start or end of a clean word.

    NLTK maps `p + w` and `w + p` back to `w` when `p` is in PUNC_LIST and `w` is a
    word (over one character) that has no ASCII punctuation left in it.
    """
    n = len(token)
    lead = 0
    while lead < n and token[lead] in PUNCTUATION:
        lead += 1
    if lead:
        word = token[lead:]
        if len(word) > 1 and token[:lead] in PUNC_AFFIXES and not PUNCTUATION.intersection(word):
            return word
        return token
    end = n
    while end and token[end - 1] in PUNCTUATION:
        end -= 1
    if end == n:
        return token
    word = token[:end]
    if len(word) > 1 and token[end:] in PUNC_AFFIXES and not PUNCTUATION.intersection(word):
        return word
    return token


class Word(NamedTuple):
    """What VADER needs to know about one token, resolved once."""
    text: str
    lower: str
    upper: bool           # str.isupper(): ALL CAPS
    valence: float | None  # lexicon valence of the lower-cased word, None when absent
    booster: float        # booster/dampener weight, 0.0 when it is not one
    is_booster: bool
    negation: bool        # a negation word, or contains "n't"


class Vader:
    """`polarity_scores(text)` -> {"neg", "neu", "pos", "compound"}, as NLTK computes it."""

    def __init__(self, lexicon: Mapping[str, float] | None = None):
        self.lexicon = dict(load_lexicon() if lexicon is None else lexicon)
        self._tokens: dict[str, Word] = {}

    def _word(self, token: str) -> Word:
        word = strip_punctuation_affix(token)
        lower = word.lower()
        is_booster = lower in BOOSTERS
        return Word(word, lower, word.isupper(), self.lexicon.get(lower),
                    BOOSTERS.get(lower, 0.0), is_booster,
                    lower in NEGATIONS or "n't" in lower)

    def words(self, text: str) -> list[Word]:
        """The tokens VADER scores: whitespace-split, single characters dropped."""
        memo = self._tokens
        if len(memo) > MEMO_LIMIT:
            memo.clear()
        out = []
        for token in text.split():
            if len(token) > 1:
                word = memo.get(token)
                if word is None:
                    word = memo[token] = self._word(token)
                out.append(word)
        return out

    def polarity_scores(self, text: str) -> dict[str, float]:
        words = self.words(text)
        n = len(words)
        if not n:
            return {"neg": 0.0, "neu": 0.0, "pos": 0.0, "compound": 0.0}
        sentiments: list[float] = [0.0] * n
        scored = [idx for idx, w in enumerate(words) if w.valence is not None and not w.is_booster]
        if scored:
            uppers = sum(1 for w in words if w.upper)
            cap_diff = 0 < uppers < n
            # NLTK scores a repeated word at its first position (list.index).
            texts = [w.text for w in words]
            by_position: dict[int, float] = {}
            for idx in scored:
                w = words[idx]
                i = texts.index(w.text)
                if w.lower == "kind" and i < n - 1 and words[i + 1].lower == "of":
                    continue
                valence = by_position.get(i)
                if valence is None:
                    valence = by_position[i] = self._valence(words, i, cap_diff)
                sentiments[idx] = valence
            # "but" (any case, as a whole token) halves what precedes it and raises what
            # follows; the substring test spares the token scan for most texts.
            if "but" in text.lower():
                lowers = [w.lower for w in words]
                if "but" in lowers:
                    bi = lowers.index("but")
                    for idx in range(n):
                        if idx < bi:
                            sentiments[idx] = sentiments[idx] * 0.5
                        elif idx > bi:
                            sentiments[idx] = sentiments[idx] * 1.5
        return _aggregate(sentiments, text)

    def _valence(self, words: list[Word], i: int, cap_diff: bool) -> float:
        """Valence of the lexicon word at position i, adjusted by up to 3 preceding words."""
        w = words[i]
        valence = w.valence
        assert valence is not None  # only lexicon words are scored (polarity_scores)
        if w.upper and cap_diff:
            if valence > 0:
                valence += C_INCR
            else:
                valence -= C_INCR
        for back in (1, 2, 3):
            if i < back:
                break
            prev = words[i - back]
            if prev.valence is not None:
                continue
            s = 0.0
            if prev.is_booster:
                s = prev.booster
                if valence < 0:
                    s *= -1
                if prev.upper and cap_diff:
                    if valence > 0:
                        s += C_INCR
                    else:
                        s -= C_INCR
            if back == 2 and s != 0:
                s = s * 0.95
            elif back == 3 and s != 0:
                s = s * 0.9
            valence = valence + s
            valence = _negation_adjusted(valence, words, i, back)
            if back == 3:
                valence = _idiom_adjusted(valence, words, i)
        if i > 0 and words[i - 1].lower == "least" and words[i - 1].valence is None:
            if i > 1:
                if words[i - 2].lower not in ("at", "very"):
                    valence = valence * N_SCALAR
            else:
                valence = valence * N_SCALAR
        return valence


def _negation_adjusted(valence: float, words: list[Word], i: int, back: int) -> float:
    if back == 1:
        if words[i - 1].negation:
            valence = valence * N_SCALAR
    elif back == 2:
        if words[i - 2].text == "never" and words[i - 1].text in _SO_THIS:
            valence = valence * 1.5
        elif words[i - 2].negation:
            valence = valence * N_SCALAR
    else:
        if (words[i - 3].text == "never" and words[i - 2].text in _SO_THIS) or words[i - 1].text in _SO_THIS:
            valence = valence * 1.25
        elif words[i - 3].negation:
            valence = valence * N_SCALAR
    return valence


def _idiom_adjusted(valence: float, words: list[Word], i: int) -> float:
    w3, w2, w1, w0 = words[i - 3].text, words[i - 2].text, words[i - 1].text, words[i].text
    for seq in ((w1, w0), (w2, w1, w0), (w2, w1), (w3, w2, w1), (w3, w2)):
        hit = _IDIOMS_BY_WORDS.get(seq)
        if hit is not None:
            valence = hit
            break
    n = len(words)
    if n - 1 > i:
        hit = _IDIOMS_BY_WORDS.get((w0, words[i + 1].text))
        if hit is not None:
            valence = hit
    if n - 1 > i + 1:
        hit = _IDIOMS_BY_WORDS.get((w0, words[i + 1].text, words[i + 2].text))
        if hit is not None:
            valence = hit
    if (w3, w2) in _PAIR_BOOSTERS or (w2, w1) in _PAIR_BOOSTERS:
        valence = valence + B_DECR
    return valence


def _aggregate(sentiments: list[float], text: str) -> dict[str, float]:
    # Most tokens score 0: the sums below run over the others, in the same order as
    # NLTK's loop, so every float comes out the same.
    scored = [s for s in sentiments if s]
    sum_s = float(sum(scored))
    ep_count = min(text.count("!"), 4)
    qm_count = text.count("?")
    qm = 0.0
    if qm_count > 1:
        qm = qm_count * 0.18 if qm_count <= 3 else 0.96
    amplifier = ep_count * 0.292 + qm
    if sum_s > 0:
        sum_s += amplifier
    elif sum_s < 0:
        sum_s -= amplifier
    compound = sum_s / math.sqrt((sum_s * sum_s) + NORMALIZE_ALPHA)

    pos_sum = 0.0
    neg_sum = 0.0
    for s in scored:
        if s > 0:
            pos_sum += float(s) + 1
        else:
            neg_sum += float(s) - 1
    neu_count = len(sentiments) - len(scored)
    if pos_sum > math.fabs(neg_sum):
        pos_sum += amplifier
    elif pos_sum < math.fabs(neg_sum):
        neg_sum -= amplifier
    total = pos_sum + math.fabs(neg_sum) + neu_count
    return {
        "neg": round(math.fabs(neg_sum / total), 3),
        "neu": round(math.fabs(neu_count / total), 3),
        "pos": round(math.fabs(pos_sum / total), 3),
        "compound": round(compound, 4),
    }


@lru_cache(maxsize=1)
def nltk_reference():
    """NLTK's own analyser on the same lexicon file: the baseline for tests and bench.

    The lexicon comes from the vaderSentiment package because NLTK cannot download its
    data here; `nltk.download` is never called.
    """
    from nltk.sentiment.vader import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer(lexicon_file="file:" + str(LEXICON_PATH))
