"""The Kafka message contract of the `complaints` topic (docs/contracts.md)."""
from __future__ import annotations

import functools
import re
import secrets
import sys
import unicodedata
import uuid
from typing import NotRequired, TypedDict

MIN_TEXT_CHARS = 10
MAX_TEXT_CHARS = 5000
# A staff note or reply to the customer.
MAX_MESSAGE_CHARS = 5000
# What a dead letter keeps of the reason it was refused (a parser's or a model's words).
DETAIL_MAX_CHARS = 500


# Where a complaint came from (the `source` column): the app's form and API, the bulk
# importer and load generator (which name themselves in a new-format message), and a
# message that names none or an unknown one, such as the classic `{"data": text}`.
SOURCE_LABELS = {
    "web": "Web form",
    "api": "API",
    "bulk": "Bulk import",
    "loadgen": "Load generator",
    "kafka": "Kafka message",
}
SOURCE_CLASSIC = "kafka"


class ComplaintRecord(TypedDict):
    """The value of a `complaints` Kafka record that the product writes (docs/contracts.md);
    the classic `{"data": text}` is the other shape the stream reads."""
    id: str
    text: str
    source: str
    submitted_at: str                 # ISO 8601 with offset
    revision: NotRequired[int]        # n > 0: the customer wrote again; text is the conversation
SOURCES_NAMED_IN_MESSAGES = frozenset(SOURCE_LABELS) - {SOURCE_CLASSIC}
# Sources only the app writes (its form and API, through the outbox relay), to the app
# topic that only its Kafka login may write; the stream dead-letters them from any other.
SOURCES_APP_ONLY = frozenset({"web", "api"})


def new_tracking_code() -> str:
    """The customer's secret link to one complaint, made by the app (web, API) and by the
    stream (Kafka-only complaints): 24 random bytes = 192 bits, far above what a guess
    would need to beat."""
    return secrets.token_urlsafe(24)


def new_reply_token() -> str:
    """The local part of a complaint's reply address after "reply+": 20 random bytes as
    lower-case hex, so that a mail server that folds the case of local parts keeps it."""
    return secrets.token_hex(20)


# Namespace for ids of classic-demo messages `{"data": text}`: the id derives from the
# record's position, so a replayed record becomes the same complaint, never a second one.
KAFKA_NAMESPACE = uuid.UUID("6f1c2a52-5f0e-4d57-9a51-2b8f1f0a7c3e")


def classic_complaint_id(topic: str, partition: int, offset: int) -> str:
    return str(uuid.uuid5(KAFKA_NAMESPACE, f"{topic}:{partition}:{offset}"))


# What can be wrong with a complaint's text, wherever it arrives (form, API, bulk file,
# Kafka). Each entry point words the problem for its own audience.
TEXT_EMPTY = "empty"
TEXT_UNSTORABLE = "unstorable"
TEXT_TOO_SHORT = "too_short"
TEXT_TOO_LONG = "too_long"


def text_encodable(text: str) -> bool:
    """False for a str that is no valid Unicode: an unpaired surrogate (JSON can spell one)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def text_storable(text: str) -> bool:
    """False for what Postgres cannot store in a text column: NUL, unpaired surrogates."""
    return "\x00" not in text and text_encodable(text)


@functools.cache
def _invisible() -> re.Pattern[str]:
    """Every control and format character (Unicode categories Cc, Cf, as this Python's
    unicodedata has them) as one regex class of ranges. Built once, on first use, in
    ~0.1 s; scanning a text with it is ~5x faster than asking unicodedata about each
    character, which was a third of the stream's parsing."""
    ranges: list[list[int]] = []
    for code in range(sys.maxunicode + 1):
        if unicodedata.category(chr(code)) in ("Cc", "Cf"):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1][1] = code
            else:
                ranges.append([code, code])
    return re.compile("[" + "".join(re.escape(chr(a)) + ("-" + re.escape(chr(b)) if b > a else "")
                                    for a, b in ranges) + "]")


def visible_chars(text: str) -> int:
    """Characters that take up room on the screen: all but control and format characters
    (zero-width space and joiners, the BOM, direction marks: Unicode categories Cc, Cf).
    A space between words counts, as a person counting characters would count it."""
    return len(text) - len(_invisible().findall(text))


def text_problem(text: str, *, min_chars: int = MIN_TEXT_CHARS) -> str | None:
    """The problem with an already-trimmed complaint text, or None when it is fine.
    The minimum counts visible characters, so ten zero-width spaces are no complaint;
    the maximum counts every character (what is stored)."""
    if not text:
        return TEXT_EMPTY
    if not text_storable(text):
        return TEXT_UNSTORABLE
    visible = visible_chars(text)
    if visible == 0:
        return TEXT_EMPTY
    if len(text) < min_chars or visible < min_chars:
        return TEXT_TOO_SHORT
    if len(text) > MAX_TEXT_CHARS:
        return TEXT_TOO_LONG
    return None
