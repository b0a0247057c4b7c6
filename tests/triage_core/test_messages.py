import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from triage_core import messages


@pytest.mark.parametrize("text, problem", [
    ("", messages.TEXT_EMPTY),
    ("nul \x00 in a long enough text", messages.TEXT_UNSTORABLE),
    ("lone surrogate \ud800 in a text", messages.TEXT_UNSTORABLE),
    ("too short", messages.TEXT_TOO_SHORT),
    ("x" * (messages.MAX_TEXT_CHARS + 1), messages.TEXT_TOO_LONG),
    ("x" * messages.MAX_TEXT_CHARS, None),
    ("ten chars!", None),
    ("\u200b" * 12, messages.TEXT_EMPTY),                      # zero-width spaces only
    ("\u200bbroken\u200d\u2060\ufeff\u200e", messages.TEXT_TOO_SHORT),  # 6 visible of 11
    ("tout cassé \u200b", None),                               # 10 visible: accents count
    ("Сломалось!", None),                                       # 10 visible Cyrillic
])
def test_text_problem(text, problem):
    """Mutant tried: the minimum counted with len() again -> the zero-width cases passed
    as complaints and the test failed."""
    assert messages.text_problem(text) == problem


@given(st.text(alphabet=st.characters(codec=None, exclude_categories=["Cs"]))
       | st.text(alphabet=st.sampled_from("ab \u200b\u200d\u2060\ufeff\u00ad\x7f\x9f\U000e0001\U000e007f\U0001bca3")))
def test_visible_chars_counts_what_unicodedata_calls_neither_control_nor_format(text):
    """The regex of ranges is built from unicodedata: it must count exactly as asking
    unicodedata about every character. Mutant tried: the ranges' upper bounds dropped
    (each range one character) -> the zero-width joiner U+200D counted as visible."""
    expected = sum(1 for ch in text if unicodedata.category(ch) not in ("Cc", "Cf"))
    assert messages.visible_chars(text) == expected


def test_a_lower_minimum_accepts_short_texts():
    assert messages.text_problem("ok", min_chars=1) is None
    assert messages.text_problem("", min_chars=1) == messages.TEXT_EMPTY
