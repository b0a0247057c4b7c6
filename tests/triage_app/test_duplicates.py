"""Duplicates (link or merge) and repeat contact as a signal for the queue (issue 11,
"Search and history")."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from tests.triage_app.factories import complaint_make, score_make
from triage_app import errors, selectors, services
from triage_app.errors import ActionRefused, InvalidInput
from triage_app.models import Complaint, ComplaintEvent, MailMessage, QueueEntry
from triage_core import sla

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead():
    return get_user_model().objects.create_user(username="lead", password="pw-lead-123", is_staff=True)


def pair():
    original, copy = complaint_make(text="The fridge arrived dented."), complaint_make(text="Fridge dented, again!")
    for c in (original, copy):
        score_make(complaint=c)
    return original, copy


def test_linking_a_duplicate_tells_both_timelines(lead):
    original, copy = pair()
    services.complaint_link_duplicate(complaint_id=copy.id, by=lead, of=str(original.id))
    copy.refresh_from_db()
    assert copy.duplicate_of == original and copy.status == Complaint.Status.ANALYSED
    assert copy.events.get(kind=ComplaintEvent.Kind.DUPLICATE).body == f"duplicate of {original.id}"
    assert original.events.get(kind=ComplaintEvent.Kind.DUPLICATE).body == f"{copy.id} is a duplicate of this one"
    assert selectors.complaint_detail(complaint_id=original.id)["duplicates"] == [copy.id]


def test_merging_resolves_the_duplicate_into_the_original_without_a_resolved_mail(lead):
    original, copy = pair()
    services.complaint_link_duplicate(complaint_id=copy.id, by=lead, of=original.id, merge="1")
    copy.refresh_from_db()
    assert copy.status == Complaint.Status.RESOLVED and copy.resolved_at is not None
    assert not QueueEntry.objects.filter(complaint=copy).exists()
    note = original.events.get(kind=ComplaintEvent.Kind.NOTE)
    assert note.body == f"Merged duplicate {copy.id}: Fridge dented, again!" and note.actor == lead
    public = selectors.complaint_public_history(complaint=copy)
    assert public[-1]["kind"] == ComplaintEvent.Kind.MERGED and public[-1]["body"] == ""  # never which one
    assert not MailMessage.objects.filter(complaint=copy, kind=MailMessage.Kind.RESOLVED).exists()


def test_a_duplicate_that_cannot_be_says_why(lead):
    original, copy = pair()
    for of, message in [("nonsense", errors.DUPLICATE_OF_INVALID), (copy.id, errors.DUPLICATE_OF_ITSELF),
                        ("6d1f0c52-9c77-4d0f-9f7e-0b1d1c6f2a11",
                         errors.DUPLICATE_OF_UNKNOWN.format(value="6d1f0c52-9c77-4d0f-9f7e-0b1d1c6f2a11"))]:
        with pytest.raises(InvalidInput) as info:
            services.complaint_link_duplicate(complaint_id=copy.id, by=lead, of=of)
        assert info.value.errors == {"of": [message]}
    services.complaint_link_duplicate(complaint_id=copy.id, by=lead, of=original.id)
    with pytest.raises(InvalidInput) as info:  # no loop: the original cannot now duplicate its duplicate
        services.complaint_link_duplicate(complaint_id=original.id, by=lead, of=copy.id)
    assert info.value.errors == {"of": [errors.DUPLICATE_CYCLE]}
    services.complaint_resolve(complaint_id=copy.id, by=lead)
    with pytest.raises(ActionRefused):
        services.complaint_link_duplicate(complaint_id=copy.id, by=lead, of=original.id, merge=True)


def test_the_duplicate_api(client, lead):
    original, copy = pair()
    client.force_login(lead)
    url = f"/api/staff/complaints/{copy.id}/duplicate/"
    answer = client.post(url, json.dumps({"of": str(original.id), "merge": True}), content_type="application/json")
    assert answer.status_code == 200 and answer.json()["status"] == "resolved"
    refused = client.post(f"/api/staff/complaints/{original.id}/duplicate/", json.dumps({"of": 5}),
                          content_type="application/json")
    assert refused.status_code == 400 and refused.json()["of"] == [errors.DUPLICATE_OF_INVALID]


def test_repeat_contact_lifts_a_complaint_in_the_queue():
    now = timezone.now()
    for days_ago in (40, 10, 2):  # the first is outside the 30-day window
        earlier = complaint_make(email="Anna@Example.com")
        Complaint.objects.filter(id=earlier.id).update(created_at=now - dt.timedelta(days=days_ago))
    latest = complaint_make(email="anna@example.com")
    stranger = complaint_make(email="bob@example.com")
    for c in (latest, stranger):
        score_make(complaint=c, priority=30)
    entry = QueueEntry.objects.get(complaint=latest)
    assert entry.repeat_contacts == 2 and entry.queue_rank == 30 + 2 * sla.REPEAT_CONTACT_BONUS
    assert QueueEntry.objects.get(complaint=stranger).repeat_contacts == 0
    services.sla_pass(full=True)  # the SLA worker's exact rank keeps the lift
    ranks = {e.complaint_id: e.queue_rank for e in QueueEntry.objects.all()}
    assert ranks[latest.id] - ranks[stranger.id] == 2 * sla.REPEAT_CONTACT_BONUS
    item = selectors.queue_items(complaints=[Complaint.objects.select_related("score", "queue", "team")
                                             .get(id=latest.id)])[0]
    assert item["sla"]["repeat_contacts"] == 2
