"""Service levels: the admin's SLA policy (validated, versioned, audited) and the pass
that keeps every open complaint's due times, SLA state and queue rank current
(triage_core.sla; run by manage.py sla_worker, and at once after a policy change)."""
from __future__ import annotations

import datetime as dt
import io
import logging
import queue
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.contrib.auth.models import User
from django.db import connection, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext
from pyarrow import csv

from triage_app import errors, live
from triage_app.errors import InvalidInput
from triage_app.models import ComplaintEvent, ServiceLevelPolicy
from triage_app.selectors import sla_policy_as_core, sla_policy_current
from triage_app.services.audit import audit_record, latest_version_locked
from triage_app.validation import number_in_range
from triage_core import sla, sla_batch
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
    policy, written where they changed (COPY + one UPDATE, as the policy re-rank does).

    Only the complaints whose turn has come are read: new in the queue, a score or a
    reply changed since their last evaluation, evaluated under another policy version,
    or their next clock-driven change (triage_core.sla.next_change_at: an SLA turning at
    risk or breached, the next whole hour of waiting) has arrived. A new policy makes it
    every open complaint once; `full` too. A complaint that breaches gets a timeline
    event, and dashboards are told to refresh when any state moved.

    The rows travel as CSV both ways (COPY; parsed and written by pyarrow) and are
    evaluated as arrays (triage_core.sla_batch): at 800k open complaints, decoding rows
    one by one and calling the per-complaint rules took ~30 s of Python. A large pass is
    a pipeline of CHUNK_BYTES chunks: Postgres sends the rows on one connection while
    this thread evaluates the chunks that have come, and two more connections write the
    evaluated chunks (_ChunkWriter), so both cores work; a pass of one chunk (the steady
    pass: a few hundred rows) reads and writes on the caller's connection."""
    started = timezone.now()
    now = now or started
    policy = sla_policy_as_core(sla_policy_current())
    evaluated = written = breaches = moved = 0
    writer: _ChunkWriter | None = None
    for rows, more in _read(now=now, version=policy.version, full=full):
        chunk = _evaluate(rows, now=now, policy=policy)
        evaluated, written = evaluated + rows.num_rows, written + chunk.changed
        breaches, moved = breaches + chunk.breached, moved + chunk.moved
        if more or writer is not None:
            writer = writer or _ChunkWriter()
            writer.put(chunk)
        else:
            _write(chunk, sweep=full, analyze=written > ANALYZE_AFTER)
    if writer is not None:
        writer.close()
        _write(None, sweep=full, analyze=written > ANALYZE_AFTER)
    if moved:  # an item's SLA state, and so perhaps its place, changed: dashboards reload
        transaction.on_commit(live.queue_push_refresh)
    seconds = (timezone.now() - started).total_seconds()
    if written:
        log.info("SLA pass: %d complaints due, %d updated, %d newly breached, %.1f s (SLA policy v%d)",
                 evaluated, written, breaches, seconds, policy.version)
    return SlaPassResult(evaluated=evaluated, changed=written, breached=breaches, seconds=seconds)


@dataclass(frozen=True)
class _Evaluated:
    """One chunk's changed entries and breach events, as CSV for COPY, and its counts."""

    updates: bytes
    events: bytes
    changed: int
    breached: int
    moved: int  # entries whose SLA state changed


def _evaluate(rows: pa.Table, *, now: dt.datetime, policy: sla.SlaPolicy) -> _Evaluated:
    result = sla_batch.evaluate(sla_batch.Complaints(
        created=_instants(rows["created_at"]), first_reply=_instants(rows["first_reply_at"]),
        resolved=_instants(rows["resolved_at"]), priority=rows["priority"].to_numpy(),
        escalated=rows["escalated"].to_numpy(zero_copy_only=False),
        category=rows["category"].to_pylist(), repeat_contacts=rows["repeat_contacts"].to_numpy()),
        now=sla_batch.micros(now), policy=policy)
    next_check = np.where(result.next_change == sla_batch.NONE, sla_batch.micros(NEVER), result.next_change)
    old_state = pc.fill_null(pc.index_in(rows["sla_state"], value_set=_STATES), -1).to_numpy()
    reason = pa.array(result.reason, type=pa.string())
    moved = result.state != old_state
    changed = ((result.first_reply_due != _instants(rows["first_reply_due"]))
               | (result.resolution_due != _instants(rows["resolution_due"])) | moved
               | pc.fill_null(pc.not_equal(reason, rows["sla_reason"]), True).to_numpy(zero_copy_only=False)
               | (result.queue_rank != rows["queue_rank"].to_numpy())
               | (policy.version != pc.fill_null(rows["sla_version"], -1).to_numpy())
               | (next_check != _instants(rows["next_check_at"])))
    state = sla_batch.STATE_NAMES[result.state]
    breached = (result.state == sla_batch.BREACHED) & (old_state != sla_batch.BREACHED)
    n_changed, n_breached = int(changed.sum()), int(breached.sum())
    changed_mask, breached_mask = pa.array(changed), pa.array(breached)
    updates = pa.Table.from_arrays([
        rows["id"].filter(changed_mask), _timestamps(result.first_reply_due[changed]),
        _timestamps(result.resolution_due[changed]), pa.array(state[changed].tolist(), type=pa.string()),
        reason.filter(changed_mask), pa.array(result.queue_rank[changed]),
        pa.array(np.full(n_changed, policy.version)), _timestamps(next_check[changed])], names=list(_UPDATE_COLUMNS))
    events = pa.Table.from_arrays([
        rows["id"].filter(breached_mask), pa.array([ComplaintEvent.Kind.SLA_BREACHED.value] * n_breached,
                                                   type=pa.string()),
        pa.array(np.zeros(n_breached, dtype=bool)), reason.filter(breached_mask),
        _timestamps(np.full(n_breached, sla_batch.micros(timezone.now())))], names=list(_EVENT_COLUMNS))
    return _Evaluated(updates=_csv(updates), events=_csv(events), changed=n_changed, breached=n_breached,
                      moved=int(moved.sum()))


# A large pass goes through in chunks of this much CSV (35k-80k rows): small enough that
# the two writers share the work evenly, large enough that a chunk's statements are few.
CHUNK_BYTES = 8 * 1024 * 1024


class _ChunkWriter:
    """_write() of chunks in `workers` threads of their own, so on connections of their own
    (Django's connections are per thread): Postgres writes two chunks at once while the
    pass's thread evaluates the next. Each chunk is one transaction. An error in a thread
    is raised again by put() or close().

    Chunks commit separately, each holding its entries' row locks only while it is
    written (the stream's score writes wait for them): a pass that stops half-way leaves
    the entries it wrote correct and the rest as they were, due again at the next pass
    (the same as a pass that never ran). The pass sweeps resolved complaints' entries
    after close(), once every chunk is in."""

    def __init__(self, workers: int = 2) -> None:
        self._chunks: queue.Queue = queue.Queue(maxsize=workers)
        self._error: BaseException | None = None
        self._threads = [threading.Thread(target=self._run, name=f"sla-writer-{n}", daemon=True)
                         for n in range(workers)]
        for thread in self._threads:
            thread.start()

    def _run(self) -> None:
        try:
            while (chunk := self._chunks.get()) is not None:
                if self._error is None:
                    _write(chunk, sweep=False)
        except BaseException as exc:  # noqa: BLE001  (handed to the pass's thread)
            self._error = exc
            while self._chunks.get() is not None:  # let put()/close() finish
                pass
        finally:
            connections.close_all()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def put(self, chunk: _Evaluated) -> None:
        self._raise()
        self._chunks.put(chunk)

    def close(self) -> None:
        for _ in self._threads:
            self._chunks.put(None)
        for thread in self._threads:
            thread.join()
        self._raise()


# Passes that change more entries than this re-analyse the table after (a bulk load: every
# next_check_at was NULL): with the planner's old picture of the clocks the next steady
# passes would read every entry (8 s each at 800k) until autovacuum's analyse came round.
ANALYZE_AFTER = 50_000

_COLUMNS = ("id", "created_at", "first_reply_at", "resolved_at", "priority", "escalated", "category",
            "first_reply_due", "resolution_due", "sla_state", "sla_reason", "queue_rank", "sla_version",
            "next_check_at", "repeat_contacts")
_INSTANT = pa.timestamp("us", tz="UTC")
_STATES = pa.array(sla.STATES)
_READ_TYPES = {"id": pa.string(), "created_at": _INSTANT, "first_reply_at": _INSTANT, "resolved_at": _INSTANT,
               "priority": pa.float64(), "escalated": pa.bool_(), "category": pa.string(),
               "first_reply_due": _INSTANT, "resolution_due": _INSTANT, "sla_state": pa.string(),
               "sla_reason": pa.string(), "queue_rank": pa.float64(), "sla_version": pa.int64(),
               "next_check_at": _INSTANT, "repeat_contacts": pa.int64()}
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


def _read(*, now: dt.datetime, version: int, full: bool) -> Iterator[tuple[pa.Table, bool]]:
    """The queue entries to evaluate, with their complaints and scores (sla_pass), in
    tables of about CHUNK_BYTES of CSV each, each with whether more rows follow. The
    caller's connection runs the COPY in a thread of this pass (psycopg's connections may
    be used from any thread; this one is not used by another until the COPY ends), so the
    rows keep coming while the caller evaluates a chunk. The rows hold no free text, so
    a line is a row."""
    blocks: queue.Queue = queue.Queue()
    sql = f"COPY ({_ROWS_SQL if full else _DUE_SQL}) TO STDOUT (FORMAT csv)"

    def send(raw) -> None:
        try:
            with raw.cursor() as cursor, cursor.copy(sql, None if full else {"now": now, "version": version}) as copy:
                for block in copy:
                    blocks.put(bytes(block))
            blocks.put(None)
        except BaseException as exc:  # noqa: BLE001  (raised again in the pass's thread)
            blocks.put(exc)

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL TimeZone = 'UTC'")  # instants as "...+00", which pyarrow reads
            cursor.execute("SET LOCAL work_mem = '256MB'")  # the joins' hash tables in memory
        sender = threading.Thread(target=send, args=(connection.connection,), name="sla-read", daemon=True)
        sender.start()
        pending, size = [], 0
        try:
            while (block := blocks.get()) is not None:
                if isinstance(block, BaseException):
                    raise block
                pending.append(block)
                size += len(block)
                if size >= CHUNK_BYTES:
                    data = b"".join(pending)
                    cut = data.rindex(b"\n") + 1
                    pending, size = [data[cut:]], len(data) - cut
                    yield _parse(data[:cut]), True
        finally:
            sender.join()
    yield _parse(b"".join(pending)), False


def _parse(data: bytes) -> pa.Table:
    if not data:
        return pa.table({name: pa.array([], type=_READ_TYPES[name]) for name in _COLUMNS})
    return csv.read_csv(io.BytesIO(data), read_options=csv.ReadOptions(column_names=_COLUMNS),
                        convert_options=csv.ConvertOptions(
                            column_types=_READ_TYPES, true_values=["t"], false_values=["f"],
                            strings_can_be_null=True, quoted_strings_can_be_null=False))


def _instants(column: pa.ChunkedArray) -> np.ndarray:
    """Microseconds since the epoch (sla_batch), NONE for NULL."""
    return pc.fill_null(column.cast(pa.int64()), sla_batch.NONE).to_numpy()


def _timestamps(micros: np.ndarray) -> pa.Array:
    """Instants for COPY, written without a zone (pyarrow writes a zoned one 20x slower)
    and read by Postgres as UTC, the session's zone in _write."""
    return pa.array(micros, type=pa.int64()).cast(pa.timestamp("us"))


def _csv(rows: pa.Table) -> bytes:
    buffer = io.BytesIO()
    csv.write_csv(rows, buffer, csv.WriteOptions(include_header=False))
    return buffer.getvalue()


# The columns of a chunk's CSV (_evaluate builds its tables by these names, _write
# copies them in by these names).
_UPDATE_COLUMNS = ("complaint_id", "first_reply_due", "resolution_due", "sla_state", "sla_reason", "queue_rank",
                   "sla_version", "next_check_at")
_EVENT_COLUMNS = ("complaint_id", "kind", "public", "body", "created_at")


def _write(chunk: _Evaluated | None, *, sweep: bool, analyze: bool = False) -> None:
    """Update the queue entries of a chunk and record its breaches in the timelines; with
    `sweep`, then drop any entry of a resolved complaint (resolving removes its entry;
    this catches one a pass re-wrote); with `analyze`, re-analyse the entries after (a
    pass that rewrote many: ANALYZE_AFTER). One transaction.

    The rank written is never below the complaint's score's own rank as it is now: a
    revision the stream escalated while this pass ran stays on top (the same rule as the
    trigger of migration 0015). An entry deleted meanwhile (resolved) stays deleted."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL TimeZone = 'UTC'")  # the chunk's instants (_timestamps)
        if chunk is not None and chunk.changed:
            cursor.execute("CREATE TEMP TABLE sla_update (complaint_id uuid, first_reply_due timestamptz,"
                           " resolution_due timestamptz, sla_state varchar(16), sla_reason varchar(120),"
                           " queue_rank float8, sla_version int, next_check_at timestamptz) ON COMMIT DROP")
            with cursor.copy(f"COPY sla_update ({', '.join(_UPDATE_COLUMNS)}) FROM STDIN (FORMAT csv)") as copy:
                copy.write(chunk.updates)
            # By each entry's and score's key: the planner's hash joins read all of both
            # tables for every chunk (1.7 s of a 3.4 s chunk of 130k at 800k open).
            cursor.execute("SET LOCAL enable_hashjoin = off")
            cursor.execute("SET LOCAL enable_mergejoin = off")
            cursor.execute(
                "UPDATE triage_queue_entry e SET"
                " queue_rank = GREATEST(u.queue_rank, s.priority + CASE WHEN s.escalated THEN %s ELSE 0 END),"
                " first_reply_due = u.first_reply_due, resolution_due = u.resolution_due,"
                " sla_state = u.sla_state, sla_reason = u.sla_reason, sla_version = u.sla_version,"
                " next_check_at = u.next_check_at"
                " FROM sla_update u JOIN triage_score s ON s.complaint_id = u.complaint_id"
                " WHERE e.complaint_id = u.complaint_id", [sla.ESCALATED_BONUS])
            cursor.execute("RESET enable_hashjoin")
            cursor.execute("RESET enable_mergejoin")
            cursor.execute("DROP TABLE sla_update")
        if chunk is not None and chunk.breached:
            with cursor.copy(f"COPY triage_complaint_event ({', '.join(_EVENT_COLUMNS)}) FROM STDIN"
                             " (FORMAT csv)") as copy:
                copy.write(chunk.events)
        if sweep:
            cursor.execute("DELETE FROM triage_queue_entry e USING triage_complaint c"
                           " WHERE c.id = e.complaint_id AND c.status = 'resolved'")
        if analyze:
            cursor.execute("ANALYZE triage_queue_entry")
