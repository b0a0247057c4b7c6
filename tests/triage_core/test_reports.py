"""The reports' pure definitions (triage_core/reports.py): periods, age buckets, shares,
durations as people read them, CSV cells."""
from __future__ import annotations

import datetime as dt

import pytest

from triage_core.reports import (
    AGE_EDGES_HOURS,
    age_bucket_bounds,
    age_bucket_of,
    csv_cell,
    csv_rows,
    duration_parts,
    duration_text,
    mean,
    period_end,
    period_start,
    period_starts,
    share,
)


@pytest.mark.parametrize(("hours", "bucket"), [(0, 0), (0.99, 0), (1, 1), (3.99, 1), (4, 2), (23.9, 2), (24, 3),
                                               (72, 4), (167, 4), (168, 5), (719.9, 5), (720, 6), (10_000, 6),
                                               (-1, 0)])
def test_an_age_falls_in_the_bucket_of_its_lower_edge(hours, bucket):
    assert age_bucket_of(hours=hours) == bucket


def test_bucket_bounds_follow_the_edges_and_the_last_is_open():
    assert [age_bucket_bounds(i) for i in range(len(AGE_EDGES_HOURS) + 1)] == [
        (0, 1), (1, 4), (4, 24), (24, 72), (72, 168), (168, 720), (720, None)]
    with pytest.raises(ValueError):
        age_bucket_bounds(len(AGE_EDGES_HOURS) + 1)


@pytest.mark.parametrize(("day", "grain", "start", "end"), [
    (dt.date(2026, 11, 4), "day", dt.date(2026, 11, 4), dt.date(2026, 11, 4)),
    (dt.date(2026, 11, 4), "week", dt.date(2026, 11, 2), dt.date(2026, 11, 8)),  # Wednesday: Monday to Sunday
    (dt.date(2026, 11, 2), "week", dt.date(2026, 11, 2), dt.date(2026, 11, 8)),
    (dt.date(2026, 12, 31), "month", dt.date(2026, 12, 1), dt.date(2026, 12, 31)),
    (dt.date(2028, 2, 10), "month", dt.date(2028, 2, 1), dt.date(2028, 2, 29)),  # a leap year
    (dt.date(2027, 2, 28), "month", dt.date(2027, 2, 1), dt.date(2027, 2, 28)),
])
def test_a_period_starts_and_ends_where_date_trunc_would(day, grain, start, end):
    assert (period_start(day, grain), period_end(day, grain)) == (start, end)


def test_period_starts_list_every_period_the_range_touches():
    assert period_starts(since=dt.date(2026, 11, 30), until=dt.date(2026, 12, 2), grain="day") == [
        dt.date(2026, 11, 30), dt.date(2026, 12, 1), dt.date(2026, 12, 2)]
    assert period_starts(since=dt.date(2026, 11, 4), until=dt.date(2026, 11, 16), grain="week") == [
        dt.date(2026, 11, 2), dt.date(2026, 11, 9), dt.date(2026, 11, 16)]
    assert period_starts(since=dt.date(2026, 11, 30), until=dt.date(2027, 2, 1), grain="month") == [
        dt.date(2026, 11, 1), dt.date(2026, 12, 1), dt.date(2027, 1, 1), dt.date(2027, 2, 1)]
    with pytest.raises(ValueError):
        period_start(dt.date(2026, 1, 1), "year")


def test_a_share_or_mean_of_nothing_is_none_not_zero():
    assert share(0, 0) is None and mean(0, 0) is None
    assert share(1, 4) == 0.25 and share(0, 3) == 0.0 and mean(11, 3) == pytest.approx(11 / 3)


@pytest.mark.parametrize(("seconds", "parts", "text"), [
    (0, (0, 0, 0), "0 min"),
    (29, (0, 0, 0), "0 min"),
    (30, (0, 0, 1), "1 min"),
    (31, (0, 0, 1), "1 min"),
    (7200, (0, 2, 0), "2 h"),
    (5.1 * 3600, (0, 5, 6), "5 h 6 min"),
    (86_399, (1, 0, 0), "1 d"),  # 23 h 59 min 59 s: a day, to the minute
    (39.6 * 3600, (1, 16, 0), "1 d 16 h"),  # from a day on, to the hour
    (7 * 86_400 + 1800, (7, 1, 0), "7 d 1 h"),
])
def test_durations_read_as_on_a_report(seconds, parts, text):
    assert duration_parts(seconds) == parts
    assert duration_text(seconds) == text


def test_a_duration_of_nothing_is_a_dash_and_units_are_the_readers():
    assert duration_text(None) == "—"
    assert duration_text(90_000, units=("д", "ч", "мин")) == "1 д 1 ч"


@pytest.mark.parametrize(("value", "cell"), [
    (None, ""), (True, 1), (3, 3), (0.1 + 0.2, 0.3), (dt.date(2026, 11, 2), "2026-11-02"),
    ("delivery", "delivery"), ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("+1", "'+1"),
    ("-cmd", "'-cmd"), ("@sum", "'@sum"), ("*", "*"),
])
def test_csv_cells_keep_numbers_and_defuse_formulas(value, cell):
    assert csv_cell(value) == cell


def test_csv_rows_are_a_header_then_one_line_per_row_in_column_order():
    assert list(csv_rows(columns=("b", "a"), rows=[{"a": 1, "b": "x"}, {"a": None}])) == [
        ["b", "a"], ["x", 1], ["", ""]]
