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
])
def test_text_problem(text, problem):
    assert messages.text_problem(text) == problem


def test_a_lower_minimum_accepts_short_texts():
    assert messages.text_problem("ok", min_chars=1) is None
    assert messages.text_problem("", min_chars=1) == messages.TEXT_EMPTY
