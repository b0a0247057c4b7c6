"""Writes the customer makes after submitting: answers (on the tracking page or by
mail), satisfaction, unsubscribing; and the bounce for mail no complaint owns."""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from email.utils import make_msgid
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from triage_app import errors, live, mail
from triage_app.errors import ActionRefused, InvalidInput
from triage_app.models import (
    Complaint,
    ComplaintEvent,
    MailMessage,
    Satisfaction,
)
from triage_app.services.complaints import complaint_submit, message_clean
from triage_app.services.outbox import outbox_owe
from triage_core.messages import MAX_TEXT_CHARS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CustomerReply:
    complaint: Complaint  # the complaint the words were attached to (a new one if `what` is new_complaint)
    what: str             # "attached", "reopened" or "new_complaint"


def complaint_customer_reply(*, complaint_id: uuid.UUID, body: object, via: str) -> CustomerReply:
    """The customer wrote again (`via` "web", the tracking page, or "mail").

    The complaint goes back to staff (awaiting_staff) and is pushed live. A resolved
    complaint is reopened within TRIAGE_REOPEN_DAYS of its resolution; after that the
    words become a new complaint that follows it (with its own acknowledgement)."""
    body = message_clean(body)
    with transaction.atomic():
        complaint = Complaint.objects.select_for_update().get(id=complaint_id)
        now = timezone.now()
        what = "attached"
        if complaint.status == Complaint.Status.RESOLVED:
            window = timedelta(days=settings.TRIAGE_REOPEN_DAYS)
            if complaint.resolved_at is not None and now - complaint.resolved_at > window:
                follow_up = complaint_submit(text=body, email=complaint.email, source=Complaint.Source.WEB,
                                             preferred_language=complaint.language, follows=complaint)
                return CustomerReply(complaint=follow_up, what="new_complaint")
            complaint.resolved_at = None
            ComplaintEvent.objects.create(complaint=complaint, kind=ComplaintEvent.Kind.REOPENED,
                                          status=Complaint.Status.AWAITING_STAFF, public=True)
            what = "reopened"
        complaint.status = Complaint.Status.AWAITING_STAFF
        complaint.updated_at = now
        complaint.save(update_fields=["status", "resolved_at", "updated_at"])
        ComplaintEvent.objects.create(complaint=complaint, kind=ComplaintEvent.Kind.CUSTOMER_REPLY,
                                      status=Complaint.Status.AWAITING_STAFF, body=body, public=True)
        _rescore(complaint)
        log.info("customer reply (%s) attached to complaint %s: %s", via, complaint.id, what)
        transaction.on_commit(partial(live.queue_push_items, complaint_ids=[complaint.id]))
    return CustomerReply(complaint=complaint, what=what)


def _customer_words(complaint: Complaint) -> list[str]:
    return list(complaint.events.filter(kind=ComplaintEvent.Kind.CUSTOMER_REPLY)
                .order_by("created_at", "id").values_list("body", flat=True))


def _joined(first: str, words: list[str]) -> str:
    text = "\n\n".join([first, *words])
    return text if len(text) <= MAX_TEXT_CHARS else text[-MAX_TEXT_CHARS:].lstrip()


def conversation_text(complaint: Complaint) -> str:
    """What the customer has written so far, first message first: the text the stream
    scores again when they write more. Over the stream's limit, the newest part is kept."""
    return _joined(complaint.text, _customer_words(complaint))


def _rescore(complaint: Complaint) -> None:
    """The conversation so far goes to the stream as the complaint's next revision (the
    outbox, like a submission): its tone and signals can move the complaint up. The
    revision is the number of times the customer wrote again."""
    words = _customer_words(complaint)
    outbox_owe(complaint=complaint, text=_joined(complaint.text, words), revision=len(words))


def complaint_rate(*, complaint_id: uuid.UUID, rating: object, comment: object = "") -> Satisfaction:
    """The customer's satisfaction with a resolved complaint (1-5, optional comment); a
    second answer replaces the first. The agent is who resolved it."""
    try:
        value = int(rating)  # type: ignore[call-overload]
        if isinstance(rating, bool) or str(rating).strip() != str(value):
            raise ValueError
    except (TypeError, ValueError):
        value = 0
    if not 1 <= value <= 5:
        raise InvalidInput({"rating": [errors.RATING_INVALID]})
    comment = comment.strip() if isinstance(comment, str) else ""
    if comment:
        comment = message_clean(comment)
    with transaction.atomic():
        complaint = Complaint.objects.select_for_update().get(id=complaint_id)
        if complaint.status != Complaint.Status.RESOLVED:
            raise ActionRefused(errors.RATING_NOT_RESOLVED)
        answer, _ = Satisfaction.objects.update_or_create(
            complaint=complaint, defaults={"rating": value, "comment": comment, "agent": complaint.claimed_by})
    return answer


def complaint_mail_opt_out(*, complaint_id: uuid.UUID) -> Complaint:
    """No more mail about this complaint (the link in each of its mails); mail already
    owed and not yet sent is not sent either."""
    with transaction.atomic():
        complaint = Complaint.objects.select_for_update().get(id=complaint_id)
        complaint.mail_opt_out = True
        complaint.save(update_fields=["mail_opt_out"])
        MailMessage.objects.filter(complaint=complaint, sent_at__isnull=True).delete()
    return complaint


def mail_bounce(*, to: str, in_reply_to: str = "", language: str = "en") -> MailMessage | None:
    """A polite answer to a mail sent to a reply address no complaint has (unknown, or
    mistyped). Never to the product's own domain: two bounces must not answer each other."""
    domain = to.rpartition("@")[2].lower()
    if "@" not in to or domain == settings.TRIAGE_MAIL_DOMAIN.lower():
        return None
    subject, text, html = mail.render(MailMessage.Kind.BOUNCE, {"submit_url": settings.TRIAGE_PUBLIC_URL + "/"},
                                      language)
    return MailMessage.objects.create(
        kind=MailMessage.Kind.BOUNCE, to_address=to[:254], subject=subject, body_text=text, body_html=html,
        language=language, message_id=make_msgid(domain=settings.TRIAGE_MAIL_DOMAIN),
        in_reply_to=in_reply_to[:255], auto_submitted=True)
