"""Alerts outside the dashboard: signed webhooks and on-call mail, from the alert outbox.

Postgres owes the alerts (models.AlertDelivery rows, written by triggers in the very
transaction that escalates a complaint or records its SLA breach: migration 0020_alerts);
`manage.py alert_relay` delivers them with retries. What a webhook receives:

    POST <url>
    Content-Type: application/json
    X-Triage-Event: escalated | sla_breached
    X-Triage-Delivery: <delivery id>        (the same on every retry: receivers deduplicate)
    X-Triage-Timestamp: <unix seconds of this attempt>
    X-Triage-Signature: sha256=<hex HMAC-SHA256 under the webhook's secret of "<timestamp>.<body>">

    {"event", "delivery", "complaint": {"id", "status", "created_at", "text", "team",
     "priority", "escalated", "category", "language", "reasons", "sla": {"state", "reason",
     "first_reply_due", "resolution_due"}, "url"}}

A receiver recomputes the signature over the timestamp and the raw body and compares in
constant time (`signature_valid`); the timestamp in the signed text lets it refuse a replay.
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from triage_app.models import AlertDelivery, Complaint
from triage_core.config import addresses, env_int

SIGNATURE_HEADER = "X-Triage-Signature"
# Attempts kept per delivery for the admin (the latest); the count goes on in `attempts`.
LOG_KEPT = 20
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def secret_new() -> str:
    return secrets.token_urlsafe(32)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def signature_valid(secret: str, timestamp: int, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def _loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def _host_port(url: str) -> tuple[str, int] | None:
    parts = urlsplit(url if "://" in url else f"tcp://{url}")
    try:
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname:
        return None
    default = {"http": 80, "https": 443, "postgresql": 5432, "redis": 6379, "smtp": 25}.get(parts.scheme, 0)
    return parts.hostname.lower(), port or default


def own_addresses() -> set[tuple[str, int]]:
    """(host, port) of the product's own services: its web app, scoring service, Kafka,
    Postgres, Redis and mail server. A webhook must never call them (a URL an admin types
    would otherwise make the product attack itself, or read its own APIs)."""
    where = addresses()
    urls = [settings.TRIAGE_PUBLIC_URL, f"http://127.0.0.1:{env_int('TRIAGE_WEB_PORT', 8000)}", where.scoring_url,
            where.database_url, where.redis_url, f"smtp://{settings.EMAIL_HOST}:{settings.EMAIL_PORT}",
            f"smtp://127.0.0.1:{settings.TRIAGE_SMTP_PORT}", *where.kafka_bootstrap.split(",")]
    return {hp for url in urls if (hp := _host_port(url.strip())) is not None}


def webhook_url_problems(url: str) -> list[str]:
    """Why `url` cannot be a webhook: not http(s), no host, credentials in it, or one of
    the product's own addresses (any loopback name counts as loopback)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return ["only http:// and https:// URLs"]
    if not parts.hostname:
        return ["the URL names no host"]
    if parts.username or parts.password:
        return ["no user or password in the URL: the signature authenticates the product"]
    target = _host_port(url)
    if target is None:
        return ["the port is not a number from 1 to 65535"]
    host, port = target
    for own_host, own_port in own_addresses():
        if port == own_port and (host == own_host or (_loopback(host) and _loopback(own_host))):
            return [f"{host}:{port} is the product's own address"]
    return []


def complaint_payload(complaint: Complaint) -> dict:
    """What an alert says about a complaint (the module docstring)."""
    from triage_app.serializers import queue_entry_of

    score = getattr(complaint, "score", None)
    entry = queue_entry_of(complaint)
    return {
        "id": str(complaint.id), "status": complaint.status, "created_at": complaint.created_at.isoformat(),
        "text": complaint.text, "team": complaint.team.name if complaint.team is not None else None,
        "priority": score.priority if score else None, "escalated": score.escalated if score else None,
        "category": score.category if score else None, "language": score.language if score else None,
        "reasons": (score.explanation or "") if score else "",
        "sla": None if entry is None else {
            "state": entry.sla_state, "reason": entry.sla_reason or None,
            "first_reply_due": entry.first_reply_due.isoformat() if entry.first_reply_due else None,
            "resolution_due": entry.resolution_due.isoformat() if entry.resolution_due else None},
        "url": settings.TRIAGE_PUBLIC_URL + reverse("staff-complaint", args=[complaint.id]),
    }


def webhook_request(delivery: AlertDelivery, *, now: float | None = None) -> tuple[bytes, dict[str, str]]:
    """The body and headers of one webhook attempt."""
    assert delivery.webhook is not None
    body = json.dumps({"event": delivery.event, "delivery": delivery.pk,
                       "complaint": complaint_payload(delivery.complaint)}, sort_keys=True).encode()
    timestamp = int(now if now is not None else time.time())
    return body, {"Content-Type": "application/json", "X-Triage-Event": delivery.event,
                  "X-Triage-Delivery": str(delivery.pk), "X-Triage-Timestamp": str(timestamp),
                  SIGNATURE_HEADER: sign(delivery.webhook.secret, timestamp, body)}


def attempt_logged(delivery: AlertDelivery, *, ok: bool, status: int | None, error: str) -> None:
    delivery.attempts += 1
    delivery.attempts_log = [*delivery.attempts_log, {"at": timezone.now().isoformat(), "ok": ok, "status": status,
                                                       "error": error[:500]}][-LOG_KEPT:]
