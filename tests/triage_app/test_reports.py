"""Operational reports on real PostgreSQL: complaints with known times, replies,
resolutions, SLA targets and ratings; the reports worker's refresh; then the figures,
checked against the ones worked out by hand below (selectors/reports.py, migration
0019_reports, services/reports.py, the page and its CSV files)."""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from tests.triage_app.factories import complaint_make, score_make
from triage_app import errors, selectors, services
from triage_app.errors import InvalidInput
from triage_app.models import Complaint, ComplaintEvent, Satisfaction, ServiceLevelPolicy, Team
from triage_app.reports_views import age_bucket_label
from triage_app.selectors.reports import (
    ReportFilters,
    report_agents,
    report_backlog,
    report_breakdown,
    report_filters_from,
    report_periods,
    report_teams,
    report_volume,
)
from triage_core.reports import AGE_EDGES_HOURS, ALL, NO_CATEGORY, RANGE_DAYS_MAX, age_bucket_of

UTC = dt.UTC
D1 = dt.date(2026, 11, 2)  # a Monday
D2 = dt.date(2026, 11, 3)
HOUR = 3600.0


def at(day: dt.date, hour: float) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), UTC) + dt.timedelta(hours=hour)


def complaint(*, created: dt.datetime, category: str | None = "delivery", language: str = "en",
              first_reply: dt.datetime | None = None, resolved: dt.datetime | None = None,
              claimed_by=None, status: str | None = None) -> Complaint:
    """A scored complaint with the given times (the score's trigger puts an open one in the queue)."""
    made = complaint_make(status="resolved" if resolved else "analysed")
    if category is not None:
        score_make(complaint=made, category=category, language=language, priority=20.0, mark_analysed=False)
    Complaint.objects.filter(id=made.id).update(
        created_at=created, first_reply_at=first_reply, resolved_at=resolved, claimed_by=claimed_by,
        status=status or ("resolved" if resolved else "analysed"))
    made.refresh_from_db()
    return made


def event(*, of: Complaint, kind: str, by, when: dt.datetime) -> None:
    made = ComplaintEvent.objects.create(complaint=of, kind=kind, actor=by)
    ComplaintEvent.objects.filter(id=made.id).update(created_at=when)


def rating(*, of: Complaint, stars: int, agent, when: dt.datetime) -> None:
    made = Satisfaction.objects.create(complaint=of, rating=stars, agent=agent)
    Satisfaction.objects.filter(id=made.id).update(created_at=when)


@pytest.fixture
def tight_sla(db):
    """Version 2: 2 hours to the first reply, 24 to the resolution, in every band; in force
    since January (before every complaint below), and the current one."""
    policy = ServiceLevelPolicy.objects.create(
        version=2, targets=[{"band": band, "category": None, "first_reply_minutes": 120, "resolution_minutes": 1440}
                            for band in ("urgent", "high", "normal")],
        high_at=40, at_risk_fraction=0.8, ageing_per_hour=1, ageing_cap=30)
    ServiceLevelPolicy.objects.filter(id=policy.id).update(created_at=dt.datetime(2026, 1, 1, tzinfo=UTC))
    return policy


@pytest.fixture
def scenario(tight_sla):
    """The complaints of the hand-computed figures. On D1, delivery in English:

    | | submitted | first reply | resolved | first reply SLA (2 h) | resolution SLA (24 h) | rating |
    |---|---|---|---|---|---|---|
    | A | 10:00 | +1 h (alice) | +4 h (alice) | met | met | 5 (alice) |
    | B | 10:00 | +3 h (alice) | +48 h (alice) | missed | missed | 2 (alice) |
    | C | 12:00 | none: its resolution, +6 h | +6 h (bob) | missed | met | |
    | D | 12:00 | +30 min (bob) | open, held by bob | met | missed (open past due) | |

    E: D1 09:00, billing in Russian, open, unanswered, nobody holds it: both missed.
    F: D2 08:00, delivery in English, reply +10 min and resolution +1 h (bob): both met; rating 4 (bob).
    G: two hours ago, not scored (no category), open: the youngest of the backlog.
    """
    users = get_user_model().objects
    alice = users.create_user(username="alice", first_name="Alice", last_name="Agent", is_staff=True)
    bob = users.create_user(username="bob", is_staff=True)
    a = complaint(created=at(D1, 10), first_reply=at(D1, 11), resolved=at(D1, 14))
    b = complaint(created=at(D1, 10), first_reply=at(D1, 13), resolved=at(D1, 58))
    c = complaint(created=at(D1, 12), resolved=at(D1, 18))
    d = complaint(created=at(D1, 12), first_reply=at(D1, 12.5), claimed_by=bob, status="in_review")
    complaint(created=at(D1, 9), category="billing", language="ru")
    f = complaint(created=at(D2, 8), first_reply=at(D2, 8 + 10 / 60), resolved=at(D2, 9))
    g = complaint_make()
    Complaint.objects.filter(id=g.id).update(created_at=timezone.now() - dt.timedelta(hours=2))
    for of, by, replied in ((a, alice, at(D1, 11)), (b, alice, at(D1, 13)), (d, bob, at(D1, 12.5)),
                            (f, bob, at(D2, 8 + 10 / 60))):
        event(of=of, kind="reply", by=by, when=replied)
    for of, by in ((a, alice), (b, alice), (c, bob), (f, bob)):
        event(of=of, kind="resolved", by=by, when=of.resolved_at)
    rating(of=a, stars=5, agent=alice, when=at(D1, 15))
    rating(of=b, stars=2, agent=alice, when=at(D1, 59))
    rating(of=f, stars=4, agent=bob, when=at(D2, 10))
    services.sla_pass()  # the SLA worker: due times of D and E
    result = services.reports_refresh()
    return {"alice": alice, "bob": bob, "refresh": result}


def period(filters: ReportFilters, day: dt.date) -> dict:
    return next(p for p in report_periods(filters) if p["period"] == day)


def test_a_day_of_one_category_and_language_matches_the_hand_computed_figures(scenario):
    assert scenario["refresh"].outcomes_recorded == 4  # A, B, C, F: resolved ones
    day = period(ReportFilters(since=D1, until=D2, category="delivery", language="en"), D1)
    assert (day["received"], day["first_replied"], day["resolved"]) == (4, 4, 3)
    # First replies 0.5, 1, 3, 6 h: median (1 + 3) / 2 h; p90 at 0.9 x 3 = 2.7 -> 3 h + 0.7 x 3 h.
    assert day["first_reply_p50"] == pytest.approx(2 * HOUR)
    assert day["first_reply_p90"] == pytest.approx(5.1 * HOUR)
    # Resolutions 4, 6, 48 h: median 6 h; p90 at 1.8 -> 6 h + 0.8 x 42 h.
    assert day["resolution_p50"] == pytest.approx(6 * HOUR)
    assert day["resolution_p90"] == pytest.approx(39.6 * HOUR)
    assert (day["first_reply_met"], day["first_reply_missed"], day["first_reply_sla"]) == (2, 2, 0.5)
    assert (day["resolution_met"], day["resolution_missed"], day["resolution_sla"]) == (2, 2, 0.5)
    assert (day["rated"], day["rating_mean"], day["satisfied_share"]) == (2, 3.5, 0.5)


def test_all_categories_and_languages_add_the_unanswered_one(scenario):
    day = period(ReportFilters(since=D1, until=D2), D1)
    assert (day["received"], day["first_replied"], day["resolved"]) == (5, 4, 3)
    assert day["first_reply_p50"] == pytest.approx(2 * HOUR)  # E has no reply: not a time
    assert (day["first_reply_met"], day["first_reply_missed"]) == (2, 3)
    assert (day["resolution_met"], day["resolution_missed"]) == (2, 3)
    russian = period(ReportFilters(since=D1, until=D2, language="ru"), D1)
    assert (russian["received"], russian["first_replied"], russian["first_reply_p50"]) == (1, 0, None)
    assert russian["first_reply_sla"] == 0.0 and russian["rating_mean"] is None


def test_a_week_is_exact_over_its_days(scenario):
    """The week of D1 holds D2's F too: first replies 10 min, 0.5, 1, 3, 6 h; resolutions
    1, 4, 6, 48 h."""
    weeks = report_periods(ReportFilters(since=D2, until=D2, grain="week"))
    assert [w["period"] for w in weeks] == [D1]
    week = weeks[0]
    assert week["received"] == 6
    assert week["first_reply_p50"] == pytest.approx(1 * HOUR)
    assert week["first_reply_p90"] == pytest.approx(3 * HOUR + 0.6 * 3 * HOUR)  # at 0.9 x 4 = 3.6
    assert week["resolution_p50"] == pytest.approx(5 * HOUR)
    assert week["resolution_p90"] == pytest.approx(6 * HOUR + 0.7 * 42 * HOUR)  # at 0.9 x 3 = 2.7
    assert (week["first_reply_met"], week["first_reply_missed"]) == (3, 3)
    assert week["rating_mean"] == pytest.approx(11 / 3)


def test_days_without_complaints_are_zeros_and_their_times_none(scenario):
    quiet = period(ReportFilters(since=D1, until=D2 + dt.timedelta(days=1)), D2 + dt.timedelta(days=1))
    assert quiet["received"] == 0 and quiet["first_reply_p50"] is None and quiet["first_reply_sla"] is None


def test_the_breakdowns_add_up_over_the_range(scenario):
    by_category = report_breakdown(ReportFilters(since=D1, until=D2), by="category")
    assert [(r["category"], r["received"], r["resolved"]) for r in by_category] == [("delivery", 5, 4),
                                                                                     ("billing", 1, 0)]
    delivery = by_category[0]
    assert (delivery["first_reply_met"], delivery["first_reply_missed"]) == (3, 2)
    assert (delivery["resolution_met"], delivery["resolution_missed"]) == (3, 2)
    assert delivery["rating_mean"] == pytest.approx(11 / 3)
    by_language = report_breakdown(ReportFilters(since=D1, until=D2, category="billing"), by="language")
    assert [(r["language"], r["received"]) for r in by_language] == [("ru", 1)]


def test_the_volume_cells_are_per_day_category_and_language(scenario):
    cells = report_volume(ReportFilters(since=D1, until=D2))
    assert [(c["period"], c["category"], c["language"], c["received"]) for c in cells] == [
        (D1, "billing", "ru", 1), (D1, "delivery", "en", 4), (D2, "delivery", "en", 1)]


def test_the_backlog_counts_open_complaints_by_age_at_the_refresh(scenario):
    backlog = report_backlog(ReportFilters(since=D1, until=D2))
    assert [(b["bucket"], b["open"]) for b in backlog if b["open"]] == [(1, 1), (6, 2)]
    young, old = backlog[1], backlog[6]
    assert young["by_category"] == {NO_CATEGORY: 1} and young["unclaimed"] == 1
    assert old["by_category"] == {"billing": 1, "delivery": 1} and (old["unclaimed"], old["breached"]) == (1, 2)
    assert sum(b["open"] for b in report_backlog(ReportFilters(since=D1, until=D2, category="billing"))) == 1


def test_agents_load_and_throughput(scenario):
    agents = report_agents(ReportFilters(since=D1, until=D2))
    assert [(a["agent"], a["open"], a["breached"], a["replies"], a["resolved"], a["rated"], a["rating_mean"])
            for a in agents] == [("bob", 1, 1, 2, 2, 1, 4.0), ("Alice Agent", 0, 0, 2, 1, 1, 5.0)]
    # B's resolution and its rating came on 4 November, after the range: by the day of the work.
    with_b = report_agents(ReportFilters(since=D1, until=D2 + dt.timedelta(days=1)))
    assert [(a["agent"], a["resolved"], a["rated"], a["rating_mean"]) for a in with_b][1] == ("Alice Agent", 2, 2, 3.5)
    only_d2 = report_agents(ReportFilters(since=D2, until=D2))
    assert [(a["agent"], a["resolved"]) for a in only_d2] == [("bob", 1)]  # his load stays; alice did nothing


def test_teams_load_and_throughput(client, admin_user, scenario):
    """A-D and F (delivery) are the Delivery team's, E (billing, Russian) the Russian
    desk's, G has no team. Delivery: D open, held, past its resolution target; received
    A-D on D1 and F on D2; replies A, B, D, F; resolved A and C on D1 and F on D2 (B on
    4 November, after the range). Russian desk: E open, nobody holds it, breached,
    received on D1. No team: G, open (not scored: no SLA), submitted today."""
    delivery, russian = Team.objects.create(name="Delivery"), Team.objects.create(name="Russian desk")
    Complaint.objects.filter(score__category="delivery").update(team=delivery)
    Complaint.objects.filter(score__category="billing").update(team=russian)
    services.reports_refresh()
    teams = report_teams(ReportFilters(since=D1, until=D2))
    assert [(t["team"], t["open"], t["unclaimed"], t["awaiting_staff"], t["breached"], t["received"], t["replies"],
             t["resolved"]) for t in teams] == [("Delivery", 1, 0, 0, 1, 5, 4, 3),
                                                ("Russian desk", 1, 1, 0, 1, 1, 0, 0), ("", 1, 1, 0, 0, 0, 0, 0)]
    assert teams[2]["team_id"] is None
    client.force_login(admin_user)
    rows = read_csv(client.get("/manage/reports/teams.csv", {"since": D1.isoformat(), "until": D2.isoformat()}))
    assert [(r["team"], r["open"], r["resolved"]) for r in rows] == [("Delivery", "1", "3"), ("Russian desk", "1", "0"),
                                                                     ("", "1", "0")]
    assert 'id="reports-teams"' in client.get("/manage/reports/", {"since": D1.isoformat()}).content.decode()


def test_a_reopened_complaint_loses_its_outcome_and_a_new_resolution_is_judged_again(scenario):
    a = Complaint.objects.get(resolved_at=at(D1, 14))
    Complaint.objects.filter(id=a.id).update(status="awaiting_staff", resolved_at=None)
    services.reports_refresh()
    day = period(ReportFilters(since=D1, until=D2, category="delivery", language="en"), D1)
    # Open again, with no queue entry yet (no SLA pass since): no clock of A is known.
    assert day["resolved"] == 2 and (day["resolution_met"], day["resolution_missed"]) == (1, 2)
    Complaint.objects.filter(id=a.id).update(status="resolved", resolved_at=at(D1, 40))  # now 30 h: late
    assert services.reports_refresh().outcomes_recorded == 1
    day = period(ReportFilters(since=D1, until=D2, category="delivery", language="en"), D1)
    assert (day["resolved"], day["resolution_met"], day["resolution_missed"]) == (3, 1, 3)


def test_a_resolution_is_judged_under_the_policy_in_force_when_it_happened(scenario):
    """Version 3 (today) would give 1 minute: F, resolved in November in an hour, stays met."""
    ServiceLevelPolicy.objects.create(
        version=3, targets=[{"band": "normal", "category": None, "first_reply_minutes": 1, "resolution_minutes": 1}],
        high_at=40, at_risk_fraction=0.8, ageing_per_hour=1, ageing_cap=30)
    f = Complaint.objects.get(resolved_at=at(D2, 9))
    Complaint.objects.filter(id=f.id).update(resolved_at=at(D2, 9) + dt.timedelta(seconds=1))
    services.reports_refresh()
    with connection.cursor() as cursor:
        cursor.execute("SELECT sla_version FROM triage_report_sla_outcome WHERE complaint_id = %s", [f.id])
        assert cursor.fetchone() == (2,)
    assert period(ReportFilters(since=D2, until=D2), D2)["resolution_met"] == 1


def test_the_database_buckets_ages_as_triage_core_does(db):
    hours = [0.0, 0.5, 1.0, 3.99, 4.0, 24.0, 71.0, 72.0, 168.0, 719.0, 720.0, 5000.0]
    with connection.cursor() as cursor:
        edges = ", ".join(str(edge) for edge in AGE_EDGES_HOURS)
        cursor.execute(f"SELECT width_bucket(h, ARRAY[{edges}]::float8[]) FROM unnest(%s::float8[]) AS h", [hours])
        assert [row[0] for row in cursor.fetchall()] == [age_bucket_of(hours=h) for h in hours]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # the command closes stale connections
def test_the_worker_refreshes_once_and_says_when():
    out = StringIO()
    call_command("reports_worker", "--once", stdout=out)
    assert "reports refreshed in" in out.getvalue()
    refreshed = selectors.report_page(ReportFilters(since=D1, until=D2))["refreshed"]
    assert refreshed["at"].isoformat() in out.getvalue()


# --- filters (no database) ---------------------------------------------------------

CHOICES = {"categories": ["billing", "delivery"], "languages": ["en", "ru"]}
TODAY = dt.date(2026, 12, 3)


def test_filters_default_to_the_last_30_days_of_everything():
    assert report_filters_from({}, today=TODAY, choices=CHOICES) == ReportFilters(
        since=dt.date(2026, 11, 4), until=TODAY, grain="day", category=ALL, language=ALL)


def test_filters_read_every_parameter():
    filters = report_filters_from({"since": "2026-01-01", "until": "2026-03-31", "grain": "month",
                                   "category": "none", "language": "ru"}, today=TODAY, choices=CHOICES)
    assert filters == ReportFilters(since=dt.date(2026, 1, 1), until=dt.date(2026, 3, 31), grain="month",
                                    category=NO_CATEGORY, language="ru")
    assert (filters.first_day, filters.last_day) == (dt.date(2026, 1, 1), dt.date(2026, 3, 31))


@pytest.mark.parametrize(("params", "field", "message"), [
    ({"since": "2026-02-30"}, "since", errors.SEARCH_DATE_INVALID.format(value="2026-02-30")),
    ({"until": "yesterday"}, "until", errors.SEARCH_DATE_INVALID.format(value="yesterday")),
    ({"since": "2026-12-01", "until": "2026-11-01"}, "until", errors.SEARCH_DATES_REVERSED),
    ({"since": "2020-01-01", "until": "2026-01-01"}, "since", errors.REPORT_RANGE_TOO_LONG.format(days=RANGE_DAYS_MAX)),
    ({"grain": "year"}, "grain", errors.REPORT_GRAIN_UNKNOWN.format(value="year")),
    ({"until": "9999-12-31"}, "until",
     errors.REPORT_DATE_OUT_OF_RANGE.format(low="1970-01-01", high="2027-12-04")),
    ({"since": "0001-01-01", "grain": "week"}, "since",
     errors.REPORT_DATE_OUT_OF_RANGE.format(low="1970-01-01", high="2027-12-04")),
    ({"category": "nope"}, "category", errors.REPORT_CHOICE_UNKNOWN.format(value="nope",
                                                                          known="none, billing, delivery")),
    ({"language": "de"}, "language", errors.REPORT_CHOICE_UNKNOWN.format(value="de", known="en, ru")),
    ({"category": "x" * 33}, "category", errors.SEARCH_TOO_LONG.format(limit=32)),
    ({"language": "e\x00n"}, "language", errors.QUEUE_PARAMETER_UNSTORABLE),
])
def test_filters_refuse_bad_input_naming_the_parameter(params, field, message):
    with pytest.raises(InvalidInput) as refused:
        report_filters_from(params, today=TODAY, choices=CHOICES)
    assert refused.value.errors == {field: [message]}


def test_the_longest_range_is_allowed_and_one_day_more_is_not():
    until = dt.date(2026, 12, 31)
    since = until - dt.timedelta(days=RANGE_DAYS_MAX - 1)
    assert report_filters_from({"since": since.isoformat(), "until": until.isoformat()}, today=TODAY,
                               choices=CHOICES).since == since
    with pytest.raises(InvalidInput):
        report_filters_from({"since": (since - dt.timedelta(days=1)).isoformat(), "until": until.isoformat()},
                            today=TODAY, choices=CHOICES)


def test_backlog_labels_name_each_bucket():
    assert [age_bucket_label(i) for i in range(len(AGE_EDGES_HOURS) + 1)] == [
        "< 1 h", "1–4 h", "4–24 h", "1–3 d", "3–7 d", "7–30 d", "≥ 30 d"]


# --- the page and its CSV files ------------------------------------------------------

def test_the_page_shows_the_figures_charts_and_their_time(client, admin_user, scenario):
    client.force_login(admin_user)
    response = client.get("/manage/reports/", {"since": D1.isoformat(), "until": D2.isoformat(),
                                               "category": "delivery", "language": "en"})
    assert response.status_code == 200
    body = re.sub(r">\s+<", "><", response.content.decode())
    refreshed = scenario["refresh"].refreshed_at.astimezone(UTC)
    assert f"Figures as of {refreshed:%Y-%m-%d %H:%M:%S} UTC" in body
    assert "<td>2026-11-02</td><td>4</td><td>3</td><td>2 h</td><td>5 h 6 min</td><td>6 h</td><td>1 d 16 h</td>" \
           "<td>50.0 %</td><td>50.0 %</td><td>3.50" in body
    assert 'src="/static/vendor/chart.umd.js"' in body and 'id="reports-data"' in body
    assert "<script>" not in body.replace('<script src=', '')  # no inline script (the CSP allows none)
    assert '/manage/reports/periods.csv?since=2026-11-02' in body


def test_the_page_is_for_admins_only(client, staff_user):
    assert client.get("/manage/reports/").status_code == 302  # to the login
    client.force_login(staff_user)
    assert client.get("/manage/reports/").status_code == 403
    assert client.get("/manage/reports/periods.csv").status_code == 403


def test_a_bad_filter_is_a_400_that_names_it(client, admin_user):
    client.force_login(admin_user)
    response = client.get("/manage/reports/", {"since": "2026-02-30"})
    assert response.status_code == 400
    assert errors.SEARCH_DATE_INVALID.format(value="2026-02-30") in response.content.decode().replace("&#x27;", "'")
    csv_refused = client.get("/manage/reports/agents.csv", {"grain": "decade"})
    assert csv_refused.status_code == 400 and csv_refused["Content-Type"].startswith("text/plain")
    assert errors.REPORT_GRAIN_UNKNOWN.format(value="decade") in csv_refused.content.decode()
    assert client.get("/manage/reports/nothing.csv").status_code == 404


def read_csv(response) -> list[dict]:
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="triage-')
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_each_csv_holds_the_figures_of_its_table(client, admin_user, scenario):
    client.force_login(admin_user)
    query = {"since": D1.isoformat(), "until": D2.isoformat()}
    periods = read_csv(client.get("/manage/reports/periods.csv", {**query, "category": "delivery", "language": "en"}))
    assert [(p["period"], p["received"], p["first_reply_p50_seconds"], p["resolution_p90_seconds"],
             p["first_reply_sla"], p["rating_mean"]) for p in periods] == [
        ("2026-11-02", "4", "7200.0", "142560.0", "0.5", "3.5"), ("2026-11-03", "1", "600.0", "3600.0", "1.0", "4.0")]
    assert periods[0]["category"] == "delivery" and periods[0]["grain"] == "day"
    volume = read_csv(client.get("/manage/reports/volume.csv", query))
    assert [(v["period"], v["category"], v["language"], v["received"]) for v in volume] == [
        ("2026-11-02", "billing", "ru", "1"), ("2026-11-02", "delivery", "en", "4"),
        ("2026-11-03", "delivery", "en", "1")]
    categories = read_csv(client.get("/manage/reports/categories.csv", query))
    assert [(c["category"], c["received"], c["resolution_sla"]) for c in categories] == [
        ("delivery", "5", "0.6"), ("billing", "1", "0.0")]
    backlog = read_csv(client.get("/manage/reports/backlog.csv", query))
    assert [(b["bucket"], b["open"]) for b in backlog] == [
        ("0", "0"), ("1", "1"), ("2", "0"), ("3", "0"), ("4", "0"), ("5", "0"), ("6", "2")]
    agents = read_csv(client.get("/manage/reports/agents.csv", query))
    assert [(a["username"], a["open"], a["resolved"], a["rating_mean"]) for a in agents] == [
        ("bob", "1", "2", "4.0"), ("alice", "0", "1", "5.0")]
    languages = read_csv(client.get("/manage/reports/languages.csv", query))
    assert [(row["language"], row["category"], row["received"]) for row in languages] == [("en", "*", "5"),
                                                                                        ("ru", "*", "1")]


def test_the_page_before_any_complaint_has_the_migration_s_figures(client, admin_user):
    client.force_login(admin_user)
    response = client.get("/manage/reports/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Figures as of" in body and "No complaints in this range." in body
    assert "<td>0</td><td>0</td><td>—</td><td>—</td>" in re.sub(r">\s+<", "><", body)  # no time of nothing
