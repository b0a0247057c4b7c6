"""Requests that would fail deep down, answered at the door.

- An unreachable database is an outage, not a bug: answer 503 with a message that says
  nothing was saved, instead of Django's 500 page. The error is still logged in full.
- A NUL in the path (`/track/%00/`) can never name a complaint, and Postgres refuses it
  in a query: 400 before any view looks it up.
- A body larger than DATA_UPLOAD_MAX_MEMORY_SIZE is 413 before anything reads it (a 10 MB
  body was parsed); one that says no length and grows past it fails where Django reads
  it, answered 413 the same way.
- Every answer carries a strict Content-Security-Policy (scripts, styles, images and
  connections from this site only, the live-queue socket's origins, no framing, no
  plugins) and a Permissions-Policy that turns off what the product never uses.
- Pages and answers with personal data (a customer's tracking page, the staff screens
  and APIs, the admin) are `Cache-Control: no-store, private`: no shared proxy and no
  browser cache keeps a complaint's text.
"""
from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import patch_cache_control

from triage_app.errors import BODY_TOO_LARGE, PATH_UNSTORABLE, SERVICE_UNAVAILABLE

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
        response = _refusal(request, SERVICE_UNAVAILABLE, 503)
        response["Retry-After"] = str(RETRY_AFTER_S)
        return response


def _refusal(request: HttpRequest, message: str, status: int) -> HttpResponse:
    if request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"detail": message}, status=status)
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


class UnstorablePathMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path:
            return _refusal(request, PATH_UNSTORABLE, 400)
        return self.get_response(request)


# Every path that shows a complaint, a customer's address or staff data.
PRIVATE_PREFIXES = ("/track/", "/api/complaints/", "/api/queue/", "/api/search/", "/api/staff/", "/staff/", "/manage/",
                    "/admin/")


class PrivatePagesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith(PRIVATE_PREFIXES):
            patch_cache_control(response, no_store=True, private=True)
        return response


def body_too_large(request: HttpRequest) -> HttpResponse:
    return _refusal(request, BODY_TOO_LARGE.format(kib=settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024), 413)


class BodyTooLargeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            return body_too_large(request)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return body_too_large(request) if isinstance(exception, RequestDataTooBig) else None


PERMISSIONS_POLICY = ("camera=(), microphone=(), geolocation=(), payment=(), usb=(), "
                      "interest-cohort=(), browsing-topics=()")


def content_security_policy(ws_origins) -> str:
    # Inline styles stay allowed: Django's admin templates use style attributes; scripts
    # come from files only (no inline <script>, no on* handlers anywhere).
    sockets = " ".join(o.replace("http://", "ws://", 1).replace("https://", "wss://", 1) for o in ws_origins)
    return ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            f"connect-src 'self' {sockets}; font-src 'self'; object-src 'none'; base-uri 'self'; "
            "form-action 'self'; frame-ancestors 'none'")


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.csp = content_security_policy(settings.TRIAGE_WS_ORIGINS)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", self.csp)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response
