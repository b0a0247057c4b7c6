"""What the database says about the pipeline."""
from __future__ import annotations

from django.db.models import Avg, Count, F, Max

from triage_app.models import (
    Complaint,
    DeadLetter,
    OutboxEntry,
    Score,
    StreamBatch,
)


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
