"""The fast VADER gives NLTK's scores: on both human-rated corpora, and on generated text
full of the cases VADER treats specially. Its speed against NLTK is a benchmark, not a
test: bench/bench_scoring.py measures both in the same run and prints the ratio."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring_service.corpora import CORPUS_FILES, load_corpus
from scoring_service.vader import Vader, nltk_reference, strip_punctuation_affix

FIELDS = ("neg", "neu", "pos", "compound")


@pytest.fixture(scope="module")
def fast():
    return Vader()


def differences(fast: Vader, texts):
    ref = nltk_reference()
    out = []
    for text in texts:
        mine, theirs = fast.polarity_scores(text), ref.polarity_scores(text)
        worst = max(abs(mine[f] - theirs[f]) for f in FIELDS)
        if worst > 1e-4 or set(mine) != set(theirs):
            out.append((text, mine, theirs))
    return out


def test_classic_demo_example(fast):
    assert fast.polarity_scores("This restaurant is great") == {
        "compound": 0.6249, "neg": 0.0, "neu": 0.423, "pos": 0.577}


@pytest.mark.parametrize("corpus", sorted(CORPUS_FILES))
def test_every_corpus_text_matches_nltk(fast, corpus):
    texts = [row.text for row in load_corpus(corpus)]
    assert len(texts) in (4200, 10605)
    assert differences(fast, texts) == []


def test_empty_and_single_character_text_score_zero(fast):
    zero = {"neg": 0.0, "neu": 0.0, "pos": 0.0, "compound": 0.0}
    assert fast.polarity_scores("") == zero
    assert fast.polarity_scores("a ! ?") == zero == nltk_reference().polarity_scores("a ! ?")


@pytest.mark.parametrize("token, expected", [
    ("cat,", "cat"), (",cat", "cat"), ("cat!!!", "cat"), ("cat?!?!", "cat"), ("cat...", "cat..."),
    ("(cat)", "(cat)"), ("c,", "c,"), ("don't,", "don't,"), ("!!", "!!"), ("good:", "good"), (":)", ":)"),
])
def test_punctuation_affix(token, expected):
    assert strip_punctuation_affix(token) == expected


# Words VADER treats specially, so generated texts hit negation, boosters in caps,
# "but", "least", "kind of", idioms, "never so", repeated words and punctuation.
SPECIAL = ("not never isn't without least at very but kind of sort just enough so this the shit bomb "
           "bad ass yeah right cut mustard kiss death hand to mouth really VERY extremely barely "
           "GOOD good great GREAT bad BAD terrible love hate no nope okay :) :( lol ugh").split()
token = st.one_of(
    st.sampled_from(SPECIAL),
    st.tuples(st.sampled_from(SPECIAL), st.sampled_from(list(",.!?;:-'\"") + ["!!", "???", "..."]))
      .map(lambda t: t[0] + t[1]),
    st.text(alphabet="abcXYZ!?.,'-:) ", min_size=1, max_size=6),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(token, min_size=0, max_size=25), st.sampled_from([" ", "  ", "\n", "\t"]))
def test_generated_text_matches_nltk(words, sep):
    assert differences(Vader(), [sep.join(words)]) == []
