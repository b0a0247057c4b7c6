"""Operational reports: the periods, age buckets, shares and CSV cells they are built from
(issue 11, "Operational reports").

Pure, like triage_core.sla: the database aggregates (migration 0019_reports, refreshed
by manage.py reports_worker) and the page read the same definitions.

- Figures are **by the day a complaint was submitted** (UTC), rolled up by week (ISO,
  from Monday) and month: "of the complaints submitted that week, how many were
  resolved, how soon, within their SLA?" An agent's throughput is by the day of the
  work instead (the reply, the resolution, the customer's rating).
- **Time to first reply** stops at the first staff reply or the resolution, whichever
  comes first, as the first-reply clock of triage_core.sla does.
- A **median or p90 of nothing** (no complaint of the period replied to yet) is None,
  shown as a dash, never 0.
- The **backlog** counts open complaints by how long ago they were submitted, at the
  time of the refresh.
"""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator, Sequence

GRAINS = ("day", "week", "month")
# In the aggregate, the category or language of a row that adds up all of them.
ALL = "*"
# The category of a complaint the model has not scored (or gave none).
NO_CATEGORY = ""

# Upper edges, in hours, of the backlog's age buckets: < 1 h, 1-4 h, 4-24 h, 1-3 d,
# 3-7 d, 7-30 d, and 30 d or more. Postgres' width_bucket(age, edges) gives a complaint
# its bucket's index (0 below the first edge, len(edges) from the last).
AGE_EDGES_HOURS = (1, 4, 24, 72, 168, 720)

# The longest range one page or CSV covers, so a request reads at most ~two years of rows.
RANGE_DAYS_MAX = 731
# The range a page shows when none is asked for: the last 30 days, today included.
RANGE_DAYS_DEFAULT = 30


def age_bucket_of(*, hours: float) -> int:
    """The backlog bucket of an age (what width_bucket computes in the database)."""
    return sum(1 for edge in AGE_EDGES_HOURS if hours >= edge)


def age_bucket_bounds(index: int) -> tuple[int, int | None]:
    """(lower, upper) hours of bucket `index`; upper None for the last, open-ended one."""
    if not 0 <= index <= len(AGE_EDGES_HOURS):
        raise ValueError(f"no age bucket {index}")
    lower = AGE_EDGES_HOURS[index - 1] if index else 0
    upper = AGE_EDGES_HOURS[index] if index < len(AGE_EDGES_HOURS) else None
    return lower, upper


def period_start(day: dt.date, grain: str) -> dt.date:
    """The first day of the period of `grain` that holds `day` (Postgres' date_trunc)."""
    if grain == "day":
        return day
    if grain == "week":
        return day - dt.timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    raise ValueError(f"unknown grain {grain!r}")


def period_end(day: dt.date, grain: str) -> dt.date:
    """The last day of the period of `grain` that holds `day`."""
    if grain == "day":
        return day
    if grain == "week":
        return period_start(day, grain) + dt.timedelta(days=6)
    return (period_start(day, grain).replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def period_starts(*, since: dt.date, until: dt.date, grain: str) -> list[dt.date]:
    """Every period of `grain` that the days since..until (inclusive) touch, in order, so
    a report lists the periods without any complaint as zeros instead of skipping them."""
    starts, current = [], period_start(since, grain)
    while current <= until:
        starts.append(current)
        if grain == "day":
            current += dt.timedelta(days=1)
        elif grain == "week":
            current += dt.timedelta(days=7)
        else:
            current = period_end(current, grain) + dt.timedelta(days=1)
    return starts


def share(part: int, whole: int) -> float | None:
    """part / whole, or None when there is nothing to divide (no SLA clock finished)."""
    return part / whole if whole else None


def mean(total: float, count: int) -> float | None:
    return total / count if count else None


def duration_parts(seconds: float) -> tuple[int, int, int]:
    """(days, hours, minutes) of a duration as a report shows it: to the nearest minute
    below a day, to the nearest hour from a day on (minutes then 0)."""
    seconds = max(0.0, seconds)
    minutes = math.floor(seconds / 60 + 0.5)  # half up, as people round (round() goes half to even)
    if minutes < 1440:
        return 0, minutes // 60, minutes % 60
    days, hours = divmod(math.floor(seconds / 3600 + 0.5), 24)
    return days, hours, 0


def duration_text(seconds: float | None, *, units: tuple[str, str, str] = ("d", "h", "min")) -> str:
    """A duration as people read it on a report: "2 d 5 h", "3 h 10 min", "4 min", in the
    reader's words for day, hour and minute; a dash for no duration at all."""
    if seconds is None:
        return "—"
    days, hours, minutes = duration_parts(seconds)
    day_unit, hour_unit, minute_unit = units
    if days:
        return f"{days} {day_unit} {hours} {hour_unit}" if hours else f"{days} {day_unit}"
    if hours:
        return f"{hours} {hour_unit} {minutes} {minute_unit}" if minutes else f"{hours} {hour_unit}"
    return f"{minutes} {minute_unit}"


# A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV
# injection"); category, language and agent names are text others chose.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """A value as a CSV cell: numbers as they are, None empty, dates ISO, text that a
    spreadsheet would run as a formula quoted with a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return round(value, 6) if isinstance(value, float) else value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def csv_rows(*, columns: Sequence[str], rows: Sequence[dict]) -> Iterator[list[object]]:
    """The header (the columns' stable names, not translated: scripts read them) and one
    line per row, in the columns' order."""
    yield list(columns)
    for row in rows:
        yield [csv_cell(row.get(column)) for column in columns]
