"""The words a rule's every match must contain, read from the rule itself, so that a
rule runs only on texts that contain one of them.

The severity rules are alternations of phrases ("lawyers?|legal action|someone (\\w+ )
{0,2}(logged|used)..."). Python's regular expressions try every phrase at every word of
every text, which cost a fifth of the model's time, while most texts contain none of
their words. `anchors(pattern)` parses the pattern (Python's own parser) and returns, per
phrase, one word the phrase cannot match without (the rarest-looking of its words that
start at a word boundary), as:

- `Anchor("action", exact=True)`: a whole word ("legal action": non-word characters or the
  rule's boundaries on both sides);
- `Anchor("lawyer", exact=False)`: a word starting with it ("lawyers?");
- `Anchor("", exact=False)` with `digit=True`: a word starting with a digit ("\\d+(st|nd)").

`None` means some phrase has no such word (it may be any word at all): then the rule
always runs. The result over-approximates by construction: a text with no word that
matches an anchor cannot match the rule, so skipping the rule changes nothing.
"""
from __future__ import annotations

import re
import re._parser as sre_parse  # Python's own pattern parser; re._constants names its opcodes
from collections.abc import Callable
from dataclasses import dataclass
from re._constants import BRANCH, CATEGORY, CATEGORY_DIGIT, IN, LITERAL, MAX_REPEAT, MIN_REPEAT, SUBPATTERN


@dataclass(frozen=True)
class Anchor:
    text: str
    exact: bool
    digit: bool = False


def _is_word_char(code: int) -> bool:
    ch = chr(code)
    return ch.isalnum() or ch == "_"


def _score(found: set[Anchor]) -> int:
    """How rarely the weakest anchor of a set fires: longer words fire on fewer texts,
    an exact word on fewer than a prefix of the same length."""
    return min(3 if a.digit else len(a.text) + (2 if a.exact else 0) for a in found)


def _required(items: list, word_ends: Callable[[str], bool], starts_word: bool, ends_word: bool) -> set[Anchor] | None:
    """Anchors of which every match of the sequence `items` contains one; `starts_word`,
    `ends_word`: whether a word boundary surely lies before and after the sequence."""
    def separator(i: int) -> bool:
        return 0 <= i < len(items) and items[i][0] == LITERAL and word_ends(chr(items[i][1]))

    def boundary_before(i: int) -> bool:
        return (i == 0 and starts_word) or separator(i - 1)

    def boundary_after(i: int) -> bool:
        return (i == len(items) - 1 and ends_word) or separator(i + 1)

    candidates: list[set[Anchor]] = []
    i = 0
    while i < len(items):
        op, av = items[i]
        if op == LITERAL and _is_word_char(av):
            j = i
            while j < len(items) and items[j][0] == LITERAL and _is_word_char(items[j][1]):
                j += 1
            if boundary_before(i):
                candidates.append({Anchor("".join(chr(c) for _, c in items[i:j]), boundary_after(j - 1))})
            i = j
            continue
        found: set[Anchor] | None = None
        if op == SUBPATTERN:
            found = _required(list(av[-1]), word_ends, boundary_before(i), boundary_after(i))
        elif op == BRANCH:
            found = set()
            for branch in av[1]:
                part = _required(list(branch), word_ends, boundary_before(i), boundary_after(i))
                if part is None:
                    found = None
                    break
                found |= part
        elif op in (MAX_REPEAT, MIN_REPEAT) and av[0] >= 1:
            # A repeated part may run on into more of the same word: no exact end.
            found = _required(list(av[2]), word_ends, boundary_before(i), False)
        elif op == IN and av == [(CATEGORY, CATEGORY_DIGIT)] and boundary_before(i):
            found = {Anchor("", False, digit=True)}
        if found:
            candidates.append(found)
        i += 1
    return max(candidates, key=_score) if candidates else None


def anchors(pattern: str, word_ends: Callable[[str], bool]) -> frozenset[Anchor] | None:
    """The anchors of `pattern`'s matches; `word_ends(ch)`: whether the character ends a
    word as the texts are split (an exact anchor needs one on both sides). The rule
    around the pattern starts and ends its matches at word boundaries."""
    found = _required(list(sre_parse.parse(pattern)), word_ends, True, True)
    return None if found is None else frozenset(found)


class AnchorTest:
    """Whether a word matches any of the given anchors (so a rule with them may fire)."""

    def __init__(self, found: frozenset[Anchor] | None):
        self.always = found is None
        found = found or frozenset()
        self.exact = frozenset(a.text for a in found if a.exact)
        self.prefixes = tuple(a.text for a in found if not a.exact and not a.digit)
        self.digit = any(a.digit for a in found)

    def __call__(self, word: str) -> bool:
        if self.always or word in self.exact:
            return True
        if self.prefixes and word.startswith(self.prefixes):
            return True
        return self.digit and word[:1].isdigit()


_INNER = re.compile(r"['’\-]")


def word_parts(token: str) -> list[str]:
    """A token and, if it has inner apostrophes or hyphens, its parts ("i'm" -> "i'm",
    "i", "m"): a word boundary, where an English rule may start, falls there too."""
    parts = _INNER.split(token)
    return [token, *parts] if len(parts) > 1 else [token]
