"""The serving featuriser: a batch of texts -> the model's design matrix, with numpy.

It computes exactly what `design_matrix([featurize(text).values ...])` computes (the
same terms, weights, VADER and signal columns, and the same order of entries in each
row, on which the evidence's tie-breaks depend; tests compare the two on every
development text and on corpus samples), about three times faster. Training keeps the
readable per-text path (scoring_service.triage_v2.features); this one serves.

How: every token string gets an integer id once (a bounded memo, like the lemma
memos), with what the terms need to know of it precomputed: its kind (word, scope end,
! or ?), whether it is a negation, its stem and lemma (as ids), its category cue, and
which severity rules it is an anchor of (scoring_service.triage_v2.anchors). A term is then
a 64-bit code (kind, ids) instead of a string; negation scope, word pairs, repeats
within a text and the 1/sqrt(terms) weight are array operations over the whole batch,
and the vocabulary lookup is one binary search over the codes of the trained terms.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from scoring_service.triage_v2.features import SIGNAL_COLUMNS, VADER_COLUMNS
from scoring_service.triage_v2.signals import ALL_RULES, SIGNALS, severity_signals, signal_rule_mask
from scoring_service.triage_v2.text import (
    CATEGORY_CUES,
    CUE_OF,
    NEGATION_SCOPE,
    SCOPE_ENDS,
    base_forms,
    has_long_run,
    is_negation,
    tokens,
)
from scoring_service.vader import Vader

# Term codes: a tag in the high bits, ids below. Word ids stay under 2**22 (the memo
# is reset long before), so a pair of them fits in 44 bits.
_ID_BITS = 22
_PAYLOAD = 44
W, W_NEG, B, B_NEG, CUE, MARK, PAIR = range(1, 8)
_ROW_BITS = 10
CHUNK = 1 << _ROW_BITS  # rows per matrix pass: a row index fits beside the code
_CATEGORY_INDEX = {cat: i for i, cat in enumerate(CATEGORY_CUES)}
_LANGS = ("en", "ru")
WORD, SCOPE_END, EXCLAIM = 0, 1, 2
MEMO_WORDS = 200_000


@dataclass(frozen=True)
class RowFeatures:
    lang: str
    vader: Mapping[str, float] | None        # VADER's scores (English), else None
    signals: dict[str, list[str]]            # signal -> evidence


NO_LEXICON = (0.0, 0.0, 0.0, 1.0)  # VADER's columns of a Russian row, which no lexicon reads


def _code(tag: int, payload: int) -> int:
    return (tag << _PAYLOAD) | payload


class _Column:
    """An int64 array, one value per word id; grown with the word table (`reserve`)."""

    def __init__(self, size: int):
        self.values = np.zeros(size, dtype=np.int64)

    def reserve(self, size: int) -> None:
        if size > len(self.values):
            grown = np.zeros(max(2 * len(self.values), size), dtype=np.int64)
            grown[:len(self.values)] = self.values
            self.values = grown

    def set(self, i: int, value: int) -> None:
        self.values[i] = value


class BatchFeaturizer:
    def __init__(self, vocabulary: Sequence[str]):
        self.index = {term: i for i, term in enumerate(vocabulary)}
        self.ids: dict[str, int] = {}      # token or vocabulary word -> id
        self.base_ids: dict[str, int] = {}  # stem or lemma -> id
        codes, cols = [], []
        for col, term in enumerate(vocabulary):
            code = self._vocabulary_code(term)
            if code is not None:
                codes.append(code)
                cols.append(col)
        order = np.argsort(codes)
        self.vocab_codes = np.asarray(codes, dtype=np.int64)[order]
        self.vocab_cols = np.asarray(cols, dtype=np.int64)[order]
        self.dense_vader = [self.index.get(c, -1) for c in VADER_COLUMNS]
        self.dense_signal = {name: self.index.get(c, -1) for name, c in zip(SIGNALS, SIGNAL_COLUMNS)}
        self.vocabulary_ids = (dict(self.ids), dict(self.base_ids))
        self._reset()

    # ------------------------------------------------------------------ word table

    def _word_id(self, word: str) -> int:
        found = self.ids.get(word)
        if found is None:
            found = self.ids[word] = len(self.ids) + 1
        return found

    def _base_id(self, root: str) -> int:
        found = self.base_ids.get(root)
        if found is None:
            found = self.base_ids[root] = len(self.base_ids) + 1
        return found

    def _vocabulary_code(self, term: str) -> int | None:
        kind, _, rest = term.partition(":")
        if term in ("!", "?"):
            return _code(MARK, 0 if term == "!" else 1)
        if kind == "w":
            negated = rest.startswith("NEG_")
            return _code(W_NEG if negated else W, self._word_id(rest.removeprefix("NEG_")))
        if kind == "b":
            negated = rest.startswith("NEG_")
            return _code(B_NEG if negated else B, self._base_id(rest.removeprefix("NEG_")))
        if kind == "cue":
            return _code(CUE, _CATEGORY_INDEX[rest])
        if kind == "p":
            first, second = rest.split(" ")
            return _code(PAIR, (self._word_id(first) << _ID_BITS) | self._word_id(second))
        return None  # a dense column (VADER, signals): filled from its own values

    def _reset(self) -> None:
        """Back to the vocabulary's words, with no token seen: the memo's bound."""
        self.ids, self.base_ids = dict(self.vocabulary_ids[0]), dict(self.vocabulary_ids[1])
        self.seen: dict[str, int] = {}
        size = len(self.ids) + 1024
        self.kind, self.negation, self.mark = _Column(size), _Column(size), _Column(size)
        self.base = {lang: _Column(size) for lang in _LANGS}   # base id, or 0 when the base is the word
        self.cue = {lang: _Column(size) for lang in _LANGS}    # category index + 1, or 0
        self.rules = {lang: _Column(size) for lang in _LANGS}  # bit mask of the SIGNALS whose anchor it is
        self.columns = [self.kind, self.negation, self.mark, *self.base.values(), *self.cue.values(),
                        *self.rules.values()]

    def _admit(self, word: str) -> int:
        i = self.seen[word] = self._word_id(word)
        if i >= len(self.kind.values):
            for column in self.columns:
                column.reserve(i + 1)
        first = word[0]
        if first == "!" or first == "?":
            self.kind.set(i, EXCLAIM)
            self.mark.set(i, _code(MARK, 0 if first == "!" else 1))
            return i
        if word in SCOPE_ENDS:
            self.kind.set(i, SCOPE_END)
            return i
        self.kind.set(i, WORD)
        self.negation.set(i, is_negation(word))
        for lang in _LANGS:
            (root,) = base_forms([word], lang)
            self.base[lang].set(i, 0 if root == word else self._base_id(root))
            cue = CUE_OF.get(root)
            self.cue[lang].set(i, 0 if cue is None else _CATEGORY_INDEX[cue] + 1)
            self.rules[lang].set(i, signal_rule_mask(word, root, lang))
        return i

    # ------------------------------------------------------------------ a batch

    def token_ids(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, list[bool]]:
        """(token ids of all texts in order, tokens per text, whether each text has a
        run longer than a token, which the tokenizer cut)."""
        if len(self.seen) >= MEMO_WORDS:  # between batches only: a batch's ids stay valid
            self._reset()
        seen, admit = self.seen.get, self._admit
        flat: list[int] = []
        lengths, long_runs = [], []
        for text in texts:
            words = tokens(text)
            flat.extend([seen(w) or admit(w) for w in words])
            lengths.append(len(words))
            long_runs.append(has_long_run(text))
        return np.asarray(flat, dtype=np.int64), np.asarray(lengths, dtype=np.int64), long_runs

    def rule_masks(self, tid: np.ndarray, lengths: np.ndarray, english: np.ndarray,
                   long_runs: Sequence[bool]) -> list[int]:
        """Per text, the bit mask of the severity rules whose anchors it contains (as
        signals.rule_mask: English text with a run the tokenizer cut gets every rule)."""
        masks = np.zeros(len(lengths), dtype=np.int64)
        if len(tid):
            row = np.repeat(np.arange(len(lengths)), lengths)
            per_token = np.where(english[row], self.rules["en"].values[tid], self.rules["ru"].values[tid])
            starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
            nonempty = lengths > 0
            masks[nonempty] = np.bitwise_or.reduceat(per_token, starts[nonempty])
        masks[english & np.asarray(long_runs, dtype=bool)] = ALL_RULES
        return masks.tolist()

    def text_terms(self, tid: np.ndarray, lengths: np.ndarray, english: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(row, column, value) of every known text term, rows in order and each row's
        terms in the order `terms` finds them; at most CHUNK rows."""
        n, total = len(lengths), len(tid)
        if total == 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, np.zeros(0)
        idx = np.arange(total)
        row = np.repeat(np.arange(n), lengths)
        kind = self.kind.values[tid]
        is_word = kind == WORD
        is_negation = is_word & (self.negation.values[tid] != 0)
        # Negation scope: a word is in scope when a negation came earlier in its row,
        # with no scope end, ! or ? since, and at most NEGATION_SCOPE words after it.
        starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))[lengths > 0]
        reset = np.full(total, -1)
        reset[starts] = starts - 1
        reset[~is_word] = idx[~is_word]
        last_reset = np.maximum.accumulate(reset)
        last_negation = np.maximum.accumulate(np.where(is_negation, idx, -1))
        words_so_far = np.cumsum(is_word)
        in_scope = (is_word & ~is_negation & (last_negation > last_reset)
                    & (words_so_far - words_so_far[np.maximum(last_negation, 0)] <= NEGATION_SCOPE))
        en_token = english[row]
        base = np.where(en_token, self.base["en"].values[tid], self.base["ru"].values[tid])
        cue = np.where(en_token, self.cue["en"].values[tid], self.cue["ru"].values[tid])
        # Per token, in the order `terms` adds them: word (or ! / ?), base form, cue, pair.
        candidates = np.full((total, 4), -1, dtype=np.int64)
        candidates[:, 0] = np.where(is_word, (np.where(in_scope, W_NEG, W) << _PAYLOAD) | tid,
                                    np.where(kind == EXCLAIM, self.mark.values[tid], -1))
        has_base = is_word & ~is_negation & (base > 0)
        candidates[:, 1] = np.where(has_base, (np.where(in_scope, B_NEG, B) << _PAYLOAD) | base, -1)
        candidates[:, 2] = np.where(is_word & (cue > 0), (CUE << _PAYLOAD) | (cue - 1), -1)
        paired = np.zeros(total, dtype=bool)
        paired[1:] = is_word[1:] & is_word[:-1] & (row[1:] == row[:-1])
        previous = np.concatenate(([0], tid[:-1]))
        candidates[:, 3] = np.where(paired, (PAIR << _PAYLOAD) | (previous << _ID_BITS) | tid, -1)
        codes = candidates.ravel()
        code_row = np.repeat(row, 4)
        valid = codes >= 0
        keys = (codes[valid] << _ROW_BITS) | code_row[valid]
        # Repeats dropped in first-seen order (rows in order, each row's terms as found):
        # pandas hashes, where numpy would sort twice.
        unique = pd.unique(keys)
        rows = unique & (CHUNK - 1)
        count = np.bincount(rows, minlength=n)
        weight = np.where(count > 0, 1.0 / np.sqrt(np.maximum(count, 1)), 0.0)
        codes = unique >> _ROW_BITS
        at = np.minimum(np.searchsorted(self.vocab_codes, codes), len(self.vocab_codes) - 1)
        known = self.vocab_codes[at] == codes
        return rows[known], self.vocab_cols[at[known]], weight[rows[known]]

    def design_matrix(self, tid: np.ndarray, lengths: np.ndarray, english: np.ndarray, vader: np.ndarray,
                      signals: Sequence[Mapping[str, object]]) -> sparse.csr_matrix:
        """The rows' design matrix: text terms, then VADER's four scores (English rows;
        `vader`: compound, pos, neg, neu per row), then signals."""
        parts_row, parts_col, parts_val = [], [], []
        offsets = np.concatenate(([0], np.cumsum(lengths)))
        for start in range(0, len(lengths), CHUNK):
            stop = min(start + CHUNK, len(lengths))
            r, c, v = self.text_terms(tid[offsets[start]:offsets[stop]], lengths[start:stop], english[start:stop])
            parts_row.append(r + start)
            parts_col.append(c)
            parts_val.append(v)
        vader_cols = np.asarray(self.dense_vader, dtype=np.int64)
        english_rows = np.flatnonzero(english)
        present = vader_cols >= 0
        parts_row.append(np.repeat(english_rows, present.sum()))
        parts_col.append(np.tile(vader_cols[present], len(english_rows)))
        parts_val.append(vader[english_rows][:, present].ravel())
        signal_rows, signal_cols = [], []
        for i, found in enumerate(signals):
            for name in found:
                if self.dense_signal[name] >= 0:
                    signal_rows.append(i)
                    signal_cols.append(self.dense_signal[name])
        parts_row.append(np.asarray(signal_rows, dtype=np.int64))
        parts_col.append(np.asarray(signal_cols, dtype=np.int64))
        parts_val.append(np.ones(len(signal_rows)))
        rows, cols, vals = np.concatenate(parts_row), np.concatenate(parts_col), np.concatenate(parts_val)
        order = np.argsort(rows, kind="stable")  # per row: text terms, VADER, signals
        indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=len(lengths)), out=indptr[1:])
        return sparse.csr_matrix((vals[order], cols[order], indptr), shape=(len(lengths), len(self.index)))

    def features(self, texts: Sequence[str], langs: Sequence[str], vader: Vader
                 ) -> tuple[list[RowFeatures], np.ndarray, sparse.csr_matrix]:
        """Per text (English or Russian, as `langs` says) its VADER scores and signals;
        VADER's compound, pos, neg, neu as an array (0, 0, 0, 1 for Russian: no
        lexicon); and the batch's design matrix."""
        english = np.asarray([lang == "en" for lang in langs], dtype=bool)
        tid, lengths, long_runs = self.token_ids(texts)
        masks = self.rule_masks(tid, lengths, english, long_runs)
        rows = []
        scores = []
        for text, lang, mask in zip(texts, langs, masks):
            if lang == "en":
                found = vader.polarity_scores(text)
                scores.append((found["compound"], found["pos"], found["neg"], found["neu"]))
                rows.append(RowFeatures(lang, found, severity_signals(text, lang, mask)))
            else:
                scores.append(NO_LEXICON)
                rows.append(RowFeatures(lang, None, severity_signals(text, lang, mask)))
        vader_array = np.asarray(scores, dtype=np.float64).reshape(len(texts), 4)
        matrix = self.design_matrix(tid, lengths, english, vader_array, [r.signals for r in rows])
        return rows, vader_array, matrix
