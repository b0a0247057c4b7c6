"""Staff search: full text over complaints and what was said about them, with filters
and real pagination (issue 11, "Search and history").

The text of a complaint and the bodies of its notes, replies and customer messages are
searched in both languages the product serves, each with its own PostgreSQL text-search
configuration (`english`, `russian`: stemming, so "refunds" finds "refund" and
"посылку" finds "посылка"). A complaint matches when any of them matches in either
language. Each (column, language) pair has a GIN expression index (migration 0012),
and the query spells the indexed expressions exactly, so each arm of the UNION below is
an index scan, not a scan of every complaint.

Relevance is ts_rank of the complaint's own text (the better of the two languages);
ties and searches without words go newest first.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import F, QuerySet
from django.db.models.expressions import RawSQL

from triage_app import errors
from triage_app.errors import InvalidInput
from triage_app.models import Complaint, ComplaintEvent
from triage_core.messages import text_storable

SEARCH_CONFIGS = ("english", "russian")
# What staff and customers wrote about a complaint (the timeline's other kinds are the
# product's own words: claimed, resolved, ...).
SEARCHED_EVENT_KINDS = (ComplaintEvent.Kind.NOTE, ComplaintEvent.Kind.REPLY, ComplaintEvent.Kind.CUSTOMER_REPLY)
SEARCH_PAGE_SIZE = 50
SEARCH_PAGE_SIZE_MAX = 200
SEARCH_QUERY_MAX_CHARS = 200


@dataclass(frozen=True)
class SearchFilters:
    q: str = ""
    status: str | None = None
    category: str | None = None
    language: str | None = None  # as the model identified it (score.language)
    escalated: bool | None = None
    since: dt.date | None = None  # submitted on or after this day (UTC)
    until: dt.date | None = None  # submitted on or before this day (UTC)


def _matching_ids_sql() -> str:
    """The ids of complaints whose text, or one of whose notes, replies or messages,
    matches the query %s in one of SEARCH_CONFIGS; one parameter per arm."""
    kinds = ", ".join(f"'{kind.value}'" for kind in SEARCHED_EVENT_KINDS)
    arms = [f"SELECT id FROM triage_complaint WHERE to_tsvector('{c}', text) @@ websearch_to_tsquery('{c}', %s)"
            for c in SEARCH_CONFIGS]
    arms += [f"SELECT complaint_id FROM triage_complaint_event WHERE kind IN ({kinds}) "
             f"AND to_tsvector('{c}', body) @@ websearch_to_tsquery('{c}', %s)" for c in SEARCH_CONFIGS]
    return " UNION ".join(arms)


def _rank_sql() -> str:
    return "GREATEST(" + ", ".join(
        f"ts_rank(to_tsvector('{c}', triage_complaint.text), websearch_to_tsquery('{c}', %s))"
        for c in SEARCH_CONFIGS) + ")"


def complaint_search(filters: SearchFilters) -> QuerySet[Complaint]:
    """Complaints matching `filters`, best match first (newest first without words)."""
    complaints = Complaint.objects.select_related("score", "claimed_by")
    if filters.status:
        complaints = complaints.filter(status=filters.status)
    if filters.category:
        complaints = complaints.filter(score__category=filters.category)
    if filters.language:
        complaints = complaints.filter(score__language=filters.language)
    if filters.escalated is not None:
        complaints = complaints.filter(score__escalated=filters.escalated)
    if filters.since:
        complaints = complaints.filter(created_at__date__gte=filters.since)
    if filters.until:
        complaints = complaints.filter(created_at__date__lte=filters.until)
    if not filters.q:
        return complaints.order_by("-created_at", "id")
    arms = 2 * len(SEARCH_CONFIGS)
    complaints = complaints.filter(id__in=RawSQL(_matching_ids_sql(), [filters.q] * arms))
    return (complaints.annotate(rank=RawSQL(_rank_sql(), [filters.q] * len(SEARCH_CONFIGS)))
            .order_by(F("rank").desc(), "-created_at", "id"))


def search_filters_from(params) -> SearchFilters:
    """A query string (a QueryDict or a dict) -> SearchFilters, or InvalidInput naming
    every parameter that is wrong."""
    problems: dict[str, list[str]] = {}

    def text(name: str, limit: int = 64) -> str | None:
        value = (params.get(name) or "").strip()
        if not text_storable(value):
            problems[name] = [errors.QUEUE_PARAMETER_UNSTORABLE]
        elif len(value) > limit:
            problems[name] = [errors.SEARCH_TOO_LONG.format(limit=limit)]
        return value or None

    def day(name: str) -> dt.date | None:
        raw = text(name)
        if raw is None or name in problems:
            return None
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            problems[name] = [errors.SEARCH_DATE_INVALID.format(value=raw)]
            return None

    q = text("q", SEARCH_QUERY_MAX_CHARS) or ""
    status = text("status")
    if status and status not in Complaint.Status.values:
        problems["status"] = [errors.QUEUE_STATUS_UNKNOWN.format(value=status)]
    escalated_raw = text("escalated")
    escalated = {"true": True, "1": True, "false": False, "0": False, None: None}.get(escalated_raw, ...)
    if escalated is ...:
        problems["escalated"] = [errors.SEARCH_ESCALATED_INVALID.format(value=escalated_raw)]
        escalated = None
    filters = SearchFilters(q=q, status=status, category=text("category"), language=text("language", 16),
                            escalated=escalated, since=day("since"), until=day("until"))
    if filters.since and filters.until and filters.since > filters.until:
        problems["until"] = [errors.SEARCH_DATES_REVERSED]
    if problems:
        raise InvalidInput(problems)
    return filters


def search_page(filters: SearchFilters, *, page: int = 1, page_size: int = SEARCH_PAGE_SIZE) -> dict:
    """One page of complaint_search: {"count", "page", "pages", "page_size", "complaints"}.
    A page past the last is the last (an empty result is page 1 of 1)."""
    from django.core.paginator import Paginator

    paginator = Paginator(complaint_search(filters), min(SEARCH_PAGE_SIZE_MAX, page_size))
    current = paginator.get_page(page)
    return {"count": paginator.count, "page": current.number, "pages": paginator.num_pages,
            "page_size": paginator.per_page, "complaints": list(current.object_list)}


def search_paging_from(params) -> tuple[int, int]:
    """(page, page size) from a query string, or InvalidInput naming `page`."""
    try:
        page = int(params.get("page") or 1)
        size = int(params.get("page_size") or SEARCH_PAGE_SIZE)
    except ValueError:
        raise InvalidInput({"page": [errors.SEARCH_PAGE_INVALID]}) from None
    if page < 1 or size < 1:
        raise InvalidInput({"page": [errors.SEARCH_PAGE_INVALID]})
    return page, min(SEARCH_PAGE_SIZE_MAX, size)
