"""The operational reports page and its CSV files (issue 11, "Operational reports"): reads
of the aggregates of migration 0019_reports, which manage.py reports_worker refreshes
(services.reports_refresh). A request reads at most a few thousand aggregated rows,
whatever the number of complaints; nothing here touches the complaint tables.

Definitions (by submission day, what "first reply" means, ...) are triage_core.reports'.
Medians and p90s are exact for each period and each filter (the aggregate holds every
combination of one category or all with one language or all); they cannot be added up,
so the breakdowns by category and language over the whole range show counts, SLA
compliance and satisfaction, which can.

Adding teams: a `team` column in the views (grouped like category), a `team` field in
ReportFilters and one more `AND team = %s` in _WHERE_SLICE.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.translation import gettext

from triage_app import errors
from triage_app.errors import InvalidInput
from triage_app.selectors.sql import rows
from triage_core.messages import text_storable
from triage_core.priority import CATEGORY_WEIGHTS
from triage_core.reports import (
    AGE_EDGES_HOURS,
    ALL,
    GRAINS,
    NO_CATEGORY,
    RANGE_DAYS_DEFAULT,
    RANGE_DAYS_MAX,
    age_bucket_bounds,
    csv_rows,
    mean,
    period_end,
    period_start,
    period_starts,
    share,
)

# The query-string value of "complaints without a category" (not scored, or a model that
# gives none), which is NO_CATEGORY in the aggregate.
NO_CATEGORY_PARAM = "none"
PARAM_MAX_CHARS = 32
# The dates a report may name: none before the epoch, none more than a year ahead (far
# enough for any complaint; and week and month arithmetic stays inside Python's dates).
DATE_MIN = dt.date(1970, 1, 1)
DATE_AHEAD_MAX = dt.timedelta(days=366)


@dataclass(frozen=True)
class ReportFilters:
    since: dt.date
    until: dt.date
    grain: str = "day"
    category: str = ALL  # a category, NO_CATEGORY, or ALL
    language: str = ALL  # a language code, or ALL

    @property
    def first_day(self) -> dt.date:
        """Weeks and months are whole: the range widened to the periods it touches."""
        return period_start(self.since, self.grain)

    @property
    def last_day(self) -> dt.date:
        return period_end(self.until, self.grain)


def report_choices() -> dict[str, list[str]]:
    """The categories and languages a report can be filtered by: those of the complaints
    so far, and the product's own (known before the first complaint is in)."""
    seen: dict[str, set[str]] = {"category": set(CATEGORY_WEIGHTS),
                                 "language": {code for code, _ in settings.LANGUAGES}}
    for column in seen:
        seen[column].update(value for (value,) in rows(
            f"SELECT DISTINCT {column} FROM triage_report_period WHERE grain = 'day' AND {column} <> %s", [ALL]))
    return {"categories": sorted(seen["category"] - {NO_CATEGORY}), "languages": sorted(seen["language"])}


def report_filters_from(params: Mapping, *, today: dt.date, choices: Mapping[str, Iterable[str]]) -> ReportFilters:
    """A query string -> ReportFilters, or InvalidInput naming every parameter that is
    wrong, in the reader's language: a date that is not one (2026-02-30) or is out of range, an end before the
    start, a range longer than RANGE_DAYS_MAX, an unknown grain, category or language,
    anything too long.
    By default the last RANGE_DAYS_DEFAULT days up to `today`, by day, everything."""
    problems: dict[str, list[str]] = {}

    def text(name: str) -> str:
        value = str(params.get(name) or "").strip()
        if not text_storable(value):
            problems[name] = [errors.QUEUE_PARAMETER_UNSTORABLE]
            return ""
        if len(value) > PARAM_MAX_CHARS:
            problems[name] = [gettext(errors.SEARCH_TOO_LONG).format(limit=PARAM_MAX_CHARS)]
            return ""
        return value

    def day(name: str) -> dt.date | None:
        raw = text(name)
        if not raw:
            return None
        try:
            value = dt.date.fromisoformat(raw)
        except ValueError:
            problems[name] = [gettext(errors.SEARCH_DATE_INVALID).format(value=raw)]
            return None
        if not DATE_MIN <= value <= today + DATE_AHEAD_MAX:
            problems[name] = [gettext(errors.REPORT_DATE_OUT_OF_RANGE).format(low=DATE_MIN.isoformat(),
                                                                     high=(today + DATE_AHEAD_MAX).isoformat())]
            return None
        return value

    def choice(name: str, known: list[str], extra: Mapping[str, str]) -> str:
        raw = text(name)
        if not raw:
            return ALL
        if raw in extra:
            return extra[raw]
        if raw not in known:
            known_text = ", ".join([*extra, *known])
            problems[name] = [gettext(errors.REPORT_CHOICE_UNKNOWN).format(value=raw, known=known_text)]
            return ALL
        return raw

    until = day("until") or today
    since = day("since") or until - dt.timedelta(days=RANGE_DAYS_DEFAULT - 1)
    grain = text("grain") or "day"
    if grain not in GRAINS:
        problems["grain"] = [gettext(errors.REPORT_GRAIN_UNKNOWN).format(value=grain)]
    category = choice("category", sorted(choices["categories"]), {NO_CATEGORY_PARAM: NO_CATEGORY})
    language = choice("language", sorted(choices["languages"]), {})
    if not problems.keys() & {"since", "until"}:
        if since > until:
            problems["until"] = [gettext(errors.SEARCH_DATES_REVERSED)]
        elif (until - since).days + 1 > RANGE_DAYS_MAX:
            problems["since"] = [gettext(errors.REPORT_RANGE_TOO_LONG).format(days=RANGE_DAYS_MAX)]
    if problems:
        raise InvalidInput(problems)
    return ReportFilters(since=since, until=until, grain=grain, category=category, language=language)


def report_refreshed() -> dict | None:
    """When the figures were computed ({"at", "seconds"}), None before the first refresh."""
    found = rows("SELECT refreshed_at, seconds FROM triage_report_refresh WHERE id = 1", [])
    return {"at": found[0][0], "seconds": found[0][1]} if found else None


_COUNTS = ("received", "first_replied", "resolved", "first_reply_met", "first_reply_missed", "resolution_met",
           "resolution_missed", "rated", "rating_sum", "satisfied")
_PERCENTILES = ("first_reply_p50", "first_reply_p90", "resolution_p50", "resolution_p90")


def _figures(values: Mapping[str, Any]) -> dict:
    """Counts, and what follows from them: SLA compliance, mean rating, share satisfied."""
    counts = {name: int(values.get(name) or 0) for name in _COUNTS}
    return {
        **counts,
        "first_reply_sla": share(counts["first_reply_met"], counts["first_reply_met"] + counts["first_reply_missed"]),
        "resolution_sla": share(counts["resolution_met"], counts["resolution_met"] + counts["resolution_missed"]),
        "rating_mean": mean(counts["rating_sum"], counts["rated"]),
        "satisfied_share": share(counts["satisfied"], counts["rated"]),
    }


def report_periods(filters: ReportFilters) -> list[dict]:
    """One row per period of the range (zeros where nothing was submitted), for the
    filters' category and language (or all): counts, medians and p90s in seconds (None
    when nothing was replied to or resolved), SLA compliance, satisfaction."""
    columns = ("period", *_COUNTS, *_PERCENTILES)
    found = {row[0]: dict(zip(columns, row)) for row in rows(
        f"SELECT {', '.join(columns)} FROM triage_report_period WHERE grain = %s AND category = %s AND language = %s"
        " AND period BETWEEN %s AND %s ORDER BY period",
        [filters.grain, filters.category, filters.language, filters.first_day, filters.last_day])}
    return [{"period": start, **_figures(found.get(start, {})),
             **{name: found.get(start, {}).get(name) for name in _PERCENTILES}}
            for start in period_starts(since=filters.first_day, until=filters.last_day, grain=filters.grain)]


def report_totals(periods: list[dict]) -> dict:
    """The range's counts, SLA compliance and satisfaction (added up over its periods)."""
    return _figures({name: sum(p[name] for p in periods) for name in _COUNTS})


def report_breakdown(filters: ReportFilters, *, by: str) -> list[dict]:
    """Per category (`by` "category") or language over the whole range, most complaints
    first: counts, SLA compliance and satisfaction."""
    other = {"category": "language", "language": "category"}[by]
    sums = ", ".join(f"sum({name})" for name in _COUNTS)
    picked = getattr(filters, by)
    found = rows(
        f"SELECT {by}, {sums} FROM triage_report_period WHERE grain = 'day' AND period BETWEEN %s AND %s"
        f" AND {other} = %s AND {by} <> %s {'AND ' + by + ' = %s' if picked != ALL else ''}"
        f" GROUP BY {by} ORDER BY sum(received) DESC, {by}",
        [filters.first_day, filters.last_day, getattr(filters, other), ALL, *([picked] if picked != ALL else [])])
    return [{by: key, **_figures(dict(zip(_COUNTS, values)))} for key, *values in found]


def report_volume(filters: ReportFilters) -> list[dict]:
    """Every period x category x language cell of the range that has complaints (the
    filters' category and language only, when given): the report's finest grain, for
    the CSV file and the chart of volume by category."""
    columns = ("period", "category", "language", *_COUNTS, *_PERCENTILES)
    where, params = _slice(filters)
    return [{**dict(zip(columns, row)), **_figures(dict(zip(columns, row)))} for row in rows(
        f"SELECT {', '.join(columns)} FROM triage_report_period WHERE grain = %s AND period BETWEEN %s AND %s"
        f" AND category <> %s AND language <> %s{where} ORDER BY period, category, language",
        [filters.grain, filters.first_day, filters.last_day, ALL, ALL, *params])]


def _slice(filters: ReportFilters) -> tuple[str, list]:
    """The SQL condition (and its parameters) of the filters' category and language on a
    view that has a row per category and language."""
    where, params = "", []
    for column in ("category", "language"):
        if getattr(filters, column) != ALL:
            where += f" AND {column} = %s"
            params.append(getattr(filters, column))
    return where, params


def report_backlog(filters: ReportFilters) -> list[dict]:
    """Open complaints by age at the last refresh, one row per age bucket (empty ones
    too), with the open ones per category; the filters' dates do not apply (the backlog
    is as of the refresh)."""
    where, params = _slice(filters)
    buckets: list[dict[str, Any]] = [
        {"bucket": index, "from_hours": lower, "to_hours": upper, "open": 0, "unclaimed": 0, "breached": 0,
         "by_category": {}}
        for index, (lower, upper) in enumerate(age_bucket_bounds(i) for i in range(len(AGE_EDGES_HOURS) + 1))]
    for index, category, open_, unclaimed, breached in rows(
            f"SELECT age_bucket, category, sum(open), sum(unclaimed), sum(breached) FROM triage_report_backlog"
            f" WHERE true{where} GROUP BY 1, 2 ORDER BY 1, 2", params):
        bucket = buckets[index]
        bucket["open"] += int(open_)
        bucket["unclaimed"] += int(unclaimed)
        bucket["breached"] += int(breached)
        bucket["by_category"][category] = int(open_)
    return buckets


def report_agents(filters: ReportFilters) -> list[dict]:
    """Per agent: the open complaints they hold now (load), and over the range the
    replies they sent, the complaints they resolved (throughput) and the ratings of what
    they resolved; the most loaded first."""
    where, params = _slice(filters)
    found = rows(
        "WITH work AS (SELECT agent_id, sum(replies) AS replies, sum(resolved) AS resolved, sum(rated) AS rated,"
        f"  sum(rating_sum) AS rating_sum FROM triage_report_agent_day WHERE day BETWEEN %s AND %s{where}"
        "  GROUP BY agent_id),"
        " held AS (SELECT agent_id, sum(open) AS open, sum(awaiting_staff) AS awaiting_staff, sum(breached) AS breached"
        f"  FROM triage_report_agent_load WHERE true{where} GROUP BY agent_id)"
        " SELECT coalesce(w.agent_id, h.agent_id), u.username, u.first_name, u.last_name,"
        " coalesce(h.open, 0), coalesce(h.awaiting_staff, 0), coalesce(h.breached, 0),"
        " coalesce(w.replies, 0), coalesce(w.resolved, 0), coalesce(w.rated, 0), coalesce(w.rating_sum, 0)"
        " FROM work w FULL JOIN held h ON h.agent_id = w.agent_id"
        " LEFT JOIN auth_user u ON u.id = coalesce(w.agent_id, h.agent_id)"
        " ORDER BY 5 DESC, 9 DESC, 2, 1",
        [filters.first_day, filters.last_day, *params, *params])
    agents = []
    for agent_id, username, first, last, open_, awaiting, breached, replies, resolved, rated, rating_sum in found:
        name = f"{first} {last}".strip() or username or f"#{agent_id}"  # a deleted user: their id
        agents.append({"agent_id": agent_id, "agent": name, "username": username or "", "open": int(open_),
                       "awaiting_staff": int(awaiting), "breached": int(breached), "replies": int(replies),
                       "resolved": int(resolved), "rated": int(rated),
                       "rating_mean": mean(int(rating_sum), int(rated))})
    return agents


def report_teams(filters: ReportFilters) -> list[dict]:
    """Per team (and "no team yet"): its open complaints now (load: unclaimed, awaiting
    staff, SLA-breached) and over the range what it received, its replies and resolutions
    (throughput); the most loaded first."""
    where, params = _slice(filters)
    found = rows(
        "WITH work AS (SELECT team_id, sum(received) AS received, sum(replies) AS replies, sum(resolved) AS resolved"
        f"  FROM triage_report_team_day WHERE day BETWEEN %s AND %s{where} GROUP BY team_id),"
        " held AS (SELECT team_id, sum(open) AS open, sum(unclaimed) AS unclaimed,"
        "  sum(awaiting_staff) AS awaiting_staff, sum(breached) AS breached"
        f"  FROM triage_report_team_load WHERE true{where} GROUP BY team_id)"
        " SELECT coalesce(w.team_id, h.team_id), t.name, coalesce(h.open, 0), coalesce(h.unclaimed, 0),"
        " coalesce(h.awaiting_staff, 0), coalesce(h.breached, 0), coalesce(w.received, 0), coalesce(w.replies, 0),"
        " coalesce(w.resolved, 0)"
        " FROM work w FULL JOIN held h ON h.team_id = w.team_id"
        " LEFT JOIN triage_team t ON t.id = coalesce(w.team_id, h.team_id)"
        " ORDER BY 3 DESC, 9 DESC, 2 NULLS LAST, 1",
        [filters.first_day, filters.last_day, *params, *params])
    return [{"team_id": team_id or None, "team": name if team_id else "", "open": int(open_),
             "unclaimed": int(unclaimed), "awaiting_staff": int(awaiting), "breached": int(breached),
             "received": int(received), "replies": int(replies), "resolved": int(resolved)}
            for team_id, name, open_, unclaimed, awaiting, breached, received, replies, resolved in found]


def report_page(filters: ReportFilters) -> dict:
    """Everything the reports page shows for `filters`."""
    periods = report_periods(filters)
    by_category: dict[str, list[int]] = {}
    if filters.category == ALL:
        index = {p["period"]: n for n, p in enumerate(periods)}
        for cell in report_volume_by_category(filters):
            by_category.setdefault(cell["category"], [0] * len(periods))[index[cell["period"]]] = cell["received"]
    return {
        "refreshed": report_refreshed(),
        "periods": periods,
        "totals": report_totals(periods),
        "volume_by_category": by_category,
        "categories": report_breakdown(filters, by="category"),
        "languages": report_breakdown(filters, by="language"),
        "backlog": report_backlog(filters),
        "agents": report_agents(filters),
        "teams": report_teams(filters),
    }


def report_volume_by_category(filters: ReportFilters) -> list[dict]:
    """Received per period and category, for the filters' language (or all)."""
    return [{"period": period, "category": category, "received": received} for period, category, received in rows(
        "SELECT period, category, received FROM triage_report_period WHERE grain = %s AND language = %s"
        " AND category <> %s AND period BETWEEN %s AND %s ORDER BY period, category",
        [filters.grain, filters.language, ALL, filters.first_day, filters.last_day])]


_PERIOD_COLUMNS = ("period", *_COUNTS, "first_reply_p50_seconds", "first_reply_p90_seconds",
                   "resolution_p50_seconds", "resolution_p90_seconds", "first_reply_sla", "resolution_sla",
                   "rating_mean", "satisfied_share")
_FIGURE_COLUMNS = (*_COUNTS, "first_reply_sla", "resolution_sla", "rating_mean", "satisfied_share")
# Each CSV file: its columns (stable names, which scripts read) and where its rows come from.
REPORT_CSV = {
    "periods": ("grain", "category", "language", *_PERIOD_COLUMNS),
    "volume": ("grain", "category", "language", *_PERIOD_COLUMNS),
    "categories": ("since", "until", "language", "category", *_FIGURE_COLUMNS),
    "languages": ("since", "until", "category", "language", *_FIGURE_COLUMNS),
    "backlog": ("category", "language", "bucket", "from_hours", "to_hours", "open", "unclaimed", "breached"),
    "agents": ("since", "until", "category", "language", "agent_id", "username", "agent", "open", "awaiting_staff",
               "breached", "replies", "resolved", "rated", "rating_mean"),
    "teams": ("since", "until", "category", "language", "team_id", "team", "open", "unclaimed", "awaiting_staff",
              "breached", "received", "replies", "resolved"),
}


_BREAKDOWNS = {"categories": "category", "languages": "language"}


def _in_seconds(row: dict) -> dict:
    return {**row, **{f"{name}_seconds": row.get(name) for name in _PERCENTILES}}


def _csv_param(value: str, *, column: str) -> str:
    """A filter as the CSV names it: "*" for all, "none" for no category."""
    return NO_CATEGORY_PARAM if column == "category" and value == NO_CATEGORY else value


def report_csv(name: str, filters: ReportFilters) -> Iterator[list[object]]:
    """The lines of CSV file `name` (REPORT_CSV) for `filters`, header first."""
    scope = {"grain": filters.grain, "since": filters.first_day, "until": filters.last_day,
             "category": _csv_param(filters.category, column="category"), "language": filters.language}
    found: list[dict]
    if name == "periods":
        found = [_in_seconds(row) for row in report_periods(filters)]
    elif name == "volume":
        found = [{**_in_seconds(row), "category": _csv_param(row["category"], column="category")}
                 for row in report_volume(filters)]
    elif name in _BREAKDOWNS:
        found = [{**row, "category": _csv_param(row.get("category", filters.category), column="category")}
                 for row in report_breakdown(filters, by=_BREAKDOWNS[name])]
    elif name == "backlog":
        found = [{"bucket": b["bucket"], "from_hours": b["from_hours"], "to_hours": b["to_hours"],
                  "open": b["open"], "unclaimed": b["unclaimed"], "breached": b["breached"]}
                 for b in report_backlog(filters)]
    elif name == "agents":
        found = report_agents(filters)
    elif name == "teams":
        found = report_teams(filters)
    else:
        raise KeyError(name)
    return csv_rows(columns=REPORT_CSV[name], rows=[{**scope, **row} for row in found])
