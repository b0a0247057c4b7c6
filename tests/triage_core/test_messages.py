import pytest

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


def test_a_lower_minimum_accepts_short_texts():
    assert messages.text_problem("ok", min_chars=1) is None
    assert messages.text_problem("", min_chars=1) == messages.TEXT_EMPTY
