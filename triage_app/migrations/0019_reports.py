"""Operational reports (triage_core.reports), aggregated in Postgres and materialised, so
the admin's page reads a few hundred rows whatever the number of complaints; the
reports worker (manage.py reports_worker, triage_app.services.reports_refresh) refreshes
them, never the admin's request.

- triage_report_period: per period (day, ISO week, month of submission, UTC) x category
  x language, and the same with every category and/or every language added up (ALL,
  "*"), so a median or p90 is exact for any one filter: counts, times to first reply
  and to resolution (percentile_cont), SLA clocks met and missed, satisfaction.
- triage_report_backlog: open complaints by age bucket (at refresh time) x category x
  language.
- triage_report_agent_day, triage_report_agent_load: each agent's work per day (replies,
  resolutions, the ratings of what they resolved) and the open complaints they hold.
- triage_report_sla_outcome: the due times of each resolved complaint, under the SLA
  policy in force when it was resolved (the worker computes them with triage_core.sla:
  resolving a complaint deletes its queue entry, and with it the due times the SLA
  worker kept). No foreign key: Django's test flush truncates the model tables only.
- triage_report_refresh: when the figures were last refreshed ("figures as of").

Each view has a unique index on its key, which REFRESH MATERIALIZED VIEW CONCURRENTLY
needs (readers keep the old rows until the refresh commits). A view depends on the
columns it reads: a later migration that changes the type of one of them must drop the
views first and create them again (CREATE_VIEWS and DROP_VIEWS, importable with
importlib.import_module("triage_app.migrations.0019_reports")).
"""
from django.db import migrations

from triage_core.reports import AGE_EDGES_HOURS, ALL
from triage_core.sla import BREACHED

CATEGORY = "coalesce(s.category, '')"
# As the model identified it (triage 2.0 does; vader does not), else the customer's.
LANGUAGE = "coalesce(nullif(s.language, ''), c.language)"
UTC_DAY = "(({column}) AT TIME ZONE 'UTC')::date"

PERIOD = f"""
CREATE MATERIALIZED VIEW triage_report_period AS
WITH facts AS (
    SELECT {UTC_DAY.format(column="c.created_at")} AS day, {CATEGORY} AS category, {LANGUAGE} AS language,
           c.status = 'resolved' AND c.resolved_at IS NOT NULL AS resolved,
           -- A resolution answers the customer too (triage_core.sla's first-reply clock).
           coalesce(c.first_reply_at, c.resolved_at) AS replied_at,
           CASE WHEN c.status = 'resolved' THEN c.resolved_at END AS resolved_at,
           c.created_at,
           -- Open: the SLA worker's due times; resolved: those recorded at resolution.
           coalesce(q.first_reply_due, o.first_reply_due) AS first_reply_due,
           coalesce(q.resolution_due, o.resolution_due) AS resolution_due,
           sa.rating
    FROM triage_complaint c
    LEFT JOIN triage_score s ON s.complaint_id = c.id
    LEFT JOIN triage_queue_entry q ON q.complaint_id = c.id AND c.status <> 'resolved'
    LEFT JOIN triage_report_sla_outcome o
           ON o.complaint_id = c.id AND c.status = 'resolved' AND o.resolved_at = c.resolved_at
    LEFT JOIN triage_satisfaction sa ON sa.complaint_id = c.id
), clocks AS (
    SELECT day, category, language, resolved, rating,
           extract(epoch FROM replied_at - created_at)::float8 AS first_reply_s,
           extract(epoch FROM resolved_at - created_at)::float8 AS resolution_s,
           -- true: met; false: missed (done late, or still open past due); null: no
           -- target known, or still running.
           CASE WHEN first_reply_due IS NULL THEN NULL
                WHEN replied_at IS NOT NULL THEN replied_at <= first_reply_due
                WHEN now() >= first_reply_due THEN false END AS first_reply_met,
           CASE WHEN resolution_due IS NULL THEN NULL
                WHEN resolved_at IS NOT NULL THEN resolved_at <= resolution_due
                WHEN now() >= resolution_due THEN false END AS resolution_met
    FROM facts
), grouped AS (
    SELECT g.grain, g.period,
           CASE WHEN grouping(category) = 1 THEN '{ALL}' ELSE category END AS category_key,
           CASE WHEN grouping(language) = 1 THEN '{ALL}' ELSE language END AS language_key,
           count(*) AS received,
           count(first_reply_s) AS first_replied,
           count(*) FILTER (WHERE resolved) AS resolved,
           percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY first_reply_s) AS first_reply_pct,
           percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY resolution_s) AS resolution_pct,
           count(*) FILTER (WHERE first_reply_met) AS first_reply_met,
           count(*) FILTER (WHERE NOT first_reply_met) AS first_reply_missed,
           count(*) FILTER (WHERE resolution_met) AS resolution_met,
           count(*) FILTER (WHERE NOT resolution_met) AS resolution_missed,
           count(rating) AS rated,
           coalesce(sum(rating), 0) AS rating_sum,
           count(*) FILTER (WHERE rating >= 4) AS satisfied
    FROM clocks,
         LATERAL (VALUES ('day', day), ('week', date_trunc('week', day::timestamp)::date),
                         ('month', date_trunc('month', day::timestamp)::date)) AS g(grain, period)
    GROUP BY GROUPING SETS ((g.grain, g.period), (g.grain, g.period, category), (g.grain, g.period, language),
                            (g.grain, g.period, category, language))
)
SELECT grain, period, category_key AS category, language_key AS language, received, first_replied, resolved,
       first_reply_pct[1] AS first_reply_p50, first_reply_pct[2] AS first_reply_p90,
       resolution_pct[1] AS resolution_p50, resolution_pct[2] AS resolution_p90,
       first_reply_met, first_reply_missed, resolution_met, resolution_missed, rated, rating_sum, satisfied
FROM grouped"""

EDGES = ", ".join(str(edge) for edge in AGE_EDGES_HOURS)
BACKLOG = f"""
CREATE MATERIALIZED VIEW triage_report_backlog AS
SELECT width_bucket(extract(epoch FROM now() - c.created_at)::float8 / 3600, ARRAY[{EDGES}]::float8[]) AS age_bucket,
       {CATEGORY} AS category, {LANGUAGE} AS language,
       count(*) AS open,
       count(*) FILTER (WHERE c.claimed_by_id IS NULL) AS unclaimed,
       count(*) FILTER (WHERE q.sla_state = '{BREACHED}') AS breached
FROM triage_complaint c
LEFT JOIN triage_score s ON s.complaint_id = c.id
LEFT JOIN triage_queue_entry q ON q.complaint_id = c.id
WHERE c.status <> 'resolved'
GROUP BY 1, 2, 3"""

AGENT_DAY = f"""
CREATE MATERIALIZED VIEW triage_report_agent_day AS
WITH work AS (
    SELECT e.actor_id AS agent_id, e.complaint_id, {UTC_DAY.format(column="e.created_at")} AS day,
           (e.kind = 'resolved')::int AS resolved, (e.kind = 'reply')::int AS replies, 0 AS rated, 0 AS rating_sum
    FROM triage_complaint_event e
    WHERE e.kind IN ('resolved', 'reply') AND e.actor_id IS NOT NULL
    UNION ALL
    -- The customer's rating counts for the agent who resolved the complaint, on the day they gave it.
    SELECT sa.agent_id, sa.complaint_id, {UTC_DAY.format(column="sa.created_at")}, 0, 0, 1, sa.rating
    FROM triage_satisfaction sa
    WHERE sa.agent_id IS NOT NULL
)
SELECT w.day, w.agent_id, {CATEGORY} AS category, {LANGUAGE} AS language,
       sum(w.resolved)::int AS resolved, sum(w.replies)::int AS replies, sum(w.rated)::int AS rated,
       sum(w.rating_sum)::int AS rating_sum
FROM work w
JOIN triage_complaint c ON c.id = w.complaint_id
LEFT JOIN triage_score s ON s.complaint_id = c.id
GROUP BY 1, 2, 3, 4"""

AGENT_LOAD = f"""
CREATE MATERIALIZED VIEW triage_report_agent_load AS
SELECT c.claimed_by_id AS agent_id, {CATEGORY} AS category, {LANGUAGE} AS language,
       count(*) AS open,
       count(*) FILTER (WHERE c.status = 'awaiting_staff') AS awaiting_staff,
       count(*) FILTER (WHERE q.sla_state = '{BREACHED}') AS breached
FROM triage_complaint c
LEFT JOIN triage_score s ON s.complaint_id = c.id
LEFT JOIN triage_queue_entry q ON q.complaint_id = c.id
WHERE c.status <> 'resolved' AND c.claimed_by_id IS NOT NULL
GROUP BY 1, 2, 3"""

TABLES = [
    "CREATE TABLE triage_report_sla_outcome (complaint_id uuid PRIMARY KEY, resolved_at timestamptz NOT NULL,"
    " first_reply_due timestamptz NOT NULL, resolution_due timestamptz NOT NULL, sla_version integer NOT NULL)",
    "CREATE TABLE triage_report_refresh (id smallint PRIMARY KEY CHECK (id = 1), refreshed_at timestamptz NOT NULL,"
    " seconds double precision NOT NULL)",
    # The views below are computed once now: these are the figures' time until the worker's first refresh.
    "INSERT INTO triage_report_refresh (id, refreshed_at, seconds) VALUES (1, now(), 0)",
]
CREATE_VIEWS = [
    PERIOD,
    # The page reads one category and language over a range of periods.
    "CREATE UNIQUE INDEX triage_report_period_key ON triage_report_period (grain, category, language, period)",
    BACKLOG,
    "CREATE UNIQUE INDEX triage_report_backlog_key ON triage_report_backlog (age_bucket, category, language)",
    AGENT_DAY,
    "CREATE UNIQUE INDEX triage_report_agent_day_key ON triage_report_agent_day (day, agent_id, category, language)",
    AGENT_LOAD,
    "CREATE UNIQUE INDEX triage_report_agent_load_key ON triage_report_agent_load (agent_id, category, language)",
]
DROP_VIEWS = [f"DROP MATERIALIZED VIEW IF EXISTS {name}" for name in (
    "triage_report_agent_load", "triage_report_agent_day", "triage_report_backlog", "triage_report_period")]
DROP_TABLES = ["DROP TABLE IF EXISTS triage_report_refresh", "DROP TABLE IF EXISTS triage_report_sla_outcome"]


class Migration(migrations.Migration):
    dependencies = [("triage_app", "0019_teams")]

    operations = [migrations.RunSQL(tuple(TABLES + CREATE_VIEWS), tuple(DROP_VIEWS + DROP_TABLES))]
