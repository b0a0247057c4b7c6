"""Writes on one complaint: its submission (with its Kafka message and acknowledgement
mail, in one transaction) and every staff action on it."""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import partial

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from triage_app import errors, live, mail
from triage_app.errors import ActionRefused, InvalidInput
from triage_app.models import (
    Complaint,
    ComplaintEvent,
    MailMessage,
    QueueEntry,
    Score,
    Team,
)
from triage_app.selectors.teams import complaint_visible, viewer_of
from triage_app.serializers import user_display_name
from triage_app.services.outbox import outbox_owe
from triage_app.validation import whole_id
from triage_core.messages import MAX_MESSAGE_CHARS, text_storable


def complaint_submit(*, text: str, email: str | None, source: str, preferred_language: str | None = None,
                     follows: Complaint | None = None) -> Complaint:
    """Store a complaint, the Kafka message it owes and the customer's acknowledgement
    mail, in one transaction.

    The message is published after commit; if that fails (broker down, process killed)
    the outbox entry stays unpublished and `manage.py outbox_relay` sends it later, so a
    complaint that got its 201 always reaches the stream. The mail waits in the mail
    outbox for `manage.py mail_relay` in the same way. `preferred_language` is the
    browser's (Accept-Language, or the page's language switch).
    """
    language = mail.customer_language(text=text, preferred=preferred_language)
    with transaction.atomic():
        complaint = Complaint.objects.create(text=text, email=email, source=source, language=language,
                                             follows=follows)
        ComplaintEvent.objects.create(complaint=complaint, kind=ComplaintEvent.Kind.RECEIVED,
                                      status=Complaint.Status.RECEIVED, public=True)
        outbox_owe(complaint=complaint, text=complaint.text)
        mail.mail_owe(complaint=complaint, kind=MailMessage.Kind.ACKNOWLEDGEMENT)
    return complaint


def _transition(*, complaint: Complaint, kind: str, by: User, status: str | None = None,
                body: str = "", public: bool = False) -> None:
    now = timezone.now()
    update: dict[str, object] = {"updated_at": now}
    if status is not None:
        update["status"] = status
    for name, value in update.items():
        setattr(complaint, name, value)
    ComplaintEvent.objects.create(complaint=complaint, kind=kind, status=status, body=body,
                                  public=public, actor=by)


@contextmanager
def _staff_action(complaint_id: uuid.UUID, by: User) -> Iterator[Complaint]:
    """One staff action on a complaint: its row locked, its new state pushed after commit.

    SELECT ... FOR UPDATE: two staff acting at once are serialised on the row, so the
    second one sees the first one's claim instead of overwriting it. A complaint of a team
    the staff member may not see (selectors.teams) does not exist for them.
    """
    with transaction.atomic():
        complaint = Complaint.objects.select_for_update(of=("self",)).select_related("team").get(id=complaint_id)
        if not complaint_visible(complaint=complaint, user=by):
            raise Complaint.DoesNotExist
        yield complaint
        transaction.on_commit(partial(live.queue_push_items, complaint_ids=[complaint.id]))


def _refuse_if_resolved(complaint: Complaint) -> None:
    if complaint.status == Complaint.Status.RESOLVED:
        raise ActionRefused(errors.ALREADY_RESOLVED)


def _refuse_if_claimed_by_other(complaint: Complaint, by: User) -> None:
    if complaint.claimed_by_id is not None and complaint.claimed_by_id != by.pk:
        raise ActionRefused(gettext(errors.CLAIMED_BY_OTHER).format(name=user_display_name(complaint.claimed_by)))


def complaint_claim(*, complaint_id: uuid.UUID, by: User) -> Complaint:
    with _staff_action(complaint_id, by) as complaint:
        _refuse_if_resolved(complaint)
        _refuse_if_claimed_by_other(complaint, by)
        if complaint.claimed_by_id == by.pk:
            return complaint
        complaint.claimed_by = by
        complaint.claimed_at = timezone.now()
        _transition(complaint=complaint, kind=ComplaintEvent.Kind.CLAIMED, by=by,
                    status=Complaint.Status.IN_REVIEW, public=True)
        complaint.save(update_fields=["claimed_by", "claimed_at", "status", "updated_at"])
    return complaint


def complaint_release(*, complaint_id: uuid.UUID, by: User) -> Complaint:
    with _staff_action(complaint_id, by) as complaint:
        _refuse_if_resolved(complaint)
        if complaint.claimed_by_id != by.pk:
            raise ActionRefused(errors.NOT_YOUR_CLAIM)
        complaint.claimed_by = None
        complaint.claimed_at = None
        _transition(complaint=complaint, kind=ComplaintEvent.Kind.RELEASED, by=by, status=_unheld_status(complaint))
        complaint.save(update_fields=["claimed_by", "claimed_at", "status", "updated_at"])
    return complaint


def _unheld_status(complaint: Complaint) -> str:
    """Where a complaint nobody holds stands: analysed once scored, else received."""
    scored = Score.objects.filter(complaint_id=complaint.id).exists()
    return Complaint.Status.ANALYSED if scored else Complaint.Status.RECEIVED


# An assignment field the caller did not send: left as it is.
UNCHANGED = object()


def _assignment_id(data: Mapping, name: str, problems: dict[str, list[str]]) -> object:
    """`data[name]` as an id, None (empty: clear it) or UNCHANGED (absent)."""
    if name not in data:
        return UNCHANGED
    raw = data[name]
    if raw is None or raw == "":
        return None
    if (number := whole_id(raw)) is None:
        problems[name] = [errors.ASSIGN_ID_INVALID]
        return UNCHANGED
    return number


def complaint_assign(*, complaint_id: uuid.UUID, by: User, data: Mapping) -> Complaint:
    """Give a complaint to a team and/or an agent: `data` {"team": id | null, "agent": id |
    null}, a key left out staying as it is, null clearing it. The agent must be active
    staff who can see it under its team (a member, an admin, or in no team at all); giving
    it to an agent is their claim (in review), taking it from one puts it back in line.
    Reassignment needs no claim of one's own, and each one is on the timeline (who, from
    whom, to whom)."""
    problems: dict[str, list[str]] = {}
    team_id, agent_id = _assignment_id(data, "team", problems), _assignment_id(data, "agent", problems)
    if not problems and team_id is UNCHANGED and agent_id is UNCHANGED:
        problems["team"] = [errors.ASSIGN_NOTHING]
    team = Team.objects.filter(id=team_id).first() if isinstance(team_id, int) else None
    if isinstance(team_id, int) and team is None:
        problems["team"] = [gettext(errors.TEAM_UNKNOWN).format(value=team_id)]
    agent = (User.objects.filter(id=agent_id, is_active=True, is_staff=True).first()
             if isinstance(agent_id, int) else None)
    if isinstance(agent_id, int) and agent is None:
        problems["agent"] = [gettext(errors.ASSIGN_AGENT_UNKNOWN).format(value=agent_id)]
    if problems:
        raise InvalidInput(problems)
    with _staff_action(complaint_id, by) as complaint:
        _refuse_if_resolved(complaint)
        new_team = complaint.team if team_id is UNCHANGED else team
        new_agent = complaint.claimed_by if agent_id is UNCHANGED else agent
        # An agent in teams sees only theirs (selectors.teams): they must be in this one.
        agent_teams = viewer_of(new_agent).team_ids if new_agent is not None else None
        if new_team is not None and agent_teams is not None and new_team.pk not in agent_teams:
            raise InvalidInput({"agent": [gettext(errors.ASSIGN_AGENT_NOT_IN_TEAM).format(
                name=user_display_name(new_agent), team=new_team.name)]})
        changes = []
        if new_team != complaint.team:
            changes.append(gettext("team: {old} → {new}").format(
                old=complaint.team.name if complaint.team else "—", new=new_team.name if new_team else "—"))
        if new_agent != complaint.claimed_by:
            changes.append(gettext("agent: {old} → {new}").format(
                old=user_display_name(complaint.claimed_by) if complaint.claimed_by else "—",
                new=user_display_name(new_agent) if new_agent else "—"))
        if not changes:
            return complaint
        status = None
        if new_agent != complaint.claimed_by:
            status = Complaint.Status.IN_REVIEW if new_agent is not None else _unheld_status(complaint)
            complaint.claimed_at = timezone.now() if new_agent is not None else None
        complaint.team, complaint.claimed_by = new_team, new_agent
        _transition(complaint=complaint, kind=ComplaintEvent.Kind.ASSIGNED, by=by, status=status,
                    body="; ".join(changes))
        complaint.save(update_fields=["team", "claimed_by", "claimed_at", "status", "updated_at"])
    return complaint


def complaint_link_duplicate(*, complaint_id: uuid.UUID, by: User, of: object, merge: object = False) -> Complaint:
    """Say complaint `complaint_id` is about the same matter as complaint `of`: linked
    (both timelines say so), or merged, which also resolves it into the other one: its
    text goes onto the original as a note, and its customer's page says it is handled
    with another complaint (never which: that may be another customer's). No "resolved"
    mail: the matter is not resolved, it moved."""
    try:
        of_id = uuid.UUID(str(of))
    except ValueError:
        raise InvalidInput({"of": [errors.DUPLICATE_OF_INVALID]}) from None
    if of_id == complaint_id:
        raise InvalidInput({"of": [errors.DUPLICATE_OF_ITSELF]})
    original = Complaint.objects.filter(id=of_id).first()
    if original is None or not complaint_visible(complaint=original, user=by):
        raise InvalidInput({"of": [gettext(errors.DUPLICATE_OF_UNKNOWN).format(value=of_id)]})
    chain, hops = original, 0
    while chain.duplicate_of_id is not None and hops < 100:  # no loops of duplicates
        if chain.duplicate_of_id == complaint_id:
            raise InvalidInput({"of": [errors.DUPLICATE_CYCLE]})
        chain, hops = Complaint.objects.only("id", "duplicate_of_id").get(id=chain.duplicate_of_id), hops + 1
    merging = merge in (True, "1", "true", "on")
    with _staff_action(complaint_id, by) as complaint:
        _refuse_if_resolved(complaint)
        complaint.duplicate_of = original
        fields = ["duplicate_of", "status", "updated_at"]
        if merging:
            complaint.resolved_at = timezone.now()
            # Public: its customer's page says "handled with another complaint", never which
            # (the event's body, staff only, does).
            _transition(complaint=complaint, kind=ComplaintEvent.Kind.MERGED, by=by, status=Complaint.Status.RESOLVED,
                        body=gettext("merged into {id}").format(id=original.id), public=True)
            fields.append("resolved_at")
            QueueEntry.objects.filter(complaint=complaint).delete()
            ComplaintEvent.objects.create(complaint=original, kind=ComplaintEvent.Kind.NOTE, actor=by,
                                          body=gettext("Merged duplicate {id}: {text}").format(id=complaint.id,
                                                                                               text=complaint.text))
        else:
            _transition(complaint=complaint, kind=ComplaintEvent.Kind.DUPLICATE, by=by,
                        body=gettext("duplicate of {id}").format(id=original.id))
        ComplaintEvent.objects.create(complaint=original, kind=ComplaintEvent.Kind.DUPLICATE, actor=by,
                                      body=gettext("{id} is a duplicate of this one").format(id=complaint.id))
        complaint.save(update_fields=fields)
        transaction.on_commit(partial(live.queue_push_items, complaint_ids=[original.id]))
    return complaint


def complaint_resolve(*, complaint_id: uuid.UUID, by: User) -> Complaint:
    with _staff_action(complaint_id, by) as complaint:
        _refuse_if_resolved(complaint)
        _refuse_if_claimed_by_other(complaint, by)
        complaint.claimed_by = by
        complaint.resolved_at = timezone.now()
        _transition(complaint=complaint, kind=ComplaintEvent.Kind.RESOLVED, by=by,
                    status=Complaint.Status.RESOLVED, public=True)
        complaint.save(update_fields=["claimed_by", "resolved_at", "status", "updated_at"])
        QueueEntry.objects.filter(complaint=complaint).delete()  # resolved: out of the queue
        mail.mail_owe(complaint=complaint, kind=MailMessage.Kind.RESOLVED)
    return complaint


def message_clean(body: object) -> str:
    if not isinstance(body, str) or not body.strip():
        raise InvalidInput({"body": [errors.MESSAGE_REQUIRED]})
    body = body.strip()
    if len(body) > MAX_MESSAGE_CHARS:
        raise InvalidInput({"body": [errors.MESSAGE_TOO_LONG]})
    if not text_storable(body):
        raise InvalidInput({"body": [errors.TEXT_UNSTORABLE]})
    return body


def complaint_note_add(*, complaint_id: uuid.UUID, by: User, body: object) -> ComplaintEvent:
    """An internal note: staff only, never shown to the customer."""
    with _staff_action(complaint_id, by) as complaint:  # an unknown complaint is refused before its body
        body = message_clean(body)
        complaint.updated_at = timezone.now()
        complaint.save(update_fields=["updated_at"])
        event = ComplaintEvent.objects.create(complaint=complaint, kind=ComplaintEvent.Kind.NOTE,
                                              body=body, public=False, actor=by)
    return event


def complaint_reply_add(*, complaint_id: uuid.UUID, by: User, body: object) -> ComplaintEvent:
    """A reply to the customer, shown on their tracking page."""
    with _staff_action(complaint_id, by) as complaint:
        body = message_clean(body)
        _refuse_if_claimed_by_other(complaint, by)
        complaint.updated_at = timezone.now()
        complaint.save(update_fields=["updated_at"])
        update = ["updated_at"]
        if complaint.status == Complaint.Status.AWAITING_STAFF:  # answered: back to the customer
            complaint.status = Complaint.Status.IN_REVIEW
            update.append("status")
        if complaint.first_reply_at is None:  # stops the first-reply clock (triage_core.sla)
            complaint.first_reply_at = complaint.updated_at
            update.append("first_reply_at")
            QueueEntry.objects.filter(complaint=complaint).update(next_check_at=None)  # the SLA worker's turn
        complaint.save(update_fields=update)
        event = ComplaintEvent.objects.create(complaint=complaint, kind=ComplaintEvent.Kind.REPLY,
                                              body=body, public=True, actor=by)
        mail.mail_owe(complaint=complaint, kind=MailMessage.Kind.REPLY, event=event)
    return event


# Every staff action on one complaint, by the name the staff pages use (the API names
# the two that add a message in the plural: notes, replies). Those two take a body.
STAFF_ACTIONS: Mapping[str, Callable[..., object]] = {
    "claim": complaint_claim,
    "release": complaint_release,
    "resolve": complaint_resolve,
    "note": complaint_note_add,
    "reply": complaint_reply_add,
}


STAFF_ACTIONS_WITH_BODY = frozenset({"note", "reply"})


def staff_act(*, action: str, complaint_id: uuid.UUID, by: User, body: object = None) -> None:
    """Run a staff action (a key of STAFF_ACTIONS); `body` for a note or a reply."""
    service = STAFF_ACTIONS[action]
    if action in STAFF_ACTIONS_WITH_BODY:
        service(complaint_id=complaint_id, by=by, body=body)
    else:
        service(complaint_id=complaint_id, by=by)
