"""Every read of the triage app, shaped for the page, API or push that needs it."""
from __future__ import annotations

import email
import email.policy
import mailbox
import os
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

from django.db import connection
from django.db.models import Avg, Count, F, Max, QuerySet

from triage_app.models import (
    Complaint,
    ComplaintEvent,
    DeadLetter,
    EscalationPolicy,
    Experiment,
    MailMessage,
    OutboxEntry,
    Score,
    StreamBatch,
)
from triage_app.serializers import QueueItemOut, score_reasons
from triage_core.priority import DEFAULT_POLICY, POLICY_FIELDS, Policy, policy_from_values

QUEUE_LIMIT = 500


def user_is_staff(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.is_staff)


def user_is_triage_admin(user) -> bool:
    """Admins tune policy and experiments: superusers, or staff allowed to add a policy."""
    return user_is_staff(user) and (user.is_superuser or user.has_perm("triage_app.add_escalationpolicy"))


# --- policy and experiment --------------------------------------------------------

def policy_current() -> EscalationPolicy | None:
    return EscalationPolicy.objects.order_by("-version").first()


def policy_as_core(policy: EscalationPolicy | None) -> Policy:
    if policy is None:
        return DEFAULT_POLICY
    return policy_from_values(version=policy.version,
                              values={name: getattr(policy, name) for name in POLICY_FIELDS})


def experiment_current() -> Experiment | None:
    return Experiment.objects.order_by("-version").first()


# --- complaints -------------------------------------------------------------------

def complaint_get_by_tracking_code(*, tracking_code: str) -> Complaint | None:
    if not isinstance(tracking_code, str) or len(tracking_code) > 64:
        return None
    return Complaint.objects.select_related("score").filter(tracking_code=tracking_code).first()


# Events whose words the customer sees: staff replies and what the customer wrote.
_PUBLIC_BODIES = frozenset({ComplaintEvent.Kind.REPLY, ComplaintEvent.Kind.CUSTOMER_REPLY})


def complaint_public_history(*, complaint: Complaint) -> list[dict]:
    """What the customer may see: status changes and staff replies, never scores or notes.

    The stream marks a complaint analysed with plain SQL and no event row, so that step
    comes from the score's commit time.
    """
    history = [
        {"kind": e.kind, "status": e.status, "body": e.body if e.kind in _PUBLIC_BODIES else "",
         "at": e.created_at}
        for e in complaint.events.filter(public=True)
    ]
    score = Score.objects.filter(complaint_id=complaint.id).only("scored_at").first()
    if score is not None:
        history.append({"kind": "analysed", "status": Complaint.Status.ANALYSED, "body": "", "at": score.scored_at})
    elif complaint.status == Complaint.Status.ANALYSED:
        history.append({"kind": "analysed", "status": Complaint.Status.ANALYSED, "body": "",
                        "at": complaint.updated_at})
    history.sort(key=lambda h: h["at"])
    return history


def complaint_public_data(*, complaint: Complaint) -> dict:
    history = complaint_public_history(complaint=complaint)
    return {
        "id": str(complaint.id),
        "tracking_code": complaint.tracking_code,
        "status": complaint.status,
        "created_at": complaint.created_at.isoformat(),
        "history": [
            {"kind": h["kind"], "status": h["status"], "at": h["at"].isoformat()}
            for h in history if h["kind"] != ComplaintEvent.Kind.REPLY
        ],
        "replies": [{"body": h["body"], "at": h["at"].isoformat()}
                    for h in history if h["kind"] == ComplaintEvent.Kind.REPLY],
        "customer_messages": [{"body": h["body"], "at": h["at"].isoformat()}
                              for h in history if h["kind"] == ComplaintEvent.Kind.CUSTOMER_REPLY],
    }


def complaint_queue(*, status: str | None = None, category: str | None = None, model: str | None = None,
                    include_resolved: bool = False, limit: int = QUEUE_LIMIT) -> QuerySet[Complaint]:
    """Scored complaints, escalated first, then highest priority, then most negative."""
    complaints = Complaint.objects.filter(score__isnull=False).select_related("score", "claimed_by")
    if status:
        complaints = complaints.filter(status=status)
    elif not include_resolved:
        complaints = complaints.exclude(status=Complaint.Status.RESOLVED)
    if category:
        complaints = complaints.filter(score__category=category)
    if model:
        complaints = complaints.filter(score__model_name=model)
    return complaints.order_by("-score__escalated", "-score__priority", "score__compound", "created_at")[:limit]


def queue_item(*, complaint: Complaint, policy: Policy) -> dict:
    """One queue row for staff: what it says, where it ranks and why (serializers.QueueItemOut)."""
    return QueueItemOut(complaint, context={"policy": policy}).data


def queue_items(*, complaints: Iterable[Complaint]) -> list[dict]:
    return QueueItemOut(complaints, many=True, context={"policy": policy_as_core(policy_current())}).data


def queue_items_by_ids(*, complaint_ids: Sequence) -> list[dict]:
    complaints = Complaint.objects.filter(id__in=list(complaint_ids)).select_related("score", "claimed_by")
    return queue_items(complaints=complaints)


def queue_filter_choices() -> dict:
    return {
        "statuses": [s for s in Complaint.Status if s != Complaint.Status.RECEIVED],
        "categories": list(Score.objects.exclude(category__isnull=True).order_by("category")
                           .values_list("category", flat=True).distinct()),
        "models": list(Score.objects.order_by("model_name").values_list("model_name", flat=True).distinct()),
    }


def complaint_detail(*, complaint_id) -> dict | None:
    complaint = (Complaint.objects.select_related("score", "claimed_by")
                 .filter(id=complaint_id).first())
    if complaint is None:
        return None
    policy_row = policy_current()
    policy = policy_as_core(policy_row)
    score = getattr(complaint, "score", None)
    reasons = score_reasons(score=score, policy=policy) if score is not None and score.escalated else []
    return {
        "complaint": complaint,
        "item": queue_item(complaint=complaint, policy=policy),
        "score": score,
        "reasons": reasons,
        "policy": policy_row,
        "shadow_scores": list(complaint.shadow_scores.order_by("model_name")),
        "timeline": complaint_timeline(complaint=complaint, score=score),
        "public_history": complaint_public_history(complaint=complaint),
        "mails": list(complaint.mails.order_by("created_at", "id")),
        "follows": complaint.follows_id,
        "follow_ups": list(complaint.follow_ups.values_list("id", flat=True)),
    }


def complaint_timeline(*, complaint: Complaint, score: Score | None) -> list[dict]:
    """Everything that happened to a complaint, for staff, oldest first."""
    timeline = [
        {"kind": e.kind, "label": e.get_kind_display(), "actor": e.actor.get_username() if e.actor else "",
         "status": e.status, "body": e.body, "public": e.public, "at": e.created_at}
        for e in complaint.events.select_related("actor")
    ]
    if score is not None:
        timeline.append({"kind": "analysed", "label": "Analysed", "actor": f"{score.model_name} {score.model_version}",
                         "status": Complaint.Status.ANALYSED, "body": "", "public": True, "at": score.scored_at})
    timeline.sort(key=lambda entry: entry["at"])
    return timeline


# --- A/B results ------------------------------------------------------------------

HISTOGRAM_BINS = 20


def _bin_sql(column: str) -> str:
    # round() first so a value on a bin edge (0.4 -> 14.000000000000002) lands in its own bin
    return (f"LEAST({HISTOGRAM_BINS - 1}, GREATEST(0, "
            f"floor(round((({column} + 1) / 2 * {HISTOGRAM_BINS})::numeric, 9))))::int")


def _rows(sql: str, params: Sequence) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def ab_results(*, experiment_version: int | None = None) -> dict:
    """Per serving model version: counts, escalation, compound histogram, latency,
    and agreement with the shadow model on the same complaints.

    Aggregated in Postgres (percentile_disc = nearest rank): the page stays fast with
    hundreds of thousands of scores, where pulling every row into Python took seconds.
    """
    where, params = ("WHERE s.experiment_version = %s", [experiment_version]) if experiment_version is not None \
        else ("", [])
    group = "s.model_name, s.model_version, s.arm"
    histograms: dict[tuple, list[int]] = {}
    for *key, index, count in _rows(
            f"SELECT {group}, {_bin_sql('s.compound')}, count(*) FROM triage_score s {where} GROUP BY 1, 2, 3, 4",
            params):
        histograms.setdefault(tuple(key), [0] * HISTOGRAM_BINS)[index] = count
    agreement = {(name, version, arm): (compared, agreeing, diff)
                 for name, version, arm, compared, agreeing, diff in _rows(
        f"SELECT {group}, count(*), count(*) FILTER (WHERE sh.label = s.label), avg(abs(sh.compound - s.compound))"
        f" FROM triage_shadow_score sh JOIN triage_score s ON s.complaint_id = sh.complaint_id {where}"
        f" GROUP BY 1, 2, 3", params)}
    variants = []
    for (model_name, model_version, arm, count, escalated, mean_compound, mean_priority,
         scoring_p50, scoring_p95, e2e_p50, e2e_p95) in _rows(
            f"SELECT {group}, count(*), count(*) FILTER (WHERE s.escalated), avg(s.compound), avg(s.priority),"
            " percentile_disc(0.5) WITHIN GROUP (ORDER BY s.scoring_ms),"
            " percentile_disc(0.95) WITHIN GROUP (ORDER BY s.scoring_ms),"
            " percentile_disc(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM s.scored_at - s.enqueued_at) * 1000),"
            " percentile_disc(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM s.scored_at - s.enqueued_at) * 1000)"
            f" FROM triage_score s {where} GROUP BY 1, 2, 3 ORDER BY s.arm, s.model_name, s.model_version", params):
        key = (model_name, model_version, arm)
        compared, agreeing, mean_diff = agreement.get(key, (0, 0, None))
        variants.append({
            "model_name": model_name,
            "model_version": model_version,
            "arm": arm,
            "count": count,
            "escalated": escalated,
            "escalation_rate": escalated / count if count else 0.0,
            "mean_compound": mean_compound,
            "mean_priority": mean_priority,
            "histogram": histograms.get(key, [0] * HISTOGRAM_BINS),
            "scoring_ms_p50": scoring_p50,
            "scoring_ms_p95": scoring_p95,
            "end_to_end_ms_p50": float(e2e_p50) if e2e_p50 is not None else None,
            "end_to_end_ms_p95": float(e2e_p95) if e2e_p95 is not None else None,
            "shadow_compared": compared,
            "shadow_label_agreement": agreeing / compared if compared else None,
            "shadow_mean_abs_compound_diff": mean_diff,
        })
    shadow_histograms: dict[tuple, list[int]] = {}
    for name, version, index, count in _rows(
            f"SELECT model_name, model_version, {_bin_sql('compound')}, count(*) FROM triage_shadow_score"
            " GROUP BY 1, 2, 3", []):
        shadow_histograms.setdefault((name, version), [0] * HISTOGRAM_BINS)[index] = count
    shadows = [{"model_name": name, "model_version": version, "count": count, "mean_compound": mean_compound,
                "histogram": shadow_histograms.get((name, version), [0] * HISTOGRAM_BINS), "scoring_ms_p50": p50}
               for name, version, count, mean_compound, p50 in _rows(
                   "SELECT model_name, model_version, count(*), avg(compound),"
                   " percentile_disc(0.5) WITHIN GROUP (ORDER BY scoring_ms)"
                   " FROM triage_shadow_score GROUP BY 1, 2 ORDER BY 1, 2", [])]
    return {
        "bins": [round(-1.0 + 2.0 * i / HISTOGRAM_BINS, 2) for i in range(HISTOGRAM_BINS)],
        "variants": variants,
        "satisfaction": satisfaction_results(experiment_version=experiment_version),
        "shadows": shadows,
        "experiment_versions": list(Score.objects.order_by("-experiment_version")
                                    .values_list("experiment_version", flat=True).distinct()),
    }


SATISFACTION_GROUPS = {
    # group -> (SQL of the group's label, joins it needs)
    "arm": ("s.arm || ' · ' || s.model_name || ' ' || s.model_version", ""),
    "category": ("coalesce(s.category, '(none)')", ""),
    "agent": ("coalesce(u.username, '(nobody)')", " LEFT JOIN auth_user u ON u.id = sa.agent_id"),
}


def satisfaction_results(*, experiment_version: int | None = None) -> dict[str, list[dict]]:
    """Customers' ratings (1-5) per model arm, category and agent: count, mean, share of
    4s and 5s (aggregated in Postgres, like the rest of the A/B page)."""
    where, params = ("WHERE s.experiment_version = %s", [experiment_version]) if experiment_version is not None \
        else ("", [])
    results = {}
    for group, (label, join) in SATISFACTION_GROUPS.items():
        results[group] = [
            {"label": name, "count": count, "mean": float(mean), "satisfied": satisfied / count}
            for name, count, mean, satisfied in _rows(
                f"SELECT {label}, count(*), avg(sa.rating), count(*) FILTER (WHERE sa.rating >= 4)"
                f" FROM triage_satisfaction sa JOIN triage_score s ON s.complaint_id = sa.complaint_id{join}"
                f" {where} GROUP BY 1 ORDER BY 1", params)]
    return results


# --- pipeline health --------------------------------------------------------------

def pipeline_db_health(*, batches: int = 20) -> dict:
    """What the database says about the pipeline: backlog, throughput, dead letters."""
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    last_minute = Score.objects.filter(scored_at__gte=now - timedelta(minutes=1))
    recorded = list(StreamBatch.objects.all()[:batches])
    if recorded:
        batch_rows = [{"batch_id": b.batch_id, "rows": b.rows, "duration_ms": b.duration_ms,
                       "rows_per_s": (b.rows / (b.duration_ms / 1000.0)) if b.duration_ms else None,
                       "finished_at": b.finished_at, "source": "stream"} for b in recorded]
    else:
        # Without batch records, rows committed in one transaction share scored_at.
        batch_rows = [{"batch_id": None, "rows": g["rows"], "duration_ms": None,
                       "rows_per_s": None, "finished_at": g["scored_at"], "source": "derived",
                       "mean_scoring_ms": g["mean_scoring_ms"]}
                      for g in (Score.objects.values("scored_at").annotate(rows=Count("complaint_id"),
                                                                           mean_scoring_ms=Avg("scoring_ms"))
                                .order_by("-scored_at")[:batches])]
    processed = {}
    for row in Score.objects.values("kafka_topic", "kafka_partition").annotate(offset=Max("kafka_offset")):
        processed[(row["kafka_topic"], row["kafka_partition"])] = row["offset"]
    for row in DeadLetter.objects.values("topic", "partition").annotate(offset=Max("offset")):
        key = (row["topic"], row["partition"])
        processed[key] = max(processed.get(key, -1), row["offset"])
    return {
        "now": now,
        "scored_total": Score.objects.count(),
        "scored_last_minute": last_minute.count(),
        "rows_per_s_last_minute": last_minute.count() / 60.0,
        "latency_ms_last_minute": last_minute.aggregate(
            avg=Avg(F("scored_at") - F("enqueued_at")))["avg"],
        "waiting_for_score": Complaint.objects.filter(status=Complaint.Status.RECEIVED).count(),
        "outbox_pending": OutboxEntry.objects.filter(published_at__isnull=True).count(),
        "dead_letters_total": DeadLetter.objects.count(),
        "dead_letters_by_reason": list(DeadLetter.objects.values("reason").annotate(count=Count("id"))
                                       .order_by("-count")),
        "dead_letters_recent": list(DeadLetter.objects.all()[:20]),
        "batches": batch_rows,
        "processed_offsets": processed,
    }


# --- mail -------------------------------------------------------------------------

MAILDIR_PAGE = 100
_MAILDIR_KEY = re.compile(r"^[A-Za-z0-9._,:=-]{1,200}$")


def _maildir_summary(key: str, message: mailbox.MaildirMessage) -> dict:
    try:
        sent = parsedate_to_datetime(str(message.get("Date", "")))
    except (TypeError, ValueError):
        sent = datetime.fromtimestamp(message.get_date(), tz=UTC)
    return {"key": key, "date": sent, "to": str(message.get("To", "")), "subject": str(message.get("Subject", "")),
            "kind_language": str(message.get("Content-Language", ""))}


def maildir_recent(*, folder: Path, limit: int = MAILDIR_PAGE) -> list[dict] | None:
    """The newest `limit` messages of the local Maildir (by the time each file was
    written, read from the directory, so that only those `limit` files are opened); None
    when there is no Maildir (a deployment that sends through a real relay)."""
    folder = Path(folder)
    if not (folder / "new").is_dir():
        return None
    files = [entry for sub in ("new", "cur") for entry in os.scandir(folder / sub) if entry.is_file()]
    files.sort(key=lambda entry: entry.stat().st_mtime, reverse=True)
    box = mailbox.Maildir(folder, create=False)
    recent = []
    for entry in files[:limit]:
        key = entry.name.split(":", 1)[0]
        try:
            recent.append(_maildir_summary(key, box.get_message(key)))
        except KeyError:  # delivered to cur/ or removed meanwhile
            continue
    return recent


def maildir_message(*, folder: Path, key: str) -> dict | None:
    """One message of the Maildir, as a person reads it: headers and the text part."""
    if not _MAILDIR_KEY.match(key) or not (Path(folder) / "new").is_dir():
        return None
    box = mailbox.Maildir(folder, create=False)
    try:
        raw = box.get_bytes(key)
    except KeyError:
        return None
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    body = parsed.get_body(preferencelist=("plain",))
    return {**_maildir_summary(key, box.get_message(key)), "from": str(parsed.get("From", "")),
            "reply_to": str(parsed.get("Reply-To", "")), "message_id": str(parsed.get("Message-ID", "")),
            "in_reply_to": str(parsed.get("In-Reply-To", "")),
            "text": body.get_content() if body is not None else "",
            "has_html": parsed.get_body(preferencelist=("html",)) is not None}


def mail_outbox_summary() -> dict:
    pending = MailMessage.objects.filter(sent_at__isnull=True)
    return {"pending": pending.count(), "failing": pending.exclude(last_error="").count(),
            "sent": MailMessage.objects.filter(sent_at__isnull=False).count()}
