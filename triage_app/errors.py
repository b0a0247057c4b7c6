"""Messages people see when something is refused, and the exceptions that carry them.

Tests assert on these constants, so wording changes in one place. Services raise the
exceptions; they are turned into answers once per kind of client: the API in
`triage_app.api.exception_handler` (InvalidInput 400, ActionRefused 409, a missing row
404), the admin forms and the staff pages through `problems`.
"""
from __future__ import annotations

from collections.abc import Iterator

from django.utils.translation import gettext_noop

# Messages people read are marked with gettext_noop: they stay plain strings here
# (tests compare them), makemessages collects them, and the customer pages show them
# translated ({% translate %}, gettext() before .format()); locale/ru holds the Russian. Their numbers are written
# out, so that makemessages can read them; tests/triage_app/test_errors.py pins those
# numbers to triage_core.messages.

TEXT_REQUIRED = gettext_noop("Please describe your complaint.")
TEXT_NOT_STRING = gettext_noop("The complaint text must be a string.")
TEXT_TOO_SHORT = gettext_noop("Please write at least 10 characters.")
TEXT_TOO_LONG = gettext_noop("Please keep your complaint to at most 5000 characters.")
TEXT_UNSTORABLE = gettext_noop("The text contains characters we cannot store (NUL or unpaired surrogates).")
EMAIL_NOT_STRING = gettext_noop("The email address must be a string.")
EMAIL_INVALID = gettext_noop("Enter a valid email address, or leave it empty.")
BODY_NOT_OBJECT = "The request body must be a JSON object like {\"text\": \"...\"}."
BODY_NOT_JSON = "The request body is not valid JSON."
BODY_WRONG_MEDIA_TYPE = "Send the complaint as JSON with Content-Type: application/json."
RATE_LIMITED = gettext_noop("Too many complaints from your address. Please wait {seconds} seconds and try again.")
TRACKING_NOT_FOUND = gettext_noop("No complaint has this tracking code.")
NOT_FOUND = "Not found."
BODY_TOO_LARGE = "The request body is too large: at most {kib} KiB (a complaint is at most 5,000 characters)."
PATH_UNSTORABLE = "The address contains a NUL character; no tracking code or id has one."
QUEUE_STATUS_UNKNOWN = "Unknown status {value!r}."
QUEUE_LIMIT_NOT_WHOLE = "Limit must be a whole number."
HOLDER_FILTER_INVALID = gettext_noop("{value!r} is neither an id nor one of {words}.")
TEAM_UNKNOWN = gettext_noop("There is no team {value}.")
DUPLICATE_OF_INVALID = gettext_noop("Give the id of the complaint this one duplicates.")
DUPLICATE_OF_ITSELF = gettext_noop("A complaint cannot duplicate itself.")
DUPLICATE_OF_UNKNOWN = gettext_noop("There is no complaint {value} that you can see.")
DUPLICATE_CYCLE = gettext_noop("That complaint is already a duplicate of this one.")
ASSIGN_NOTHING = gettext_noop("Say whom to give it to: a team, an agent, or both.")
ASSIGN_ID_INVALID = gettext_noop("Give an id (a whole number), or nothing.")
ASSIGN_AGENT_UNKNOWN = gettext_noop("There is no active staff member {value}.")
ASSIGN_AGENT_NOT_IN_TEAM = gettext_noop("{name} is not in team {team}, so could not see this complaint.")
QUEUE_PARAMETER_UNSTORABLE = "This parameter contains characters we cannot search for (NUL or unpaired surrogates)."
SLA_TARGETS_INVALID = gettext_noop("Give at least one target: a band, a category (or any), first reply and "
                                    "resolution times.")
SLA_TARGET_ROW_INVALID = gettext_noop("Target row {row}: the band is one of {bands}; the category empty or one of "
                                      "{categories}; first reply and resolution whole minutes from 1, the first "
                                      "reply no later than the resolution.")
SLA_TARGET_DUPLICATE = gettext_noop("Target row {row} repeats a band and category given above.")
SLA_HOURS_INVALID = gettext_noop("Business hours: a start hour before the end hour (0 to 24), at least one weekday "
                                  "(0 = Monday to 6), a known time zone and country code, or none.")
CORRECTION_KIND_UNKNOWN = gettext_noop("Unknown correction; one of: {known}.")
CORRECTION_CATEGORY_UNKNOWN = gettext_noop("Choose a category: one of {known}.")
CORRECTION_NOT_SCORED = gettext_noop("This complaint has not been scored yet: there is nothing to correct.")
SEARCH_TOO_LONG = gettext_noop("Keep this to at most {limit} characters.")
SEARCH_DATE_INVALID = gettext_noop("{value!r} is not a date; write it as YYYY-MM-DD.")
SEARCH_DATES_REVERSED = gettext_noop("The end date is before the start date.")
SEARCH_ESCALATED_INVALID = gettext_noop("Escalated is true or false, not {value!r}.")
SEARCH_PAGE_INVALID = gettext_noop("Page and page size are whole numbers from 1.")

CLAIMED_BY_OTHER = gettext_noop("{name} has already claimed this complaint.")
NOT_YOUR_CLAIM = gettext_noop("Only the person who claimed this complaint can release it.")
ALREADY_RESOLVED = gettext_noop("This complaint is already resolved.")
MESSAGE_REQUIRED = gettext_noop("Write something first.")
MESSAGE_TOO_LONG = gettext_noop("Keep it to at most 5000 characters.")
RATING_INVALID = gettext_noop("Choose a rating from 1 (not at all satisfied) to 5 (very satisfied).")
RATING_NOT_RESOLVED = gettext_noop("You can rate our handling once your complaint is resolved.")

POLICY_OUT_OF_RANGE = gettext_noop("{field} must be between {low} and {high}.")
POLICY_WEIGHTS_ZERO = gettext_noop("At least one priority weight must be above 0.")
EXPERIMENT_UNKNOWN_MODEL = gettext_noop("Unknown model {model!r}; known models: {known}.")
JSON_TOO_DEEP = gettext_noop("This JSON is nested too deeply; arms are a flat list of {label, model, weight}.")
EXPERIMENT_SHADOW_SERVING = gettext_noop("The shadow model must not also serve an arm.")


class InvalidInput(Exception):
    """Input a person can fix; `errors` maps each field to its problems."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


def problems(exc: InvalidInput) -> Iterator[tuple[str, str]]:
    """(field, message) of every problem, for the forms and pages that list them."""
    for field, messages in exc.errors.items():
        for message in messages:
            yield field, message


class ActionRefused(Exception):
    """A staff action that cannot happen in the complaint's current state."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

SERVICE_UNAVAILABLE = ("We cannot store complaints right now (our database is unreachable). "
                       "Nothing was saved; please try again in a minute.")
POLICY_TRIGGERS_INVALID = gettext_noop("Signal triggers must be a list of signal names from: {known}.")
EXPERIMENT_UNKNOWN_VERSION = gettext_noop("There is no experiment version {version} to restore.")
# The operational reports' filters (selectors.report_filters_from); dates as in search.
REPORT_RANGE_TOO_LONG = gettext_noop("A report covers at most {days} days; choose a shorter range.")
REPORT_GRAIN_UNKNOWN = gettext_noop("Show figures by day, week or month, not {value!r}.")
REPORT_CHOICE_UNKNOWN = gettext_noop("{value!r} is not one of: {known}.")
REPORT_DATE_OUT_OF_RANGE = gettext_noop("Choose a date from {low} to {high}.")
