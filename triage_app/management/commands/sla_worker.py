"""SLA worker: keeps every open complaint's service-level clocks and queue rank current
(triage_app.services.sla_pass, triage_core.sla).

    python manage.py sla_worker                 # a pass every 30 s until SIGTERM/SIGINT
    python manage.py sla_worker --once          # one pass, then exit
    python manage.py sla_worker --interval 10
    python manage.py sla_worker --once --full   # every open complaint, whatever its turn

Waiting time lifts a complaint in the queue and due times pass by themselves, so the
worker re-evaluates on a clock; each pass reads only the complaints whose turn has come
(new, changed, or at their next clock-driven change: services.sla_pass). A new SLA
policy is applied to every open complaint at once by the service that saves it. A
database that is down costs a pass, not the worker.
"""
from __future__ import annotations

import logging

from django.core.management.base import BaseCommand

from triage_app import services
from triage_app.workers import clock_loop, stop_on_signals

log = logging.getLogger("triage_app.sla")


class Command(BaseCommand):
    help = "Re-evaluate every open complaint's SLA clocks and queue rank, on a clock (triage_core.sla)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--once", action="store_true", help="one pass, then exit")
        parser.add_argument("--interval", type=float, default=30.0, help="seconds between passes (default 30)")
        parser.add_argument("--full", action="store_true",
                            help="evaluate every open complaint, not only those whose turn has come (with --once)")

    def handle(self, *args, once: bool = False, interval: float = 30.0, full: bool = False, **options) -> None:
        def work() -> None:
            result = services.sla_pass(full=full and once)
            if once:
                self.stdout.write(f"{result.evaluated} complaints evaluated, {result.changed} updated, "
                                  f"{result.breached} newly breached, in {result.seconds:.1f} s")

        log.info("SLA worker: a pass every %.0f s", interval)
        clock_loop(work=work, once=once, interval_s=interval, stop=stop_on_signals())
