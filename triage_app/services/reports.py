"""Operational reports: the refresh of their materialised aggregates (migration
0019_reports), run by manage.py reports_worker and never in an admin's request.

One refresh is one transaction: the SLA outcomes of complaints resolved since the last
one, then every view REFRESHed CONCURRENTLY (the page keeps reading the previous figures
meanwhile, and sees all of the new ones at once at commit), then the time of the
figures. The backlog's ages and the SLA clocks of open complaints are taken at that time
(the transaction's now())."""
from __future__ import annotations

import bisect
import datetime as dt
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import connection, transaction

from triage_app.models import ServiceLevelPolicy
from triage_app.selectors import sla_policy_as_core
from triage_core import sla

log = logging.getLogger("triage_app.reports")

# In the order they are refreshed (none reads another).
REPORT_VIEWS = ("triage_report_period", "triage_report_backlog", "triage_report_agent_day",
                "triage_report_agent_load", "triage_report_team_day", "triage_report_team_load")
# Two workers (or a worker and `--once`) never refresh at once: the second skips its turn.
_LOCK_KEY = "triage_reports_refresh"


@dataclass(frozen=True)
class ReportsRefreshResult:
    refreshed_at: dt.datetime | None  # None: another refresh was running, this one skipped
    outcomes_recorded: int
    seconds: float


def reports_refresh() -> ReportsRefreshResult:
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(hashtext(%s))", [_LOCK_KEY])
        if not cursor.fetchone()[0]:
            log.info("reports: another refresh is running; skipped")
            return ReportsRefreshResult(refreshed_at=None, outcomes_recorded=0, seconds=0.0)
        recorded = _sla_outcomes_record()
        for view in REPORT_VIEWS:
            cursor.execute(f"REFRESH MATERIALIZED VIEW CONCURRENTLY {view}")
        seconds = time.perf_counter() - started
        cursor.execute("UPDATE triage_report_refresh SET refreshed_at = now(), seconds = %s WHERE id = 1"
                       " RETURNING refreshed_at", [seconds])
        refreshed_at = cursor.fetchone()[0]
    log.info("reports refreshed in %.1f s (%d SLA outcomes recorded)", seconds, recorded)
    return ReportsRefreshResult(refreshed_at=refreshed_at, outcomes_recorded=recorded, seconds=seconds)


_RESOLVED_UNRECORDED_SQL = """
    SELECT c.id, c.created_at, c.first_reply_at, c.resolved_at, s.priority, s.escalated, s.category
    FROM triage_complaint c
    JOIN triage_score s ON s.complaint_id = c.id
    LEFT JOIN triage_report_sla_outcome o ON o.complaint_id = c.id
    WHERE c.status = 'resolved' AND c.resolved_at IS NOT NULL AND o.resolved_at IS DISTINCT FROM c.resolved_at"""


class _PolicyAt:
    """The SLA policy in force at an instant: the latest version created by then (the
    one the queue showed the complaint under), else the first one, else the default."""

    def __init__(self) -> None:
        policies = list(ServiceLevelPolicy.objects.order_by("created_at", "version"))
        self._starts = [p.created_at for p in policies]
        self._cores = [sla_policy_as_core(p) for p in policies] or [sla_policy_as_core(None)]

    def __call__(self, at: dt.datetime) -> sla.SlaPolicy:
        return self._cores[max(0, bisect.bisect_right(self._starts, at) - 1)]


def _sla_outcomes_record() -> int:
    """The due times of every complaint resolved (again) since the last refresh, under the
    policy in force when it was resolved; outcomes of complaints no longer resolved
    (reopened, deleted) are dropped. Returns how many were recorded."""
    policy_at = _PolicyAt()
    rows = []
    for cid, created, replied, resolved, priority, escalated, category in _resolved_unrecorded():
        policy = policy_at(resolved)
        result = sla.evaluate_sla(created_at=created, priority=priority, escalated=escalated, category=category,
                                  first_reply_at=replied, resolved_at=resolved, now=resolved, policy=policy)
        rows.append((cid, resolved, result.first_reply_due, result.resolution_due, policy.version))
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM triage_report_sla_outcome o WHERE NOT EXISTS (SELECT 1 FROM triage_complaint c"
                       " WHERE c.id = o.complaint_id AND c.status = 'resolved')")
        if not rows:
            return 0
        cursor.execute("CREATE TEMP TABLE report_sla_outcome (LIKE triage_report_sla_outcome) ON COMMIT DROP")
        with cursor.copy("COPY report_sla_outcome (complaint_id, resolved_at, first_reply_due, resolution_due,"
                         " sla_version) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            "INSERT INTO triage_report_sla_outcome SELECT * FROM report_sla_outcome"
            " ON CONFLICT (complaint_id) DO UPDATE SET resolved_at = EXCLUDED.resolved_at,"
            " first_reply_due = EXCLUDED.first_reply_due, resolution_due = EXCLUDED.resolution_due,"
            " sla_version = EXCLUDED.sla_version")
        cursor.execute("DROP TABLE report_sla_outcome")
    return len(rows)


def _resolved_unrecorded() -> Iterator[tuple]:
    """Plain tuples from a binary server-side cursor (as services.sla reads the queue): the
    first refresh of a database of a million complaints reads every resolved one."""
    connection.ensure_connection()
    with connection.connection.cursor(name="report_sla_outcomes", binary=True) as cursor:
        cursor.itersize = 20000
        cursor.execute(_RESOLVED_UNRECORDED_SQL)
        yield from cursor
