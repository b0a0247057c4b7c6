"""Logs that never hold a customer's tracking code (their only secret, and in every
tracking page's address).

- `RedactingAccessLog`: daphne's access log with each code replaced by "[code]";
  `python -m triage_app.serve` runs daphne with it.
- `RedactTrackingCodes`: the same for Django's own log lines ("Not Found: /track/...").
"""
from __future__ import annotations

import logging
import re

from daphne.access import AccessLogGenerator

# The tracking page (and its rate/unsubscribe pages) and the tracking API.
_TRACKING_PATH = re.compile(r"(/(?:track|api/complaints)/)[^/?#\s\"']+")


def redact(text: str) -> str:
    return _TRACKING_PATH.sub(r"\1[code]", text)


class RedactingAccessLog(AccessLogGenerator):
    def write_entry(self, host, date, request, status=None, length=None, ident=None, user=None):
        super().write_entry(host, date, redact(request), status, length, ident, user)


class RedactTrackingCodes(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
