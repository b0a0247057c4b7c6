"""Every write of the triage app. Each one also tells the world after commit: the
outbox publish to Kafka, the live push to staff dashboards.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from email.utils import make_msgid
from functools import partial

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.utils import timezone

from ingest.producer import ComplaintPublisher, complaint_message, get_publisher
from triage_app import errors, live, mail
from triage_app.errors import ActionRefused, InvalidInput
from triage_app.models import (
    AuditLog,
    Complaint,
    ComplaintEvent,
    EscalationPolicy,
    Experiment,
    MailMessage,
    OutboxEntry,
    Satisfaction,
    Score,
)
from triage_app.selectors import policy_as_core, policy_current
from triage_app.serializers import user_display_name
from triage_core.config import addresses
from triage_core.messages import MAX_MESSAGE_CHARS, text_storable
from triage_core.priority import DEFAULT_POLICY, POLICY_FIELDS, POLICY_RANGES, SIGNALS, evaluate
from triage_core.routing import validate_arms

log = logging.getLogger(__name__)



# --- complaints -------------------------------------------------------------------

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
        entry = OutboxEntry.objects.create(
            complaint=complaint,
            topic=addresses().kafka_topic,
            key=str(complaint.id),
            payload=complaint_message(complaint_id=str(complaint.id), text=complaint.text,
                                      source=complaint.source, submitted_at=complaint.created_at),
        )
        mail.mail_owe(complaint=complaint, kind=MailMessage.Kind.ACKNOWLEDGEMENT)
        transaction.on_commit(partial(outbox_publish_rollback_safe, entries=[entry]))
    return complaint


def _transition(*, complaint: Complaint, kind: str, by: AbstractBaseUser, status: str | None = None,
                body: str = "", public: bool = False) -> None:
    now = timezone.now()
    update = {"updated_at": now}
    if status is not None:
        update["status"] = status
    for name, value in update.items():
        setattr(complaint, name, value)
    ComplaintEvent.objects.create(complaint=complaint, kind=kind, status=status, body=body,
                                  public=public, actor=by)


@contextmanager
def _staff_action(complaint_id) -> Iterator[Complaint]:
    """One staff action on a complaint: its row locked, its new state pushed after commit.

    SELECT ... FOR UPDATE: two staff acting at once are serialised on the row, so the
    second one sees the first one's claim instead of overwriting it.
    """
    with transaction.atomic():
        complaint = Complaint.objects.select_for_update().get(id=complaint_id)
        yield complaint
        transaction.on_commit(partial(live.queue_push_items, complaint_ids=[complaint.id]))


def _refuse_if_resolved(complaint: Complaint) -> None:
    if complaint.status == Complaint.Status.RESOLVED:
        raise ActionRefused(errors.ALREADY_RESOLVED)


def _refuse_if_claimed_by_other(complaint: Complaint, by: AbstractBaseUser) -> None:
    if complaint.claimed_by_id is not None and complaint.claimed_by_id != by.pk:
        raise ActionRefused(errors.CLAIMED_BY_OTHER.format(name=user_display_name(complaint.claimed_by)))


def complaint_claim(*, complaint_id, by: AbstractBaseUser) -> Complaint:
    with _staff_action(complaint_id) as complaint:
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


def complaint_release(*, complaint_id, by: AbstractBaseUser) -> Complaint:
    with _staff_action(complaint_id) as complaint:
        _refuse_if_resolved(complaint)
        if complaint.claimed_by_id != by.pk:
            raise ActionRefused(errors.NOT_YOUR_CLAIM)
        complaint.claimed_by = None
        complaint.claimed_at = None
        scored = Score.objects.filter(complaint_id=complaint.id).exists()
        _transition(complaint=complaint, kind=ComplaintEvent.Kind.RELEASED, by=by,
                    status=Complaint.Status.ANALYSED if scored else Complaint.Status.RECEIVED)
        complaint.save(update_fields=["claimed_by", "claimed_at", "status", "updated_at"])
    return complaint


def complaint_resolve(*, complaint_id, by: AbstractBaseUser) -> Complaint:
    with _staff_action(complaint_id) as complaint:
        _refuse_if_resolved(complaint)
        _refuse_if_claimed_by_other(complaint, by)
        complaint.claimed_by = by
        complaint.resolved_at = timezone.now()
        _transition(complaint=complaint, kind=ComplaintEvent.Kind.RESOLVED, by=by,
                    status=Complaint.Status.RESOLVED, public=True)
        complaint.save(update_fields=["claimed_by", "resolved_at", "status", "updated_at"])
        mail.mail_owe(complaint=complaint, kind=MailMessage.Kind.RESOLVED)
    return complaint


def _message_clean(body: object) -> str:
    if not isinstance(body, str) or not body.strip():
        raise InvalidInput({"body": [errors.MESSAGE_REQUIRED]})
    body = body.strip()
    if len(body) > MAX_MESSAGE_CHARS:
        raise InvalidInput({"body": [errors.MESSAGE_TOO_LONG]})
    if not text_storable(body):
        raise InvalidInput({"body": [errors.TEXT_UNSTORABLE]})
    return body


def complaint_note_add(*, complaint_id, by: AbstractBaseUser, body: object) -> ComplaintEvent:
    """An internal note: staff only, never shown to the customer."""
    with _staff_action(complaint_id) as complaint:  # an unknown complaint is refused before its body
        body = _message_clean(body)
        complaint.updated_at = timezone.now()
        complaint.save(update_fields=["updated_at"])
        event = ComplaintEvent.objects.create(complaint=complaint, kind=ComplaintEvent.Kind.NOTE,
                                              body=body, public=False, actor=by)
    return event


def complaint_reply_add(*, complaint_id, by: AbstractBaseUser, body: object) -> ComplaintEvent:
    """A reply to the customer, shown on their tracking page."""
    with _staff_action(complaint_id) as complaint:
        body = _message_clean(body)
        _refuse_if_claimed_by_other(complaint, by)
        complaint.updated_at = timezone.now()
        complaint.save(update_fields=["updated_at"])
        update = ["updated_at"]
        if complaint.status == Complaint.Status.AWAITING_STAFF:  # answered: back to the customer
            complaint.status = Complaint.Status.IN_REVIEW
            update.append("status")
        complaint.save(update_fields=update)
        event = ComplaintEvent.objects.create(complaint=complaint, kind=ComplaintEvent.Kind.REPLY,
                                              body=body, public=True, actor=by)
        mail.mail_owe(complaint=complaint, kind=MailMessage.Kind.REPLY, event=event)
    return event


@dataclass(frozen=True)
class CustomerReply:
    complaint: Complaint  # the complaint the words were attached to (a new one if `what` is new_complaint)
    what: str             # "attached", "reopened" or "new_complaint"


def complaint_customer_reply(*, complaint_id, body: object, via: str) -> CustomerReply:
    """The customer wrote again (`via` "web", the tracking page, or "mail").

    The complaint goes back to staff (awaiting_staff) and is pushed live. A resolved
    complaint is reopened within TRIAGE_REOPEN_DAYS of its resolution; after that the
    words become a new complaint that follows it (with its own acknowledgement)."""
    body = _message_clean(body)
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
        log.info("customer reply (%s) attached to complaint %s: %s", via, complaint.id, what)
        transaction.on_commit(partial(live.queue_push_items, complaint_ids=[complaint.id]))
    return CustomerReply(complaint=complaint, what=what)


def complaint_rate(*, complaint_id, rating: object, comment: object = "") -> Satisfaction:
    """The customer's satisfaction with a resolved complaint (1-5, optional comment); a
    second answer replaces the first. The agent is who resolved it."""
    try:
        value = int(rating)  # type: ignore[arg-type]
        if isinstance(rating, bool) or str(rating).strip() != str(value):
            raise ValueError
    except (TypeError, ValueError):
        value = 0
    if not 1 <= value <= 5:
        raise InvalidInput({"rating": [errors.RATING_INVALID]})
    comment = comment.strip() if isinstance(comment, str) else ""
    if comment:
        comment = _message_clean(comment)
    with transaction.atomic():
        complaint = Complaint.objects.select_for_update().get(id=complaint_id)
        if complaint.status != Complaint.Status.RESOLVED:
            raise ActionRefused(errors.RATING_NOT_RESOLVED)
        answer, _ = Satisfaction.objects.update_or_create(
            complaint=complaint, defaults={"rating": value, "comment": comment, "agent": complaint.claimed_by})
    return answer


def complaint_mail_opt_out(*, complaint_id) -> Complaint:
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


def staff_act(*, action: str, complaint_id, by: AbstractBaseUser, body: object = None) -> None:
    """Run a staff action (a key of STAFF_ACTIONS); `body` for a note or a reply."""
    service = STAFF_ACTIONS[action]
    if action in STAFF_ACTIONS_WITH_BODY:
        service(complaint_id=complaint_id, by=by, body=body)
    else:
        service(complaint_id=complaint_id, by=by)


# --- outbox -----------------------------------------------------------------------

def outbox_record_delivery(*, entry_id: int, error: str | None) -> None:
    """Record a delivery report of the Kafka producer (called from its callback)."""
    try:
        if error is None:
            OutboxEntry.objects.filter(id=entry_id, published_at__isnull=True).update(published_at=timezone.now())
        else:
            OutboxEntry.objects.filter(id=entry_id).update(last_error=error[:2000])
    except DatabaseError:
        # Runs on the producer's poll thread, outside any request: a broken connection
        # must not kill the thread. The entry stays pending and the relay resends it;
        # a duplicate is harmless because the stream upserts by complaint id.
        log.exception("could not record Kafka delivery of outbox entry %s", entry_id)
        connection.close()


def _delivery_callback(entry_id: int):
    def on_delivery(err, msg) -> None:
        outbox_record_delivery(entry_id=entry_id, error=None if err is None else str(err))
    return on_delivery


def outbox_publish(*, entries: Iterable[OutboxEntry], publisher: ComplaintPublisher | None = None) -> int:
    """Hand entries to the Kafka producer; `published_at` is set by the delivery callback."""
    publisher = publisher or get_publisher()
    entries = list(entries)
    if not entries:
        return 0
    OutboxEntry.objects.filter(id__in=[e.id for e in entries]).update(attempts=F("attempts") + 1)
    for entry in entries:
        publisher.publish(topic=entry.topic, key=entry.key, value=entry.payload,
                          on_delivery=_delivery_callback(entry.id))
    return len(entries)


def outbox_publish_rollback_safe(*, entries: Sequence[OutboxEntry]) -> None:
    """The after-commit publish of complaint_submit.

    The complaint is already committed and its outbox entry durable, so a failure here
    (no librdkafka client, local queue full) must not turn the customer's 201 into a
    500: it is logged and left to the relay.
    """
    try:
        outbox_publish(entries=entries)
    except Exception:
        log.exception("publish after commit failed; the outbox relay will retry %s",
                      [e.id for e in entries])


# --- admin settings ---------------------------------------------------------------

def policy_values(policy: EscalationPolicy | None) -> dict | None:
    if policy is None:
        return None
    return {"version": policy.version, **{f: getattr(policy, f) for f in POLICY_FIELDS}}


def _signal_triggers_validate(raw: object) -> list[str]:
    if raw is None or raw == "":
        return []
    if isinstance(raw, str):
        raw = [part.strip() for part in raw.split(",") if part.strip()]
    if not isinstance(raw, (list, tuple)) or not all(isinstance(name, str) and name in SIGNALS for name in raw):
        raise InvalidInput({"signal_triggers": [errors.POLICY_TRIGGERS_INVALID.format(known=", ".join(SIGNALS))]})
    return [name for name in SIGNALS if name in raw]


def policy_validate(*, values: Mapping[str, object]) -> dict[str, object]:
    problems: dict[str, list[str]] = {}
    cleaned: dict[str, object] = {}
    for field, (low, high) in POLICY_RANGES.items():
        raw = values.get(field)
        try:
            value = float(raw)  # type: ignore[arg-type]
            if value != value or isinstance(raw, bool):  # NaN, or a JSON boolean
                raise ValueError
        except (TypeError, ValueError):
            value = None
        if value is None or not low <= value <= high:
            problems[field] = [errors.POLICY_OUT_OF_RANGE.format(field=field.replace("_", " "), low=low, high=high)]
        else:
            cleaned[field] = value
    if not problems and sum(cleaned[f] for f in ("weight_sentiment", "weight_severity", "weight_category")) <= 0:
        # The complaint weight alone is not enough: vader gives no complaint probability.
        problems["weight_sentiment"] = [errors.POLICY_WEIGHTS_ZERO]
    try:
        cleaned["signal_triggers"] = _signal_triggers_validate(values.get("signal_triggers"))
    except InvalidInput as exc:
        problems.update(exc.errors)
    if problems:
        raise InvalidInput(problems)
    return cleaned


def audit_record(*, actor: AbstractBaseUser | None, action: str, entity: str, old: object, new: object) -> AuditLog:
    return AuditLog.objects.create(actor=actor, action=action, entity=entity, old=old, new=new)


def _latest_version_locked(model):
    """The newest row of an append-only versioned table, with the table locked for writes.

    Locking the newest row is not enough: a second admin saving at once would wait on
    it, then still see it as the newest (Postgres re-checks the locked row, not rows
    inserted meanwhile) and collide on the next version number. SHARE ROW EXCLUSIVE
    serialises writers until commit; readers (the stream) are not blocked.
    """
    with connection.cursor() as cursor:
        cursor.execute(f'LOCK TABLE "{model._meta.db_table}" IN SHARE ROW EXCLUSIVE MODE')
    return model.objects.order_by("-version").first()


def policy_create(*, by: AbstractBaseUser | None, values: Mapping[str, object]) -> EscalationPolicy:
    """A new policy version; open complaints are re-evaluated under it and pushed live.

    A field left out keeps the current policy's value (the policy's defaults when there
    is none), so a client written before a field existed does not reset it."""
    with transaction.atomic():
        current = _latest_version_locked(EscalationPolicy)
        before = policy_values(current) or {name: getattr(DEFAULT_POLICY, name) for name in POLICY_FIELDS}
        cleaned = policy_validate(values={**{k: v for k, v in before.items() if k != "version"},
                                          **{k: v for k, v in values.items() if k in POLICY_FIELDS}})
        policy = EscalationPolicy.objects.create(version=(current.version if current else 0) + 1,
                                                 created_by=by, **cleaned)
        changed = complaints_reevaluate(policy=policy)
        audit_record(actor=by, action="policy.create", entity="escalation_policy",
                     old=policy_values(current), new={**policy_values(policy), "reevaluated": changed})
        transaction.on_commit(live.queue_push_refresh)
    return policy


def complaints_reevaluate(*, policy: EscalationPolicy, complaint_ids: Iterable | None = None) -> int:
    """Re-rank open complaints under `policy`; returns how many rows changed.

    Reads plain tuples and writes with one COPY + UPDATE: an admin's policy change may
    re-rank hundreds of thousands of open complaints, and model instances with
    bulk_update's CASE expressions took minutes for 800k rows where this takes seconds.
    """
    core_policy = policy_as_core(policy)
    scores = Score.objects.exclude(complaint__status=Complaint.Status.RESOLVED)
    if complaint_ids is not None:
        scores = scores.filter(complaint_id__in=list(complaint_ids))
    changed = []
    for (complaint_id, compound, signals, category, complaint, label, language, priority, escalated,
         version) in scores.values_list(
            "complaint_id", "compound", "signals", "category", "complaint_probability", "label", "language",
            "priority", "escalated", "policy_version",
    ).iterator(chunk_size=10000):
        result = evaluate(compound=compound, signals=signals, category=category, policy=core_policy,
                          complaint=complaint, label=label, language=language)
        if (priority, escalated, version) != (result.priority, result.escalated, policy.version):
            changed.append((complaint_id, result.priority, result.escalated))
    _scores_rerank(changed, policy_version=policy.version)
    return len(changed)


def _scores_rerank(rows: Sequence[tuple], *, policy_version: int) -> None:
    if not rows:
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE score_rerank (complaint_id uuid PRIMARY KEY, priority float8,"
                       " escalated bool) ON COMMIT DROP")
        with cursor.copy("COPY score_rerank (complaint_id, priority, escalated) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute("UPDATE triage_score s SET priority = r.priority, escalated = r.escalated,"
                       " policy_version = %s FROM score_rerank r WHERE s.complaint_id = r.complaint_id",
                       [policy_version])
        cursor.execute("DROP TABLE score_rerank")


def scores_reevaluate_stale(*, complaint_ids: Sequence) -> int:
    """Re-rank just-scored complaints that a batch ranked under an older policy.

    The stream reads the policy when a micro-batch starts; an admin change committed
    while that batch ran would otherwise leave its rows on the old thresholds.
    """
    policy = policy_current()
    if policy is None:
        return 0
    stale = Score.objects.filter(complaint_id__in=list(complaint_ids), policy_version__lt=policy.version)
    ids = list(stale.values_list("complaint_id", flat=True))
    if not ids:
        return 0
    with transaction.atomic():
        return complaints_reevaluate(policy=policy, complaint_ids=ids)


def experiment_validate(*, arms: object, shadow_model: object) -> tuple[list[dict], str | None]:
    known = settings.TRIAGE_MODELS
    if not isinstance(arms, list) or not all(isinstance(a, dict) for a in arms):
        raise InvalidInput({"arms": ["Arms must be a list of {label, model, weight}."]})
    problems = validate_arms(arms)
    for arm in arms:
        model = arm.get("model")
        if model and model not in known:
            problems.append(errors.EXPERIMENT_UNKNOWN_MODEL.format(model=model, known=", ".join(known)))
        if not isinstance(arm.get("label"), str) or not arm.get("label", "").strip() or len(arm["label"]) > 16:
            problems.append("Every arm needs a label of 1 to 16 characters.")
    field_problems: dict[str, list[str]] = {}
    if problems:
        field_problems["arms"] = sorted(set(problems))
    shadow = shadow_model.strip() if isinstance(shadow_model, str) else None
    shadow = shadow or None
    if shadow is not None:
        if shadow not in known:
            field_problems["shadow_model"] = [
                errors.EXPERIMENT_UNKNOWN_MODEL.format(model=shadow, known=", ".join(known))]
        elif any(a.get("model") == shadow for a in arms):
            field_problems["shadow_model"] = [errors.EXPERIMENT_SHADOW_SERVING]
    if field_problems:
        raise InvalidInput(field_problems)
    cleaned = [{"label": a["label"].strip(), "model": a["model"], "weight": a["weight"]} for a in arms]
    return cleaned, shadow


def experiment_values(experiment: Experiment | None) -> dict | None:
    if experiment is None:
        return None
    return {"version": experiment.version, "arms": experiment.arms, "shadow_model": experiment.shadow_model}


def experiment_create(*, by: AbstractBaseUser | None, arms: object, shadow_model: object) -> Experiment:
    cleaned_arms, shadow = experiment_validate(arms=arms, shadow_model=shadow_model)
    with transaction.atomic():
        current = _latest_version_locked(Experiment)
        experiment = Experiment.objects.create(version=(current.version if current else 0) + 1,
                                               arms=cleaned_arms, shadow_model=shadow, created_by=by)
        audit_record(actor=by, action="experiment.create", entity="experiment",
                     old=experiment_values(current), new=experiment_values(experiment))
    return experiment


def experiment_restore(*, by: AbstractBaseUser | None, version: int) -> Experiment:
    """Roll back: serve an earlier version's split again, as a new (audited) version."""
    earlier = Experiment.objects.filter(version=version).first()
    if earlier is None:
        raise InvalidInput({"restore": [errors.EXPERIMENT_UNKNOWN_VERSION.format(version=version)]})
    return experiment_create(by=by, arms=earlier.arms, shadow_model=earlier.shadow_model or "")
