"""The loop of the app's relay workers (manage.py outbox_relay, mail_relay, alert_relay):
pass after pass until stopped, riding out a database that is down, or one drain with
`once`; the same loop on a clock for the SLA and reports workers (clock_loop); and the
stop every worker command gets from SIGTERM/SIGINT (stop_on_signals)."""
from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable

from django.db import DatabaseError, close_old_connections

log = logging.getLogger("triage_app.workers")


def relay_loop(*, run_pass: Callable[[], tuple[int, bool]], what: str, once: bool, batch_size: int,
               interval_s: float, stop: threading.Event | None = None,
               between_passes: Callable[[], None] = lambda: None,
               ready: Callable[[], bool] = lambda: True) -> int:
    """Run passes; returns how many items were sent.

    `run_pass` sends up to `batch_size` items and says (how many were sent, whether some
    are stuck: undelivered or failed). A full pass runs the next at once; otherwise the
    loop waits `interval_s`. `ready` says whether the far side is reachable at all (not
    ready: wait, or with `once` stop). `between_passes` runs before each pass: the
    commands pass Django's close_old_connections, so a Postgres restart costs one failed
    pass, not the worker."""
    stop = stop or threading.Event()
    total = 0
    while not stop.is_set():
        between_passes()
        if not ready():
            if once:
                return total
            stop.wait(interval_s)
            continue
        try:
            sent, stuck = run_pass()
        except DatabaseError as exc:
            # Postgres down or restarting: the items wait in their outbox, so does the worker.
            log.warning("%s unreachable (%s); retrying in %.0fs", what, str(exc).splitlines()[0], interval_s)
            if once:
                raise
            stop.wait(interval_s)
            continue
        total += sent
        if once and (sent < batch_size or stuck):
            return total
        if sent < batch_size:
            stop.wait(interval_s)
    return total


def stop_on_signals() -> threading.Event:
    """An event that SIGTERM or SIGINT sets (the stack's `stop`, Ctrl-C), so a worker ends
    its current pass and exits; outside the main thread (a test running a command in a
    thread) signals cannot be caught, and the caller sets the event itself."""
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    return stop


def clock_loop(*, work: Callable[[], None], once: bool, interval_s: float, stop: threading.Event) -> None:
    """`work()` every `interval_s` until `stop` (once with `once`), riding out a database
    that is down as relay_loop does, with fresh connections before each run."""
    def run_pass() -> tuple[int, bool]:
        work()
        return 0, False  # never a "full" pass: wait `interval_s` before the next

    relay_loop(run_pass=run_pass, what="the database", once=once, batch_size=1, interval_s=interval_s, stop=stop,
               between_passes=close_old_connections)
