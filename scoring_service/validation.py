"""Validation of request bodies, with the error messages clients see.

Every message is a constant so the tests can assert on exactly what a client gets.
Problems with the whole request raise `BadRequest` (-> 4xx); problems with one instance
of a batch come back as that instance's `error`, and the rest of the batch is scored.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from triage_core.messages import text_encodable

MAX_TEXT_CHARS = 20_000
MAX_INSTANCES = 1_000

ERR_CONTENT_TYPE = "Content-Type must be application/json"
ERR_INVALID_JSON = "request body is not valid JSON"
ERR_BODY_NOT_OBJECT = "request body must be a JSON object"
ERR_DATA_MISSING = "field 'data' is required"
ERR_INSTANCES_MISSING = "field 'instances' is required"
ERR_INSTANCES_NOT_LIST = "field 'instances' must be a list"
ERR_TOO_MANY_INSTANCES = f"at most {MAX_INSTANCES} instances per request"
ERR_INSTANCE_NOT_OBJECT = "instance must be an object with 'id' and 'text'"
ERR_ID_INVALID = "instance 'id' must be a string or an integer"
ERR_TEXT_MISSING = "field 'text' is required"
ERR_TEXT_NOT_STRING = "text must be a string"
ERR_TEXT_EMPTY = "text must not be empty"
ERR_TEXT_TOO_LONG = f"text is longer than {MAX_TEXT_CHARS} characters"
ERR_TEXT_SURROGATE = "text contains an unpaired surrogate (not valid Unicode)"
ERR_UNKNOWN_MODEL = "unknown model"
ERR_UNKNOWN_VERSION = "unknown version of this model"
ERR_UNAUTHORIZED = "missing or wrong bearer token"
ERR_NOT_FOUND = "no such endpoint"
ERR_METHOD_NOT_ALLOWED = "method not allowed on this endpoint"
ERR_BODY_TOO_LARGE = "request body is too large"
ERR_INTERNAL = "internal error"


class BadRequest(Exception):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


def json_object(*, content_type: str | None, body: bytes) -> Mapping:
    """The request body as a JSON object, or BadRequest naming what is wrong with it."""
    mimetype = (content_type or "").split(";", 1)[0].strip().lower()
    if mimetype != "application/json":
        raise BadRequest(ERR_CONTENT_TYPE, status=415)
    try:
        value = json.loads(body)
    # RecursionError: a body of 100k nested brackets is invalid input, not a crash.
    except (ValueError, RecursionError):
        raise BadRequest(ERR_INVALID_JSON) from None
    if not isinstance(value, dict):
        raise BadRequest(ERR_BODY_NOT_OBJECT)
    return value


def text_problem(text: object) -> str | None:
    """Why `text` cannot be scored, or None when it can."""
    if not isinstance(text, str):
        return ERR_TEXT_NOT_STRING
    if not text.strip():
        return ERR_TEXT_EMPTY
    if len(text) > MAX_TEXT_CHARS:
        return ERR_TEXT_TOO_LONG
    return None


def classic_text(body: Mapping) -> str:
    """The text of a classic-demo request `{"data": text}`."""
    if "data" not in body:
        raise BadRequest(ERR_DATA_MISSING)
    problem = text_problem(body["data"])
    if problem:
        raise BadRequest(problem)
    return body["data"]


@dataclass(frozen=True)
class Instance:
    id: str | int | None
    text: str | None
    error: str | None


def batch_instances(body: Mapping) -> list[Instance]:
    """The instances of a V1 predict request; a bad instance carries its error."""
    if "instances" not in body:
        raise BadRequest(ERR_INSTANCES_MISSING)
    raw = body["instances"]
    if not isinstance(raw, list):
        raise BadRequest(ERR_INSTANCES_NOT_LIST)
    if len(raw) > MAX_INSTANCES:
        raise BadRequest(ERR_TOO_MANY_INSTANCES, status=413)
    return [_instance(item) for item in raw]


def _instance(item: object) -> Instance:
    if not isinstance(item, dict):
        return Instance(None, None, ERR_INSTANCE_NOT_OBJECT)
    id_ = item.get("id")
    if id_ is not None and (isinstance(id_, bool) or not isinstance(id_, (str, int))):
        return Instance(None, None, ERR_ID_INVALID)
    if "text" not in item:
        return Instance(id_, None, ERR_TEXT_MISSING)
    problem = text_problem(item["text"])
    if problem:
        return Instance(id_, None, problem)
    # A str with an unpaired surrogate cannot be encoded, which fastText's binding
    # (triage 2.0's language identifier) refuses with a TypeError. Not in text_problem:
    # the classic /predict is NLTK VADER exactly, and VADER scores such text. The stream
    # dead-letters it before scoring (Postgres cannot store it), so only a direct caller
    # meets this error.
    if not text_encodable(item["text"]):
        return Instance(id_, None, ERR_TEXT_SURROGATE)
    return Instance(id_, item["text"], None)
