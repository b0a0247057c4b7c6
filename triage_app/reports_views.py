"""The admins' operational reports (selectors/reports.py): the page with its charts and
tables, and each table as a CSV file. Both read the aggregates the reports worker
refreshed; a wrong filter is a 400 that names it."""
from __future__ import annotations

import csv

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, pgettext

from triage_app import selectors
from triage_app.errors import InvalidInput
from triage_app.selectors.reports import NO_CATEGORY_PARAM
from triage_app.views import admin_required
from triage_core.reports import GRAINS, NO_CATEGORY, age_bucket_bounds

GRAIN_LABELS = {"day": gettext_lazy("day"), "week": gettext_lazy("week"), "month": gettext_lazy("month")}


def _filters(request: HttpRequest) -> tuple[selectors.ReportFilters | None, dict[str, list[str]], dict]:
    choices = selectors.report_choices()
    try:
        filters = selectors.report_filters_from(request.GET, today=timezone.now().date(), choices=choices)
    except InvalidInput as exc:
        return None, {field: [gettext(m) for m in messages] for field, messages in exc.errors.items()}, choices
    return filters, {}, choices


def age_bucket_label(index: int) -> str:
    """"< 1 h", "4–24 h", "1–3 d", "≥ 30 d": a backlog bucket in the admin's units."""
    lower, upper = age_bucket_bounds(index)

    def amount(hours: int) -> str:
        return f"{hours // 24} {gettext('d')}" if hours > 24 else f"{hours} {gettext('h')}"

    if upper is None:
        return f"≥ {amount(lower)}"
    if not lower:
        return f"< {amount(upper)}"
    if upper > 24:
        return f"{lower // 24}–{upper // 24} {gettext('d')}"
    return f"{lower}–{upper} {gettext('h')}"


def reports_strings() -> dict:
    """What reports.js writes on the charts, in the admin's language."""
    return {
        "received": gettext("Complaints received"), "resolved": gettext("Of those, resolved"),
        "first_reply_p50": gettext("First reply, median"), "first_reply_p90": gettext("First reply, p90"),
        "resolution_p50": gettext("Resolution, median"), "resolution_p90": gettext("Resolution, p90"),
        "hours": gettext("hours"), "first_reply_sla": gettext("First reply within SLA"),
        "resolution_sla": gettext("Resolution within SLA"), "share": gettext("share of finished clocks"),
        "open": gettext("Open"), "agent_resolved": pgettext("report: a count", "Resolved"),
        "complaints": gettext("complaints"), "no_category": gettext("(none)"),
    }


@admin_required
def reports_page(request: HttpRequest) -> HttpResponse:
    filters, problems, choices = _filters(request)
    report = selectors.report_page(filters) if filters else None
    if report:
        for bucket in report["backlog"]:
            bucket["label"] = age_bucket_label(bucket["bucket"])
    form = {"since": request.GET.get("since") or (filters.since.isoformat() if filters else ""),
            "until": request.GET.get("until") or (filters.until.isoformat() if filters else ""),
            "grain": request.GET.get("grain") or "day"}
    return render(request, "triage_app/reports.html", {
        "filters": filters, "problems": problems, "params": request.GET, "form": form,
        "query": request.GET.urlencode(), "report": report,
        "choices": choices, "grains": [(g, GRAIN_LABELS[g]) for g in GRAINS], "no_category": NO_CATEGORY,
        "no_category_param": NO_CATEGORY_PARAM, "csv_names": list(selectors.REPORT_CSV),
        "chart": _chart_data(report) if report else None,
    }, status=400 if problems else 200)


def _chart_data(report: dict) -> dict:
    """What the charts draw (reports.js): only numbers and labels, times in hours."""
    periods = report["periods"]

    def hours(name: str) -> list[float | None]:
        return [None if p[name] is None else round(p[name] / 3600, 2) for p in periods]

    return {
        "labels": [p["period"].isoformat() for p in periods],
        "received": [p["received"] for p in periods], "resolved": [p["resolved"] for p in periods],
        "volume_by_category": report["volume_by_category"],
        **{name: hours(name) for name in ("first_reply_p50", "first_reply_p90", "resolution_p50", "resolution_p90")},
        "first_reply_sla": [p["first_reply_sla"] for p in periods],
        "resolution_sla": [p["resolution_sla"] for p in periods],
        "backlog": {"labels": [b["label"] for b in report["backlog"]],
                    "by_category": {c: [b["by_category"].get(c, 0) for b in report["backlog"]]
                                    for c in sorted({c for b in report["backlog"] for c in b["by_category"]})}},
        "agents": {"labels": [a["agent"] for a in report["agents"][:20]],
                   "open": [a["open"] for a in report["agents"][:20]],
                   "resolved": [a["resolved"] for a in report["agents"][:20]]},
        "strings": reports_strings(),
    }


@admin_required
def reports_csv(request: HttpRequest, name: str) -> HttpResponse:
    if name not in selectors.REPORT_CSV:
        raise Http404
    filters, problems, _ = _filters(request)
    if filters is None:
        lines = [f"{field}: {message}" for field, messages in problems.items() for message in messages]
        return HttpResponse("\n".join(lines) + "\n", status=400, content_type="text/plain; charset=utf-8")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (f'attachment; filename="triage-{name}-{filters.first_day.isoformat()}-'
                                       f'{filters.last_day.isoformat()}.csv"')
    csv.writer(response).writerows(selectors.report_csv(name, filters))
    return response
