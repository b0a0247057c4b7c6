"""Reports worker: refreshes the operational reports' aggregates
(triage_app.services.reports_refresh, migration 0019_reports).

    python manage.py reports_worker                # a refresh every 300 s until SIGTERM/SIGINT
    python manage.py reports_worker --once         # one refresh, then exit
    python manage.py reports_worker --interval 60

The reports page reads only what the last refresh computed and says when that was, so
an admin's request never aggregates a million complaints. A database that is down costs
a refresh, not the worker.
"""
from __future__ import annotations

import logging

from django.core.management.base import BaseCommand

from triage_app import services
from triage_app.workers import clock_loop, stop_on_signals

log = logging.getLogger("triage_app.reports")


class Command(BaseCommand):
    help = "Refresh the operational reports' aggregates, on a clock (triage_app.services.reports_refresh)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--once", action="store_true", help="one refresh, then exit")
        parser.add_argument("--interval", type=float, default=300.0, help="seconds between refreshes (default 300)")

    def handle(self, *args, once: bool = False, interval: float = 300.0, **options) -> None:
        def work() -> None:
            result = services.reports_refresh()
            if once:
                self.stdout.write("another refresh was running; skipped" if result.refreshed_at is None else
                                  f"reports refreshed in {result.seconds:.1f} s ({result.outcomes_recorded} SLA "
                                  f"outcomes recorded), figures as of {result.refreshed_at.isoformat()}")

        log.info("reports worker: a refresh every %.0f s", interval)
        clock_loop(work=work, once=once, interval_s=interval, stop=stop_on_signals())
