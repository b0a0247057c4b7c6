"""Staff search: full text over complaints and what was said about them, with filters
and real pagination (issue 11, "Search and history").

The text of a complaint and the bodies of its notes, replies and customer messages are
searched in both languages the product serves with one PostgreSQL text-search
configuration, `russian` (SEARCH_CONFIG): it stems Cyrillic words with the Russian
Snowball stemmer and Latin-letter words with the English one and English stop words,
so "refunds" finds "refund" and "посылку" finds "посылка", in one text or a mixed one.
For English text it gives exactly what the `english` configuration gives (checked on
103,000 load-generator complaints); the product indexed both until migration 0026,
and each complaint the stream stored paid for two full-text indexes. A complaint
matches when its text or one of those bodies matches. Each column has a GIN
expression index (migrations 0012, 0026), and the query spells the indexed expressions
exactly, so each arm of the UNION below is an index scan, not a scan of every complaint.

Relevance is ts_rank of the complaint's own text, which PostgreSQL computes for every
match: affordable up to SEARCH_RANK_MAX matches.
Broader words (hundreds of thousands of complaints say "order") are listed newest
first instead, read backwards along the submission-time index until a page is full,
with no total ("more than 5,000") and a next page while there is one; ties and
searches without words go newest first too.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.paginator import Paginator
from django.db import connection
from django.db.models import BooleanField, F, QuerySet
from django.db.models.expressions import RawSQL

from triage_app import errors
from triage_app.errors import InvalidInput
from triage_app.models import Complaint, ComplaintEvent
from triage_app.selectors.teams import SEES_ALL, Viewer, holder_filters_from, queue_holder_filter
from triage_core.messages import text_storable

SEARCH_CONFIG = "russian"
# What staff and customers wrote about a complaint (the timeline's other kinds are the
# product's own words: claimed, resolved, ...).
SEARCHED_EVENT_KINDS = (ComplaintEvent.Kind.NOTE, ComplaintEvent.Kind.REPLY, ComplaintEvent.Kind.CUSTOMER_REPLY)
SEARCH_PAGE_SIZE = 50
SEARCH_PAGE_SIZE_MAX = 200
SEARCH_QUERY_MAX_CHARS = 200
# Rank by relevance when at most this many complaints match; list newest first beyond.
SEARCH_RANK_MAX = 5000


@dataclass(frozen=True)
class SearchFilters:
    q: str = ""
    status: str | None = None
    category: str | None = None
    language: str | None = None  # as the model identified it (score.language)
    escalated: bool | None = None
    since: dt.date | None = None  # submitted on or after this day (UTC)
    until: dt.date | None = None  # submitted on or before this day (UTC)
    team: int | str | None = None  # a team id, "mine", "none" (selectors.teams)
    assignee: int | str | None = None  # a user id, "me", "none"


def _matches(column: str) -> str:
    """`column` matches the query %s: the very expression its GIN index is built on."""
    return f"to_tsvector('{SEARCH_CONFIG}', {column}) @@ websearch_to_tsquery('{SEARCH_CONFIG}', %s)"


_EVENT_KINDS_SQL = ", ".join(f"'{kind.value}'" for kind in SEARCHED_EVENT_KINDS)


def _arms() -> list[str]:
    """One query per searched column, each the ids of the complaints it matches (its own
    %s), each an index scan."""
    return [f"SELECT id FROM triage_complaint WHERE {_matches('text')}",
            f"SELECT complaint_id FROM triage_complaint_event WHERE kind IN ({_EVENT_KINDS_SQL})"
            f" AND {_matches('body')}"]


def _matching_ids_sql() -> str:
    """The ids of complaints whose text, or one of whose notes, replies or messages,
    matches the query; one parameter per arm."""
    return " UNION ".join(_arms())


def _broad(q: str) -> bool:
    """Whether more than SEARCH_RANK_MAX complaints match `q` in one arm of the search:
    each arm's count stops at the limit, so a broad word costs its index's bitmap, not a
    visit to every complaint that says it."""
    with connection.cursor() as cursor:
        for arm in _arms():
            cursor.execute(f"SELECT count(*) FROM ({arm} LIMIT %s) AS arm", [q, SEARCH_RANK_MAX + 1])
            if cursor.fetchone()[0] > SEARCH_RANK_MAX:
                return True
    return False


def _match_sql() -> str:
    """The search as one condition on a complaint row (for the newest-first listing, where
    the planner walks the submission-time index and tests each row)."""
    return (f"({_matches('triage_complaint.text')} OR triage_complaint.id IN (SELECT complaint_id"
            f" FROM triage_complaint_event WHERE kind IN ({_EVENT_KINDS_SQL}) AND {_matches('body')}))")


def _rank_sql() -> str:
    return (f"ts_rank(to_tsvector('{SEARCH_CONFIG}', triage_complaint.text),"
            f" websearch_to_tsquery('{SEARCH_CONFIG}', %s))")


def complaint_search(filters: SearchFilters, *, viewer: Viewer = SEES_ALL, ranked: bool = True) -> QuerySet[Complaint]:
    """Complaints matching `filters` that `viewer` may see, best match first (`ranked`),
    else newest first."""
    # "queue" too: each result is shown as a queue item, with its SLA clocks.
    complaints = (Complaint.objects.select_related("score", "claimed_by", "queue", "team")
                  .filter(viewer.visible(), queue_holder_filter(team=filters.team, assignee=filters.assignee,
                                                                viewer=viewer)))
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
    arms = len(_arms())
    if not ranked:
        return (complaints.filter(RawSQL(_match_sql(), [filters.q] * arms, output_field=BooleanField()))
                .order_by("-created_at", "id"))
    complaints = complaints.filter(id__in=RawSQL(_matching_ids_sql(), [filters.q] * arms))
    return (complaints.annotate(rank=RawSQL(_rank_sql(), [filters.q]))
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
    team, assignee = holder_filters_from(params, problems)
    filters = SearchFilters(q=q, status=status, category=text("category"), language=text("language", 16),
                            escalated=escalated, since=day("since"), until=day("until"), team=team, assignee=assignee)
    if filters.since and filters.until and filters.since > filters.until:
        problems["until"] = [errors.SEARCH_DATES_REVERSED]
    if problems:
        raise InvalidInput(problems)
    return filters


def search_page(filters: SearchFilters, *, viewer: Viewer = SEES_ALL, page: int = 1,
                page_size: int = SEARCH_PAGE_SIZE) -> dict:
    """One page of complaint_search: {"count", "page", "pages", "page_size", "has_next",
    "order", "complaints"}. Ranked ("relevance") when at most SEARCH_RANK_MAX complaints
    match, with the exact count and pages (a page past the last is the last); else
    "newest", with count and pages None and `has_next` from one row past the page."""
    size = min(SEARCH_PAGE_SIZE_MAX, page_size)
    if filters.q and _broad(filters.q):
        rows = list(complaint_search(filters, viewer=viewer, ranked=False)[(page - 1) * size:page * size + 1])
        return {"count": None, "page": page, "pages": None, "page_size": size, "has_next": len(rows) > size,
                "order": "newest", "complaints": rows[:size]}
    paginator = Paginator(complaint_search(filters, viewer=viewer), size)
    current = paginator.get_page(page)
    return {"count": paginator.count, "page": current.number, "pages": paginator.num_pages,
            "page_size": paginator.per_page, "has_next": current.has_next(),
            "order": "relevance" if filters.q else "newest", "complaints": list(current.object_list)}


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
