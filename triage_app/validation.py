"""Validation of a public complaint, shared by the HTML form and the JSON API.

It takes whatever a client sent (any JSON value), so neither entry point can reach the
database with something Postgres would reject (a NUL byte, an unpaired surrogate).
"""
from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from triage_app import errors
from triage_app.errors import InvalidInput
from triage_core.messages import MAX_TEXT_CHARS, MIN_TEXT_CHARS

EMAIL_MAX_CHARS = 254


@dataclass(frozen=True)
class ComplaintInput:
    text: str
    email: str | None


def _storable(value: str) -> bool:
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def complaint_input_validate(*, data: object) -> ComplaintInput:
    """The cleaned complaint, or InvalidInput naming every bad field."""
    if not isinstance(data, dict):
        raise InvalidInput({"non_field_errors": [errors.BODY_NOT_OBJECT]})
    problems: dict[str, list[str]] = {}

    text = data.get("text")
    if text is None:
        problems["text"] = [errors.TEXT_REQUIRED]
    elif not isinstance(text, str):
        problems["text"] = [errors.TEXT_NOT_STRING]
    else:
        text = text.strip()
        if not text:
            problems["text"] = [errors.TEXT_REQUIRED]
        elif not _storable(text):
            problems["text"] = [errors.TEXT_UNSTORABLE]
        elif len(text) < MIN_TEXT_CHARS:
            problems["text"] = [errors.TEXT_TOO_SHORT]
        elif len(text) > MAX_TEXT_CHARS:
            problems["text"] = [errors.TEXT_TOO_LONG]

    email = data.get("email")
    if email is not None and not isinstance(email, str):
        problems["email"] = [errors.EMAIL_NOT_STRING]
    elif isinstance(email, str):
        email = email.strip() or None
        if email is not None:
            try:
                # Django's validator accepts up to 320 characters; the column holds 254
                # (RFC 5321's limit on a path), and a longer one would fail the insert.
                if not _storable(email) or len(email) > EMAIL_MAX_CHARS:
                    raise ValidationError(errors.EMAIL_INVALID)
                validate_email(email)
            except ValidationError:
                problems["email"] = [errors.EMAIL_INVALID]

    if problems:
        raise InvalidInput(problems)
    return ComplaintInput(text=text, email=email)

