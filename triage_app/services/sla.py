"""Service levels: the admin's SLA policy (validated, versioned, audited) and the pass
that keeps every open complaint's due times, SLA state and queue rank current
(triage_core.sla; run by manage.py sla_worker, and at once after a policy change)."""
from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import connection, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext

from triage_app import errors, live
from triage_app.errors import InvalidInput
from triage_app.models import ComplaintEvent, ServiceLevelPolicy
from triage_app.selectors import sla_policy_as_core, sla_policy_current
from triage_app.services.audit import audit_record, latest_version_locked
from triage_app.validation import number_in_range
from triage_core import sla
from triage_core.priority import CATEGORY_WEIGHTS

log = logging.getLogger("triage_app.sla")

SLA_FIELDS = sla.SLA_FIELDS
# next_check_at of an entry the clock will not change again (every clock past, ageing at
# its cap): only a score change, a reply or a new policy brings it back. NULL means "now".
NEVER = dt.datetime(9999, 12, 31, tzinfo=dt.UTC)


def sla_policy_values(policy: ServiceLevelPolicy | None) -> dict | None:
    if policy is None:
        return None
    return {"version": policy.version, **{f: getattr(policy, f) for f in SLA_FIELDS}}


def _targets_validate(raw: object, problems: dict[str, list[str]]) -> list[dict]:
    if not isinstance(raw, (list, tuple)):
        problems["targets"] = [errors.SLA_TARGETS_INVALID]
        return []
    cleaned, seen = [], set()
    for n, row in enumerate(raw, start=1):
        if not isinstance(row, Mapping):
            problems["targets"] = [errors.SLA_TARGETS_INVALID]
            return []
        band, category = row.get("band"), row.get("category") or None
        try:
            first, resolution = int(row.get("first_reply_minutes")), int(row.get("resolution_minutes"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            first = resolution = -1
        if band not in sla.BANDS or (category is not None and category not in CATEGORY_WEIGHTS) \
                or not 1 <= first <= sla.TARGET_MINUTES_MAX or not 1 <= resolution <= sla.TARGET_MINUTES_MAX \
                or first > resolution:
            problems.setdefault("targets", []).append(gettext(errors.SLA_TARGET_ROW_INVALID).format(
                row=n, bands=", ".join(sla.BANDS), categories=", ".join(CATEGORY_WEIGHTS)))
            continue
        if (band, category) in seen:
            problems.setdefault("targets", []).append(gettext(errors.SLA_TARGET_DUPLICATE).format(row=n))
            continue
        seen.add((band, category))
        cleaned.append({"band": band, "category": category, "first_reply_minutes": first,
                        "resolution_minutes": resolution})
    return cleaned


def _hours_validate(raw: object, problems: dict[str, list[str]]) -> dict | None:
    if not raw:
        return None
    if not isinstance(raw, Mapping):
        problems["business_hours"] = [errors.SLA_HOURS_INVALID]
        return None
    try:
        hours = sla.business_hours_from(raw)
        if not (0 <= hours.start_hour < hours.end_hour <= 24 and hours.weekdays
                and all(0 <= d <= 6 for d in hours.weekdays)):
            raise ValueError
        from zoneinfo import ZoneInfo

        ZoneInfo(hours.timezone)
        if hours.country:
            import holidays

            holidays.country_holidays(hours.country)
    except Exception:  # any of: not numbers, bad ranges, unknown zone or country
        problems["business_hours"] = [errors.SLA_HOURS_INVALID]
        return None
    return {"start_hour": hours.start_hour, "end_hour": hours.end_hour, "weekdays": list(hours.weekdays),
            "country": hours.country, "timezone": hours.timezone}


def sla_policy_validate(*, values: Mapping[str, object]) -> dict[str, object]:
    problems: dict[str, list[str]] = {}
    cleaned: dict[str, object] = {field: number_in_range(values, field, low, high, problems)
                                  for field, (low, high) in sla.SLA_RANGES.items()}
    cleaned["targets"] = _targets_validate(values.get("targets"), problems)
    if not problems and not cleaned["targets"]:
        problems["targets"] = [errors.SLA_TARGETS_INVALID]
    cleaned["business_hours"] = _hours_validate(values.get("business_hours"), problems)
    if problems:
        raise InvalidInput(problems)
    return cleaned


def sla_policy_create(*, by: User | None, values: Mapping[str, object]) -> ServiceLevelPolicy:
    """A new SLA policy version; every open complaint's clocks are re-evaluated under it."""
    with transaction.atomic():
        current = latest_version_locked(ServiceLevelPolicy)
        before = sla_policy_values(current) or {}
        cleaned = sla_policy_validate(values={**{k: v for k, v in before.items() if k != "version"},
                                              **{k: v for k, v in values.items() if k in SLA_FIELDS}})
        policy = ServiceLevelPolicy.objects.create(version=(current.version if current else 0) + 1,
                                                   created_by=by, **cleaned)
        audit_record(actor=by, action="sla_policy.create", entity="sla_policy", old=sla_policy_values(current),
                     new=sla_policy_values(policy))
    sla_pass(full=True)
    return policy


@dataclass(frozen=True)
class SlaPassResult:
    evaluated: int
    changed: int
    breached: int  # complaints that breached in this pass
    seconds: float


def sla_pass(*, now: dt.datetime | None = None, full: bool = False) -> SlaPassResult:
    """Due times, state and queue rank of open, scored complaints under the current SLA
    policy, written where they changed (one COPY + upsert, as the policy re-rank does).

    Only the complaints whose turn has come are read: new in the queue, a score or a
    reply changed since their last evaluation, evaluated under another policy version,
    or their next clock-driven change (triage_core.sla.next_change_at: an SLA turning at
    risk or breached, the next whole hour of waiting) has arrived. A new policy makes it
    every open complaint once; `full` too. A complaint that breaches gets a timeline
    event, and dashboards are told to refresh when any state moved."""
    started = timezone.now()
    now = now or started
    current = sla_policy_current()
    policy = sla_policy_as_core(current)
    changed: list[tuple] = []
    breached: list[tuple] = []
    evaluated, moved, written, breaches = 0, 0, 0, 0
    writer: _ChunkWriter | None = None
    for (cid, created, replied, resolved, priority, escalated, category, first_due, resolution_due, state,
         reason, rank, version, check_at, repeats) in _rows_due(now=now, version=policy.version, full=full):
        evaluated += 1
        result = sla.evaluate_sla(created_at=created, priority=priority, escalated=escalated, category=category,
                                  first_reply_at=replied, resolved_at=resolved, now=now, policy=policy)
        new_rank = sla.queue_rank(priority=priority, escalated=escalated, state=result.state,
                                  waiting_hours=(now - created).total_seconds() / 3600.0, policy=policy,
                                  repeat_contacts=repeats)
        next_at = sla.next_change_at(created_at=created, sla_result=result, first_reply_at=replied, now=now,
                                     policy=policy) or NEVER
        row = (cid, result.first_reply_due, result.resolution_due, result.state, result.reason or "", new_rank,
               policy.version, next_at)
        if row[1:] != (first_due, resolution_due, state, reason or "", rank, version, check_at):
            changed.append(row)
            written += 1
            moved += result.state != state
            if result.state == sla.BREACHED and state != sla.BREACHED:
                breached.append((cid, result.reason))
                breaches += 1
            if len(changed) >= WRITE_CHUNK:
                # A large pass: written chunk by chunk by a second connection while this
                # one reads and evaluates the next (Postgres' upsert and this loop then
                # use a core each, instead of taking turns).
                writer = writer or _ChunkWriter()
                writer.put(changed, breached)
                changed, breached = [], []
    if writer is not None:
        writer.put(changed, breached, sweep=full)
        writer.close()
        # The planner's picture of the entries' clocks is now stale (after a bulk load:
        # every next_check_at NULL), and it would read every entry for the next steady
        # passes (8 s each at 800k) until autovacuum's analyse came round.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE triage_queue_entry")
    else:
        _write(changed, breached, sweep=full)
    if moved:  # an item's SLA state, and so perhaps its place, changed: dashboards reload
        transaction.on_commit(live.queue_push_refresh)
    seconds = (timezone.now() - started).total_seconds()
    if written:
        log.info("SLA pass: %d complaints due, %d updated, %d newly breached, %.1f s (SLA policy v%d)",
                 evaluated, written, breaches, seconds, policy.version)
    return SlaPassResult(evaluated=evaluated, changed=written, breached=breaches, seconds=seconds)


# Changed entries per write of a large pass (a full pass after a policy change: 800k).
WRITE_CHUNK = 50_000


class _ChunkWriter:
    """_write() of chunks in a thread of its own, so on a connection of its own (Django's
    connections are per thread), one chunk queued while the previous one is written; each
    chunk is one transaction. An error in the thread is raised again by put() or close().

    Chunks commit separately: a pass that stops half-way leaves the entries it wrote
    correct and the rest as they were, due again at the next pass (the same as a pass
    that never ran). The sweep of resolved complaints' entries runs with the last chunk,
    after every entry this pass rewrote."""

    def __init__(self) -> None:
        self._chunks: queue.Queue = queue.Queue(maxsize=1)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="sla-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while (chunk := self._chunks.get()) is not None:
                rows, breached, sweep = chunk
                _write(rows, breached, sweep=sweep)
        except BaseException as exc:  # noqa: BLE001  (handed to the pass's thread)
            self._error = exc
            while self._chunks.get() is not None:  # let put()/close() finish
                pass
        finally:
            connections.close_all()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def put(self, rows: list[tuple], breached: list[tuple], *, sweep: bool = False) -> None:
        self._raise()
        self._chunks.put((rows, breached, sweep))

    def close(self) -> None:
        self._chunks.put(None)
        self._thread.join()
        self._raise()


_ROWS_SQL = """
    SELECT c.id, c.created_at, c.first_reply_at, c.resolved_at, s.priority, s.escalated, s.category,
           e.first_reply_due, e.resolution_due, e.sla_state, e.sla_reason, e.queue_rank, e.sla_version,
           e.next_check_at, e.repeat_contacts
    FROM triage_queue_entry e JOIN triage_complaint c ON c.id = e.complaint_id
    JOIN triage_score s ON s.complaint_id = e.complaint_id
    WHERE c.status <> 'resolved'"""
# The entries whose turn has come, each condition one an index can answer (a bitmap OR of
# five index scans: next_check_at, sla_version); "IS DISTINCT FROM the version" would be
# a scan of every entry (11 s at 800k open complaints, for a pass that finds a few hundred).
_DUE_SQL = _ROWS_SQL + """ AND e.complaint_id IN (
        SELECT complaint_id FROM triage_queue_entry
        WHERE next_check_at IS NULL OR next_check_at <= %(now)s
           OR sla_version IS NULL OR sla_version < %(version)s OR sla_version > %(version)s)"""


def _rows_due(*, now: dt.datetime, version: int, full: bool) -> Iterator[tuple]:
    """The queue entries to evaluate (sla_pass), as plain tuples from a binary server-side
    cursor: at 800k complaints the ORM's per-row conversions took two thirds of a pass."""
    with transaction.atomic():
        connection.ensure_connection()
        with connection.connection.cursor(name="sla_pass", binary=True) as cursor:
            cursor.itersize = 20000
            if full:
                cursor.execute(_ROWS_SQL)
            else:
                cursor.execute(_DUE_SQL, {"now": now, "version": version})
            yield from cursor


def _write(rows: Sequence[tuple], breached: Sequence[tuple], *, sweep: bool) -> None:
    """Upsert the queue entries of `rows`; with `sweep`, then drop any entry of a resolved
    complaint (resolving removes its entry; this catches one a pass re-wrote).

    The rank written is never below the complaint's score's own rank as it is now: a
    revision the stream escalated while this pass ran stays on top (the same rule as the
    trigger of migration 0015)."""
    with transaction.atomic(), connection.cursor() as cursor:
        _upsert(cursor, rows, breached)
        if sweep:
            cursor.execute("DELETE FROM triage_queue_entry e USING triage_complaint c"
                           " WHERE c.id = e.complaint_id AND c.status = 'resolved'")


def _upsert(cursor, rows: Sequence[tuple], breached: Sequence[tuple]) -> None:
    if not rows:
        return
    cursor.execute("CREATE TEMP TABLE sla_update (complaint_id uuid PRIMARY KEY, first_reply_due timestamptz,"
                   " resolution_due timestamptz, sla_state varchar(16), sla_reason varchar(120),"
                   " queue_rank float8, sla_version int, next_check_at timestamptz) ON COMMIT DROP")
    with cursor.copy("COPY sla_update FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    cursor.execute(
        "INSERT INTO triage_queue_entry (complaint_id, queue_rank, first_reply_due, resolution_due, sla_state,"
        " sla_reason, sla_version, next_check_at)"
        " SELECT u.complaint_id, GREATEST(u.queue_rank, s.priority + CASE WHEN s.escalated THEN %s ELSE 0 END),"
        " u.first_reply_due, u.resolution_due, u.sla_state, u.sla_reason, u.sla_version, u.next_check_at"
        " FROM sla_update u JOIN triage_score s ON s.complaint_id = u.complaint_id"
        " ON CONFLICT (complaint_id) DO UPDATE SET queue_rank = EXCLUDED.queue_rank,"
        " first_reply_due = EXCLUDED.first_reply_due, resolution_due = EXCLUDED.resolution_due,"
        " sla_state = EXCLUDED.sla_state, sla_reason = EXCLUDED.sla_reason, sla_version = EXCLUDED.sla_version,"
        " next_check_at = EXCLUDED.next_check_at",
        [sla.ESCALATED_BONUS])
    cursor.execute("DROP TABLE sla_update")
    now = timezone.now()
    with cursor.copy("COPY triage_complaint_event (complaint_id, kind, public, body, created_at) FROM STDIN") \
            as copy:
        for cid, reason in breached:
            copy.write_row((cid, ComplaintEvent.Kind.SLA_BREACHED.value, False, reason or "", now))
