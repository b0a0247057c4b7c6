"""The A/B results page: per model arm counts, escalation, tone histogram, latency, agreement
with the shadow, and customer satisfaction, aggregated in Postgres."""
from __future__ import annotations

from triage_app.models import (
    Score,
)
from triage_app.selectors.sql import rows

HISTOGRAM_BINS = 20


def _bin_sql(column: str) -> str:
    # round() first so a value on a bin edge (0.4 -> 14.000000000000002) lands in its own bin
    return (f"LEAST({HISTOGRAM_BINS - 1}, GREATEST(0, "
            f"floor(round((({column} + 1) / 2 * {HISTOGRAM_BINS})::numeric, 9))))::int")


def ab_results(*, experiment_version: int | None = None) -> dict:
    """Per serving model version: counts, escalation, compound histogram, latency,
    agreement with the shadow model on the same complaints, and with staff (their
    corrections: agreement, escalation precision as staff judged it).

    Aggregated in Postgres (percentile_disc = nearest rank): the page stays fast with
    hundreds of thousands of scores, where pulling every row into Python took seconds.
    """
    where, params = ("WHERE s.experiment_version = %s", [experiment_version]) if experiment_version is not None \
        else ("", [])
    group = "s.model_name, s.model_version, s.arm"
    histograms: dict[tuple, list[int]] = {}
    for *group_key, index, count in rows(
            f"SELECT {group}, {_bin_sql('s.compound')}, count(*) FROM triage_score s {where} GROUP BY 1, 2, 3, 4",
            params):
        histograms.setdefault(tuple(group_key), [0] * HISTOGRAM_BINS)[index] = count
    agreement = {(name, version, arm): (compared, agreeing, diff)
                 for name, version, arm, compared, agreeing, diff in rows(
        f"SELECT {group}, count(*), count(*) FILTER (WHERE sh.label = s.label), avg(abs(sh.compound - s.compound))"
        f" FROM triage_shadow_score sh JOIN triage_score s ON s.complaint_id = sh.complaint_id {where}"
        f" GROUP BY 1, 2, 3", params)}
    staff = {(name, version, arm): (reviewed, corrected, escalated, wrong)
             for name, version, arm, reviewed, corrected, escalated, wrong in rows(
        # k: one row per corrected complaint, and whether staff called it over-ranked.
        f"SELECT {group}, count(*), count(k.complaint_id), count(*) FILTER (WHERE s.escalated),"
        " count(*) FILTER (WHERE s.escalated AND k.over_ranked)"
        " FROM triage_score s JOIN triage_complaint c ON c.id = s.complaint_id"
        " LEFT JOIN (SELECT complaint_id, bool_or(kind IN ('urgency_too_high', 'not_complaint')) AS over_ranked"
        "  FROM triage_correction GROUP BY complaint_id) k ON k.complaint_id = s.complaint_id"
        f" {where + ' AND' if where else 'WHERE'} (c.status = 'resolved' OR k.complaint_id IS NOT NULL)"
        " GROUP BY 1, 2, 3", params)}
    variants = []
    for (model_name, model_version, arm, count, escalated, mean_compound, mean_priority,
         scoring_p50, scoring_p95, e2e_p50, e2e_p95) in rows(
            f"SELECT {group}, count(*), count(*) FILTER (WHERE s.escalated), avg(s.compound), avg(s.priority),"
            " percentile_disc(0.5) WITHIN GROUP (ORDER BY s.scoring_ms),"
            " percentile_disc(0.95) WITHIN GROUP (ORDER BY s.scoring_ms),"
            " percentile_disc(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM s.scored_at - s.enqueued_at) * 1000),"
            " percentile_disc(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM s.scored_at - s.enqueued_at) * 1000)"
            f" FROM triage_score s {where} GROUP BY 1, 2, 3 ORDER BY s.arm, s.model_name, s.model_version", params):
        key = (model_name, model_version, arm)
        compared, agreeing, mean_diff = agreement.get(key, (0, 0, None))
        reviewed, corrected, escalated_reviewed, escalated_wrong = staff.get(key, (0, 0, 0, 0))
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
            # Staff judgement: complaints staff resolved or corrected; of those, the share
            # with no correction, and of the escalated ones the share staff did not call
            # over-ranked or no complaint at all.
            "staff_reviewed": reviewed,
            "staff_agreement": 1 - corrected / reviewed if reviewed else None,
            "staff_escalated_reviewed": escalated_reviewed,
            "staff_escalation_precision": 1 - escalated_wrong / escalated_reviewed if escalated_reviewed else None,
        })
    shadow_histograms: dict[tuple, list[int]] = {}
    for name, version, index, count in rows(
            f"SELECT model_name, model_version, {_bin_sql('compound')}, count(*) FROM triage_shadow_score"
            " GROUP BY 1, 2, 3", []):
        shadow_histograms.setdefault((name, version), [0] * HISTOGRAM_BINS)[index] = count
    shadows = [{"model_name": name, "model_version": version, "count": count, "mean_compound": mean_compound,
                "histogram": shadow_histograms.get((name, version), [0] * HISTOGRAM_BINS), "scoring_ms_p50": p50}
               for name, version, count, mean_compound, p50 in rows(
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
            for name, count, mean, satisfied in rows(
                f"SELECT {label}, count(*), avg(sa.rating), count(*) FILTER (WHERE sa.rating >= 4)"
                f" FROM triage_satisfaction sa JOIN triage_score s ON s.complaint_id = sa.complaint_id{join}"
                f" {where} GROUP BY 1 ORDER BY 1", params)]
    return results
