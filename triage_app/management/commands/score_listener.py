"""LISTEN on Postgres channel `complaint_scored` and push the scored complaints to the
staff dashboards. The stream sends the NOTIFY inside its batch transaction, so Postgres
delivers it only once the scores are committed and readable here.

A micro-batch's ids come in several notifications (Postgres caps a payload at 8000
bytes); they arrive together, and the listener handles what has arrived as one: one
policy check, one push (live.queue_push_scored).

    python manage.py score_listener
"""
from __future__ import annotations

import logging
import threading

import psycopg
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections

from triage_app import live
from triage_app.services import scores_reevaluate_stale
from triage_app.workers import stop_on_signals
from triage_core import notify

log = logging.getLogger("triage_app.score_listener")

# Notifications handled as one: those already arrived when the first is read, up to this many.
DRAIN_MAX = 1000


def notification_read(payload: str) -> notify.Scored | None:
    """A scored notification; None (and a warning) if malformed."""
    try:
        scored = notify.read(payload)
    except notify.PayloadInvalid as exc:
        log.warning("ignoring a %s notification (%s): %.200r", notify.CHANNEL, exc, payload)
        return None
    if scored.invalid:
        log.warning("ignoring %d ids of a %s notification that are not UUIDs", scored.invalid, notify.CHANNEL)
    return scored


def notification_ids(payload: str) -> list[str]:
    """The complaint ids of a scored notification; [] (and a warning) if malformed."""
    scored = notification_read(payload)
    return scored.ids if scored else []


def scored_notifications_handle(payloads: list[str]) -> int:
    """Re-rank what the batches scored under an older policy, then push it live."""
    read = [scored for p in payloads if (scored := notification_read(p)) and scored.ids]
    ids = list(dict.fromkeys(i for scored in read for i in scored.ids))
    if not ids:
        return 0
    versions = {scored.policy_version for scored in read}
    ranked_under = None if None in versions else min(v for v in versions if v is not None)
    scores_reevaluate_stale(complaint_ids=ids, ranked_under=ranked_under)
    return live.queue_push_scored(complaint_ids=ids)


def scored_notification_handle(payload: str) -> int:
    return scored_notifications_handle([payload])


def listen_connection() -> psycopg.Connection:
    db = settings.DATABASES["default"]
    conn = psycopg.connect(dbname=db["NAME"], user=db["USER"] or None, password=db["PASSWORD"] or None,
                           host=db["HOST"] or None, port=db["PORT"] or None, autocommit=True,
                           application_name="triage-score-listener")
    conn.execute(f"LISTEN {notify.CHANNEL}")
    return conn


class Command(BaseCommand):
    help = "Push complaints to the live staff queue as the stream commits their scores."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--max-notifications", type=int, default=0,
                            help="exit after handling this many notifications (tests); 0 = run forever")

    def handle(self, *args, max_notifications: int = 0, **options) -> None:
        stop = stop_on_signals()
        self.listen(stop=stop, max_notifications=max_notifications)

    def listen(self, *, stop: threading.Event, max_notifications: int = 0, ready: threading.Event | None = None) -> int:
        handled = 0
        backoff = 0.5
        while not stop.is_set():
            try:
                with listen_connection() as conn:
                    log.info("listening on %s", notify.CHANNEL)
                    backoff = 0.5
                    # Anything committed while we were not listening was never pushed.
                    live.queue_push_refresh()
                    if ready is not None:
                        ready.set()
                    while not stop.is_set():
                        payloads = [m.payload for m in conn.notifies(timeout=1.0, stop_after=1)]
                        if not payloads:
                            continue
                        # The rest of the batch came in the same commit: it is already here.
                        payloads += [m.payload for m in conn.notifies(timeout=0.01, stop_after=DRAIN_MAX)]
                        close_old_connections()
                        pushed = scored_notifications_handle(payloads)
                        log.info("pushed %d scored complaints (%d notifications)", pushed, len(payloads))
                        handled += len(payloads)
                        if max_notifications and handled >= max_notifications:
                            return handled
            except (psycopg.OperationalError, DatabaseError) as exc:
                # The LISTEN connection (psycopg) or the ORM handling a notification
                # (Django wraps its errors in its own classes) lost Postgres. Reconnecting
                # pushes a refresh, so dashboards catch up on what was missed meanwhile.
                log.warning("Postgres connection lost (%s); reconnecting in %.1fs", exc, backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)
        return handled
