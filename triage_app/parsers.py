"""Request parsers of the API (a module of its own: settings name it, and DRF imports
it while its own views module is still loading)."""
from __future__ import annotations

from rest_framework import exceptions, parsers

from triage_app.errors import BODY_NOT_JSON


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, except that absurdly deep nesting is a parse error, not a 500
    (the json module raises RecursionError there, which DRF does not catch)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(BODY_NOT_JSON) from None
