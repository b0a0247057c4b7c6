"""Service levels in the app (triage_app/services/sla.py, the SLA worker, the queue's
order, /manage/sla/) on real PostgreSQL."""
from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.triage_app.factories import complaint_make, score_make
from triage_app import selectors, services
from triage_app.errors import InvalidInput
from triage_app.models import AuditLog, Complaint, ComplaintEvent, QueueEntry, ServiceLevelPolicy
from triage_app.services import sla as sla_service
from triage_core import sla

pytestmark = pytest.mark.django_db


def entry(complaint: Complaint) -> QueueEntry | None:
    return QueueEntry.objects.filter(complaint=complaint).first()


def aged(complaint: Complaint, hours: float) -> Complaint:
    Complaint.objects.filter(id=complaint.id).update(created_at=timezone.now() - dt.timedelta(hours=hours))
    complaint.refresh_from_db()
    return complaint


def test_the_migration_seeds_the_default_policy():
    policy = selectors.sla_policy_as_core(selectors.sla_policy_current())
    assert policy.version == 1 and policy.targets == sla.DEFAULT_TARGETS


def test_a_pass_sets_due_times_state_and_rank_of_open_scored_complaints_only():
    open_one = aged(complaint_make(text="Waiting for my refund."), hours=2)
    score_make(complaint=open_one, priority=20, escalated=False)
    done = complaint_make(text="Sorted, thanks.", status="resolved")
    score_make(complaint=done, mark_analysed=False)
    unscored = complaint_make(text="Not scored yet.")
    result = services.sla_pass()
    assert (result.evaluated, result.changed) == (1, 1)
    place = entry(open_one)
    assert place.first_reply_due == open_one.created_at + dt.timedelta(hours=24)  # band normal
    assert place.resolution_due == open_one.created_at + dt.timedelta(days=7)
    assert place.sla_state == sla.OK and place.sla_version == 1
    assert place.queue_rank == pytest.approx(22.0, abs=0.01)  # priority 20 + 2 hours of waiting
    assert entry(done) is None and entry(unscored) is None  # resolved, or not scored: not in the queue
    assert services.sla_pass().changed <= 1  # only the waiting time moves the rank


def test_a_breach_escalates_in_the_queue_with_its_reason_and_one_timeline_event():
    """An unanswered urgent complaint past its hour; a fresher, higher one stays below it.
    Mutant tried: queue_rank's breach bonus removed -> the fresh 60 ranked first."""
    late = aged(complaint_make(text="Still no answer after two hours."), hours=25)
    score_make(complaint=late, priority=5, escalated=False)  # normal band: first reply due after 24 h
    fresh = complaint_make(text="Just broke.")
    score_make(complaint=fresh, priority=60, escalated=False)
    services.sla_pass()
    services.sla_pass()
    place = entry(late)
    assert place.sla_state == sla.BREACHED and place.sla_reason.startswith("SLA breached: first reply was due")
    assert list(late.events.filter(kind=ComplaintEvent.Kind.SLA_BREACHED).values_list("body", flat=True)) == [
        place.sla_reason]
    items = selectors.queue_items(complaints=selectors.complaint_queue())
    assert [i["text"] for i in items] == ["Still no answer after two hours.", "Just broke."]
    assert items[0]["sla"]["state"] == "breached" and items[0]["sla"]["reason"] == place.sla_reason
    assert items[0]["rank"] > items[1]["rank"]


def test_a_fresh_escalation_is_on_top_before_any_sla_pass():
    """The stream's new escalation must not wait for the worker (staff see it in < 2 s)."""
    waiting = aged(complaint_make(text="Old and ageing."), hours=3)
    score_make(complaint=waiting, priority=50)
    services.sla_pass()
    new = complaint_make(text="I will sue you.")
    score_make(complaint=new, priority=40, escalated=True)
    assert [c.text for c in selectors.complaint_queue()] == ["I will sue you.", "Old and ageing."]


def test_the_first_reply_stops_the_first_clock(staff_user):
    complaint = aged(complaint_make(text="Where is my parcel?"), hours=23)
    score_make(complaint=complaint, priority=10)
    services.sla_pass()
    assert entry(complaint).sla_state == sla.AT_RISK
    services.complaint_reply_add(complaint_id=complaint.id, by=staff_user, body="On its way, sorry.")
    services.sla_pass()
    complaint.refresh_from_db()
    assert complaint.first_reply_at is not None and entry(complaint).sla_state == sla.OK


def test_a_new_policy_is_validated_audited_and_applied_at_once(admin_user):
    complaint = aged(complaint_make(text="Charged twice."), hours=2)
    score_make(complaint=complaint, priority=20, category="billing")
    with pytest.raises(InvalidInput) as caught:
        services.sla_policy_create(by=admin_user, values={"targets": [
            {"band": "someday", "first_reply_minutes": 10, "resolution_minutes": 20},
            {"band": "high", "first_reply_minutes": 60, "resolution_minutes": 30},
            {"band": "normal", "first_reply_minutes": 60, "resolution_minutes": 90},
            {"band": "normal", "first_reply_minutes": 30, "resolution_minutes": 90},
        ], "business_hours": {"start_hour": 18, "end_hour": 9}})
    assert set(caught.value.errors) == {"targets", "business_hours"}
    assert [m[:12] for m in caught.value.errors["targets"]] == ["Target row 1", "Target row 2", "Target row 4"]
    policy = services.sla_policy_create(by=admin_user, values={"targets": [
        {"band": "normal", "category": "billing", "first_reply_minutes": 60, "resolution_minutes": 600},
        {"band": "normal", "category": None, "first_reply_minutes": 600, "resolution_minutes": 6000}]})
    assert policy.version == 2 and policy.high_at == 40.0  # fields left out keep their values
    assert (entry(complaint).sla_version, entry(complaint).sla_state) == (2, sla.BREACHED)  # billing: 1 hour
    audited = AuditLog.objects.get(entity="sla_policy")
    assert (audited.actor, audited.old["version"], audited.new["version"]) == (admin_user, 1, 2)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # the command closes stale connections
def test_the_worker_command_runs_one_pass(capsys):
    score_make(complaint=aged(complaint_make(text="Hello?"), hours=1), priority=10)
    call_command("sla_worker", "--once")
    assert "1 complaints evaluated, 1 updated, 0 newly breached" in capsys.readouterr().out


def test_the_admin_page_saves_hours_as_minutes_and_names_errors(client, admin_user):
    client.force_login(admin_user)
    assert client.get("/manage/sla/").status_code == 200
    form = {"high_at": "50", "at_risk_fraction": "0.75", "ageing_per_hour": "2", "ageing_cap": "40",
            "target-count": "2", "target-0-band": "urgent", "target-0-category": "", "target-0-first": "0.5",
            "target-0-resolution": "8", "target-1-band": "", "target-1-first": "", "target-1-resolution": "",
            "business_hours": "1", "start_hour": "9", "end_hour": "17", "weekdays": ["0", "1", "2", "3", "4"],
            "country": "ru", "timezone": "Europe/Moscow"}
    response = client.post("/manage/sla/", form)
    assert response.status_code == 302
    saved = ServiceLevelPolicy.objects.order_by("-version").first()
    assert saved.targets == [{"band": "urgent", "category": None, "first_reply_minutes": 30,
                              "resolution_minutes": 480}]
    assert saved.business_hours == {"start_hour": 9, "end_hour": 17, "weekdays": [0, 1, 2, 3, 4], "country": "RU",
                                    "timezone": "Europe/Moscow"}
    bad = client.post("/manage/sla/", {**form, "timezone": "Mars/Olympus", "ageing_cap": "9999"})
    body = bad.content.decode()
    assert bad.status_code == 400 and "Business hours:" in body and "ageing cap must be between" in body


def test_the_complaint_page_shows_the_clocks_and_the_breach(client, staff_user):
    complaint = aged(complaint_make(text="Nobody has answered me."), hours=30)
    score_make(complaint=complaint, priority=10)
    services.sla_pass()
    client.force_login(staff_user)
    body = client.get(f"/staff/complaints/{complaint.id}/").content.decode()
    assert 'id="complaint-sla" data-state="breached"' in body and "SLA breached: first reply was due" in body
    assert "SLA breached" in [e.get_kind_display() for e in complaint.events.all()]


def test_every_score_write_puts_the_complaint_in_the_queue_at_its_rank_at_once(staff_user):
    """The trigger of migration 0015: a score's insert and any later update (the stream's
    upsert of a revision, a policy re-rank) lift the complaint's queue entry to at least
    the score's own rank, with no SLA pass; resolving takes it out. Mutant tried: the
    update trigger dropped -> the re-escalated complaint kept rank 10; the test failed."""
    from triage_app.models import Score

    complaint = complaint_make(text="Escalate me later.")
    score = score_make(complaint=complaint, priority=10)
    assert entry(complaint).queue_rank == 10
    Score.objects.filter(pk=score.pk).update(priority=70, escalated=True)
    assert entry(complaint).queue_rank == 70 + sla.ESCALATED_BONUS
    services.complaint_resolve(complaint_id=complaint.id, by=staff_user)
    assert entry(complaint) is None
    Score.objects.filter(pk=score.pk).update(priority=80)  # a resolved complaint does not come back
    assert entry(complaint) is None


def test_the_open_queue_is_read_from_its_index():
    from django.db import connection

    for n in range(3):
        score_make(complaint=complaint_make(text=f"Queue item {n}"), priority=n)
    sql, params = selectors.complaint_queue().query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "triage_queue_rank_idx" in plan, plan


def test_a_steady_pass_reads_only_the_complaints_whose_turn_has_come(staff_user):
    """Mutant tried: the due query without `next_check_at <= now` -> the complaint whose
    next hour came was not re-ranked; the test failed."""
    quiet = aged(complaint_make(text="Waiting quietly."), hours=2.5)
    score_make(complaint=quiet, priority=10)
    replied = aged(complaint_make(text="Waiting for an answer."), hours=2.5)
    score_make(complaint=replied, priority=10)
    assert services.sla_pass().evaluated == 2  # both new in the queue
    assert services.sla_pass().evaluated == 0  # nothing's turn yet
    services.complaint_reply_add(complaint_id=replied.id, by=staff_user, body="Looking into it.")
    assert services.sla_pass().evaluated == 1  # the reply put it back in line
    half_hour_on = timezone.now() + dt.timedelta(minutes=31)  # both pass their third whole hour
    result = services.sla_pass(now=half_hour_on)
    assert (result.evaluated, result.changed) == (2, 2)
    assert entry(quiet).queue_rank == pytest.approx(13.0)
    assert services.sla_pass(full=True).evaluated == 2
    # Long past every target, ageing at its cap: nothing more happens by itself.
    done_waiting = aged(complaint_make(text="Forgotten."), hours=24 * 30)
    score_make(complaint=done_waiting, priority=1)
    assert services.sla_pass().evaluated == 1
    assert entry(done_waiting).next_check_at == sla_service.NEVER
    assert services.sla_pass().evaluated == 0


@pytest.mark.parametrize("count", ["many", "1000000000"])
def test_a_forged_row_count_is_no_500_and_reads_no_more_than_the_form_has(client, admin_user, count):
    """Mutant tried: int(target-count) unguarded -> "many" answered 500; the test failed."""
    client.force_login(admin_user)
    form = {"high_at": "50", "at_risk_fraction": "0.75", "ageing_per_hour": "2", "ageing_cap": "40",
            "target-count": count, "target-0-band": "urgent", "target-0-first": "1", "target-0-resolution": "8"}
    response = client.post("/manage/sla/", form)
    if count == "many":
        assert response.status_code == 400 and "Give at least one target" in response.content.decode()
    else:
        assert response.status_code == 302
        assert ServiceLevelPolicy.objects.order_by("-version").first().targets == [
            {"band": "urgent", "category": None, "first_reply_minutes": 60, "resolution_minutes": 480}]


def seven_waiting() -> list[Complaint]:
    """Seven scored complaints, the odd ones 30 hours old (past the normal band's 24 h
    first reply), the even ones 2 hours."""
    complaints = []
    for n in range(7):
        complaint = aged(complaint_make(text=f"Waiting, case {n}."), hours=30 if n % 2 else 2)
        score_make(complaint=complaint, priority=10 + n)
        complaints.append(complaint)
    return complaints


def test_a_full_pass_writes_every_entry_each_breach_once_and_sweeps_resolved_ones():
    """Mutant tried: the sweep dropped from the write -> the resolved complaint kept its
    entry; the test failed."""
    complaints = seven_waiting()
    resolved = complaints[0]
    services.sla_pass()
    Complaint.objects.filter(id=resolved.id).update(status="resolved")
    QueueEntry.objects.filter(complaint__in=complaints).update(sla_version=None)
    result = services.sla_pass(full=True)
    assert (result.evaluated, result.changed, result.breached) == (6, 6, 0)  # breached in the first pass
    for n, complaint in enumerate(complaints[1:], start=1):
        place = entry(complaint)
        assert place.sla_version == 1 and place.first_reply_due == complaint.created_at + dt.timedelta(hours=24)
        assert place.sla_state == (sla.BREACHED if n % 2 else sla.OK)
        assert place.sla_reason == ("SLA breached: first reply was due "
                                    f"{place.first_reply_due.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC" if n % 2 else "")
    assert entry(resolved) is None  # swept
    assert ComplaintEvent.objects.filter(kind=ComplaintEvent.Kind.SLA_BREACHED).count() == 3
    assert services.sla_pass(full=True).changed == 0  # what it wrote reads back the same: nothing to write


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_large_pass_is_pipelined_in_chunks_with_the_same_result(monkeypatch):
    """Chunks of CHUNK_BYTES of rows, read on the caller's connection while earlier ones
    are evaluated, and written by two more connections (committed data, transaction=True:
    the writers cannot see a test's open transaction): every entry, each breach event
    once, the resolved complaint's entry swept after the chunks.
    Mutant tried: the sweep skipped after the writers -> the resolved entry stayed; failed."""
    monkeypatch.setattr(sla_service, "CHUNK_BYTES", 300)  # a row is ~200 bytes of CSV
    complaints = seven_waiting()
    resolved = complaints[0]
    Complaint.objects.filter(id=resolved.id).update(status="resolved")
    writers = []
    real = sla_service._ChunkWriter

    class Counting(real):  # type: ignore[misc, valid-type]
        def __init__(self):
            super().__init__()
            writers.append(self)

    monkeypatch.setattr(sla_service, "_ChunkWriter", Counting)
    result = services.sla_pass(full=True)
    assert len(writers) == 1, "the chunks go through the writers"
    assert (result.evaluated, result.changed, result.breached) == (6, 6, 3)
    for n, complaint in enumerate(complaints[1:], start=1):
        place = entry(complaint)
        assert place.sla_version == 1 and place.first_reply_due == complaint.created_at + dt.timedelta(hours=24)
        assert place.sla_state == (sla.BREACHED if n % 2 else sla.OK)
    assert entry(resolved) is None  # swept after the chunks
    assert ComplaintEvent.objects.filter(kind=ComplaintEvent.Kind.SLA_BREACHED).count() == 3
    assert services.sla_pass(full=True).changed == 0  # nothing left to write


def test_an_error_in_the_chunk_writer_reaches_the_pass(monkeypatch):
    def broken(chunk, *, sweep, analyze=False):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(sla_service, "_write", broken)
    writer = sla_service._ChunkWriter()
    for _ in range(3):
        writer.put(sla_service._Evaluated(updates=b"", events=b"", changed=0, breached=0, moved=0))
    with pytest.raises(RuntimeError, match="the database went away"):
        writer.close()


def test_an_error_while_reading_reaches_the_pass(monkeypatch):
    """The COPY runs in a thread: its error is the pass's, not a silent empty pass."""
    monkeypatch.setattr(sla_service, "_ROWS_SQL", sla_service._ROWS_SQL.replace("c.created_at", "c.no_such_column"))
    complaint = complaint_make(text="Waiting.")
    score_make(complaint=complaint, priority=10)
    with pytest.raises(Exception, match="no_such_column"):
        services.sla_pass(full=True)
