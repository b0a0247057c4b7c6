import pytest

from triage_app import errors
from triage_app.errors import InvalidInput
from triage_app.validation import complaint_input_validate


def problems(data):
    with pytest.raises(InvalidInput) as info:
        complaint_input_validate(data=data)
    return info.value.errors


def test_text_is_trimmed_and_email_blank_means_none():
    cleaned = complaint_input_validate(data={"text": "   My order arrived broken.  ", "email": "  "})
    assert cleaned.text == "My order arrived broken."
    assert cleaned.email is None


@pytest.mark.parametrize("data, field, message", [
    ({}, "text", errors.TEXT_REQUIRED),
    ({"text": None}, "text", errors.TEXT_REQUIRED),
    ({"text": "       "}, "text", errors.TEXT_REQUIRED),
    ({"text": 12345678901}, "text", errors.TEXT_NOT_STRING),
    ({"text": ["a long enough list"]}, "text", errors.TEXT_NOT_STRING),
    ({"text": "  too short   "}, "text", errors.TEXT_TOO_SHORT),
    ({"text": "x" * 5001}, "text", errors.TEXT_TOO_LONG),
    ({"text": "valid text\x00 with a NUL"}, "text", errors.TEXT_UNSTORABLE),
    ({"text": "valid text \ud800 surrogate"}, "text", errors.TEXT_UNSTORABLE),
    ({"text": "A valid complaint text", "email": "not-an-email"}, "email", errors.EMAIL_INVALID),
    ({"text": "A valid complaint text", "email": 42}, "email", errors.EMAIL_NOT_STRING),
])
def test_each_problem_names_its_field(data, field, message):
    assert problems(data)[field] == [message]


@pytest.mark.parametrize("data", [None, [], "text", 3, True])
def test_a_body_that_is_not_an_object_is_refused(data):
    assert problems(data) == {"non_field_errors": [errors.BODY_NOT_OBJECT]}


def test_limits_count_characters_after_trimming():
    assert complaint_input_validate(data={"text": "  " + "y" * 10 + "  "}).text == "y" * 10
    assert complaint_input_validate(data={"text": "z" * 5000 + "   "}).text == "z" * 5000
