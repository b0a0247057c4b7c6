"""Validation of a public complaint, shared by the HTML form and the JSON API.

It takes whatever a client sent (any JSON value), so neither entry point can reach the
database with something Postgres would reject (a NUL byte, an unpaired surrogate).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext

from triage_app import errors
from triage_app.errors import InvalidInput
from triage_core import messages

EMAIL_MAX_CHARS = 254


@dataclass(frozen=True)
class ComplaintInput:
    text: str
    email: str | None


TEXT_MESSAGES = {
    messages.TEXT_EMPTY: errors.TEXT_REQUIRED,
    messages.TEXT_UNSTORABLE: errors.TEXT_UNSTORABLE,
    messages.TEXT_TOO_SHORT: errors.TEXT_TOO_SHORT,
    messages.TEXT_TOO_LONG: errors.TEXT_TOO_LONG,
}


def complaint_input_validate(*, data: object) -> ComplaintInput:
    """The cleaned complaint, or InvalidInput naming every bad field."""
    if not isinstance(data, dict):
        raise InvalidInput({"non_field_errors": [errors.BODY_NOT_OBJECT]})
    problems: dict[str, list[str]] = {}

    given = data.get("text")
    text = ""
    if given is None:
        problems["text"] = [errors.TEXT_REQUIRED]
    elif not isinstance(given, str):
        problems["text"] = [errors.TEXT_NOT_STRING]
    else:
        text = given.strip()
        problem = messages.text_problem(text)
        if problem is not None:
            problems["text"] = [TEXT_MESSAGES[problem]]

    email = data.get("email")
    if email is not None and not isinstance(email, str):
        problems["email"] = [errors.EMAIL_NOT_STRING]
    elif isinstance(email, str):
        email = email.strip() or None
        if email is not None:
            try:
                # Django's validator accepts up to 320 characters; the column holds 254
                # (RFC 5321's limit on a path), and a longer one would fail the insert.
                if not messages.text_storable(email) or len(email) > EMAIL_MAX_CHARS:
                    raise ValidationError(errors.EMAIL_INVALID)
                validate_email(email)
            except ValidationError:
                problems["email"] = [errors.EMAIL_INVALID]

    if problems:
        raise InvalidInput(problems)
    return ComplaintInput(text=text, email=email)



def number_in_range(values: Mapping[str, object], field: str, low: float, high: float,
                    problems: dict[str, list[str]]) -> float | None:
    """values[field] as a number from `low` to `high` (an admin setting: the escalation
    and SLA policies), or None with the problem recorded under `field` (not a number,
    NaN, a JSON boolean, out of range)."""
    raw = values.get(field)
    value: float | None
    try:
        value = float(raw)  # type: ignore[arg-type]
        if value != value or isinstance(raw, bool):  # NaN, or a JSON boolean
            raise ValueError
    except (TypeError, ValueError):
        value = None
    if value is None or not low <= value <= high:
        problems[field] = [gettext(errors.POLICY_OUT_OF_RANGE).format(field=field.replace("_", " "), low=low,
                                                                      high=high)]
        return None
    return value


# A row id written out: digits only, at most this many (a bigint has 19; ids here are far
# smaller, and a longer string is a mistake, not an id).
ID_DIGITS_MAX = 12


def whole_id(raw: object) -> int | None:
    """`raw` (a JSON number or a query-string text) as a row id, or None if it is not one:
    no bool, no sign, no spaces, no other digits than ASCII ones."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= ID_DIGITS_MAX:
        return int(raw)
    return None
