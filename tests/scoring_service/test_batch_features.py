"""The serving featuriser (scoring_service.triage_v2.batch) against the readable one it
replaces at serving time (features.featurize + design_matrix), and the rule anchors
that let severity rules skip texts (scoring_service.triage_v2.anchors)."""
from __future__ import annotations

import random

import numpy as np
import pytest

from scoring_service.datasets import read_source, source_names
from scoring_service.triage import COMPLAINTS_PATH, COMPLAINTS_RU_PATH, load_complaints
from scoring_service.triage import severity_signals as english_rules
from scoring_service.triage_v2 import batch as batch_module
from scoring_service.triage_v2.anchors import Anchor, AnchorTest, anchors, word_parts
from scoring_service.triage_v2.batch import BatchFeaturizer
from scoring_service.triage_v2.features import design_matrix, featurize
from scoring_service.triage_v2.signals import ALL_RULES, SIGNALS, rule_mask, russian_signals, severity_signals
from scoring_service.triage_v2.text import base_forms, tokens
from scoring_service.vader import Vader


def ENGLISH_WORD_ENDS(ch: str) -> bool:
    return not (ch.isalnum() or ch == "_")


EDGE_TEXTS = [
    ("", "en"), ("!!!", "en"), ("?!", "ru"), ("...", "en"), ("_under_score not_here", "en"),
    ("not not not arrived", "en"), ("It did not arrive, not at all. Not good!", "en"),
    ("a" * 200 + " sue you", "en"), ("x-sue me; i'm leaving", "en"), ("I’m leaving, I’ll sue", "en"),
    ("Refund refund refund REFUND refund", "en"), ("3rd time I call: 5 times now", "en"),
    ("не не не подам в суд", "ru"), ("Курьер не привёз заказ. Не пришёл! Никто не отвечает?", "ru"),
    ("кто-то зашёл в мой аккаунт", "ru"), ("Wildberries опять не привёз заказ", "ru"),
]


def development_texts() -> list[tuple[str, str]]:
    return ([(c.text, "en") for c in load_complaints(COMPLAINTS_PATH)]
            + [(c.text, "ru") for c in load_complaints(COMPLAINTS_RU_PATH)])


def corpus_sample(per_source: int, seed: int = 3) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    out = []
    for name in source_names():
        rows = read_source(name)
        out += [(r.text, r.lang) for r in rng.sample(rows, min(per_source, len(rows)))]
    return out


@pytest.fixture(scope="module")
def vader():
    return Vader()


@pytest.fixture(scope="module")
def vocabulary(models):
    return models.version("triage", "2.0.0").terms


def assert_same_matrices(featurizer: BatchFeaturizer, vader, texts: list[tuple[str, str]]) -> None:
    for start in range(0, len(texts), 700):
        chunk = texts[start:start + 700]
        reference = [featurize(text, lang, vader) for text, lang in chunk]
        expected = design_matrix([f.values for f in reference], featurizer.index)
        rows, _, got = featurizer.features([t for t, _ in chunk], [lang for _, lang in chunk], vader)
        for i, (text, lang) in enumerate(chunk):
            want, have = expected[i], got[i]
            assert have.indices.tolist() == want.indices.tolist(), (lang, text)
            assert have.data.tolist() == want.data.tolist(), (lang, text)
            assert rows[i].signals == reference[i].signals, (lang, text)
            assert rows[i].vader == reference[i].vader, (lang, text)


def test_batch_matrix_is_the_readable_featurisers_on_development_and_edge_texts(vocabulary, vader):
    assert_same_matrices(BatchFeaturizer(vocabulary), vader, development_texts() + EDGE_TEXTS)


def test_batch_matrix_is_the_readable_featurisers_on_every_corpus(vocabulary, vader):
    assert_same_matrices(BatchFeaturizer(vocabulary), vader, corpus_sample(150))


def test_a_batch_spans_several_row_chunks_and_the_memo_resets_between_batches(vocabulary, vader, monkeypatch):
    monkeypatch.setattr(batch_module, "CHUNK", 64)
    monkeypatch.setattr(batch_module, "MEMO_WORDS", 300)
    featurizer = BatchFeaturizer(vocabulary)
    texts = development_texts()[:400]
    assert_same_matrices(featurizer, vader, texts)
    assert len(featurizer.seen) >= 300          # the batches so far filled the memo past its bound
    full_memo = featurizer.seen
    assert_same_matrices(featurizer, vader, texts[::-1])  # the next batch starts from the vocabulary again
    assert featurizer.seen is not full_memo
    assert len(featurizer.ids) < len(full_memo) + len(BatchFeaturizer(vocabulary).ids)


def test_terms_outside_the_vocabulary_still_count_in_the_weight(vader):
    featurizer = BatchFeaturizer(["w:refund", "vader:compound"])
    _, _, matrix = featurizer.features(["refund now please"], ["en"], vader)
    # w:refund cue:billing w:now w:please, b:pleas (the one stem that differs from its word),
    # p:refund now, p:now please: seven terms, six of them unknown here, each weighing 1/sqrt(7).
    assert matrix.shape == (1, 2)
    assert matrix[0, 0] == pytest.approx(1 / np.sqrt(7))
    assert matrix[0, 1] == vader.polarity_scores("refund now please")["compound"]


# ---------------------------------------------------------------- anchors


def test_anchors_name_the_words_a_match_must_contain():
    found = anchors(r"lawyers?|legal action|(two|three|\d+) times|someone (\w+ ){0,2}(logged|used)",
                    ENGLISH_WORD_ENDS)
    assert found == {Anchor("lawyer", exact=False), Anchor("action", exact=True), Anchor("times", exact=True),
                     Anchor("someone", exact=True)}


def test_a_pattern_that_can_start_with_any_word_always_runs():
    assert anchors(r"\w+ refund", ENGLISH_WORD_ENDS) == {Anchor("refund", exact=True)}
    assert anchors(r"(\w+ )?", ENGLISH_WORD_ENDS) is None
    assert AnchorTest(None)("anything")


def test_anchor_test_exact_prefix_and_digit():
    test = AnchorTest(frozenset({Anchor("sue", True), Anchor("lawyer", False), Anchor("", False, digit=True)}))
    assert [test(w) for w in ("sue", "suede", "lawyers", "3rd", "court")] == [True, False, True, True, False]


def test_word_parts_split_at_inner_apostrophes_and_hyphens():
    assert word_parts("i'm") == ["i'm", "i", "m"]
    assert word_parts("t-sue") == ["t-sue", "t", "sue"]
    assert word_parts("refund") == ["refund"]


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_a_rule_the_mask_skips_never_fires(lang):
    texts = [(t, lang_of) for t, lang_of in development_texts() + corpus_sample(300, seed=5) + EDGE_TEXTS
             if lang_of == lang]
    skipped = fired = 0
    for text, _ in texts:
        words = tokens(text)
        mask = rule_mask(text, words, base_forms(words, lang), lang)
        full = russian_signals(text) if lang == "ru" else english_rules(text)
        fired += bool(full)
        skipped += sum(1 for bit in range(len(SIGNALS)) if not mask >> bit & 1)
        assert severity_signals(text, lang, mask) == full, text
    assert fired > 50
    assert skipped > len(texts) * 2  # the mask spares most rules on most texts


def test_a_long_run_gets_every_english_rule():
    text = "x" * 80 + ",lawyer"
    words = tokens(text)
    assert rule_mask(text, words, base_forms(words, "en"), "en") == ALL_RULES
