"""No tracking code in any log line (issue 12, item 9)."""
from __future__ import annotations

import io
import logging

import pytest

from triage_app.logs import RedactingAccessLog, RedactTrackingCodes, redact

CODE = "itnzyD01NEcfXn0v0cZwXiHhkBHF7Lgd"


@pytest.mark.parametrize(("path", "shown"), [
    (f"GET /track/{CODE}/", "GET /track/[code]/"),
    (f"POST /track/{CODE}/rate/", "POST /track/[code]/rate/"),
    (f"GET /track/{CODE}/unsubscribe/?x=1", "GET /track/[code]/unsubscribe/?x=1"),
    (f"GET /api/complaints/{CODE}/", "GET /api/complaints/[code]/"),
    ("POST /api/complaints/", "POST /api/complaints/"),   # no code in a submission
    ("GET /staff/complaints/0b9f0c2e-3d4a/", "GET /staff/complaints/0b9f0c2e-3d4a/"),  # staff pages keep ids
])
def test_redact(path, shown):
    assert redact(path) == shown


def test_the_access_log_shows_the_request_without_the_code():
    stream = io.StringIO()
    RedactingAccessLog(stream)("http", "complete", {"client": "127.0.0.1:5000", "method": "GET",
                                                    "path": f"/track/{CODE}/", "status": 200, "size": 10})
    line = stream.getvalue()
    assert CODE not in line and '"GET /track/[code]/" 200 10' in line


def test_django_log_lines_are_redacted(caplog):
    logger = logging.getLogger("django.request.test")
    logger.addFilter(RedactTrackingCodes())
    try:
        with caplog.at_level(logging.WARNING, logger="django.request.test"):
            logger.warning("Not Found: %s", f"/track/{CODE}/")
    finally:
        logger.filters.clear()
    assert caplog.records[0].getMessage() == "Not Found: /track/[code]/"


def test_the_settings_put_the_filter_on_every_console_line(settings):
    assert settings.LOGGING["handlers"]["console"]["filters"] == ["no_tracking_codes"]
    assert settings.LOGGING["filters"]["no_tracking_codes"]["()"] == "triage_app.logs.RedactTrackingCodes"
