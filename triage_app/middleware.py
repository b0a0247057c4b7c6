"""An unreachable database is an outage, not a bug: answer 503 with a message that says
nothing was saved, instead of Django's 500 page. The error is still logged in full."""
from __future__ import annotations

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse

from triage_app.errors import SERVICE_UNAVAILABLE

log = logging.getLogger(__name__)
RETRY_AFTER_S = 30


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        log.error("database unavailable while serving %s %s", request.method, request.path, exc_info=exception)
        if request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", ""):
            response = JsonResponse({"detail": SERVICE_UNAVAILABLE}, status=503)
        else:
            response = HttpResponse(SERVICE_UNAVAILABLE, status=503, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = str(RETRY_AFTER_S)
        return response
