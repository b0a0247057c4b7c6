"""Per-team load and throughput for the operational reports, materialised beside the
per-agent views of 0019_reports and refreshed with them (services.reports.REPORT_VIEWS).

A complaint counts for the team it belongs to now (Complaint.team; team 0: none yet).
- triage_report_team_load: the open complaints of each team, held by someone or not,
  awaiting staff, SLA-breached;
- triage_report_team_day: per team and day, the complaints it received (submission day)
  and the replies and resolutions of its complaints (the day they were done).
"""
from django.db import migrations

from triage_core.sla import BREACHED

CATEGORY = "coalesce(s.category, '')"
LANGUAGE = "coalesce(nullif(s.language, ''), c.language)"
UTC_DAY = "(({column}) AT TIME ZONE 'UTC')::date"

TEAM_LOAD = f"""
CREATE MATERIALIZED VIEW triage_report_team_load AS
SELECT coalesce(c.team_id, 0) AS team_id, {CATEGORY} AS category, {LANGUAGE} AS language,
       count(*) AS open,
       count(*) FILTER (WHERE c.claimed_by_id IS NULL) AS unclaimed,
       count(*) FILTER (WHERE c.status = 'awaiting_staff') AS awaiting_staff,
       count(*) FILTER (WHERE q.sla_state = '{BREACHED}') AS breached
FROM triage_complaint c
LEFT JOIN triage_score s ON s.complaint_id = c.id
LEFT JOIN triage_queue_entry q ON q.complaint_id = c.id
WHERE c.status <> 'resolved'
GROUP BY 1, 2, 3"""

TEAM_DAY = f"""
CREATE MATERIALIZED VIEW triage_report_team_day AS
WITH work AS (
    SELECT c.id AS complaint_id, {UTC_DAY.format(column="c.created_at")} AS day, 1 AS received, 0 AS replies,
           0 AS resolved
    FROM triage_complaint c
    UNION ALL
    SELECT e.complaint_id, {UTC_DAY.format(column="e.created_at")}, 0, (e.kind = 'reply')::int,
           (e.kind = 'resolved')::int
    FROM triage_complaint_event e
    WHERE e.kind IN ('resolved', 'reply')
)
SELECT w.day, coalesce(c.team_id, 0) AS team_id, {CATEGORY} AS category, {LANGUAGE} AS language,
       sum(w.received)::int AS received, sum(w.replies)::int AS replies, sum(w.resolved)::int AS resolved
FROM work w
JOIN triage_complaint c ON c.id = w.complaint_id
LEFT JOIN triage_score s ON s.complaint_id = c.id
GROUP BY 1, 2, 3, 4"""

CREATE = [
    TEAM_LOAD,
    "CREATE UNIQUE INDEX triage_report_team_load_key ON triage_report_team_load (team_id, category, language)",
    TEAM_DAY,
    "CREATE UNIQUE INDEX triage_report_team_day_key ON triage_report_team_day (day, team_id, category, language)",
]
DROP = ["DROP MATERIALIZED VIEW IF EXISTS triage_report_team_day",
        "DROP MATERIALIZED VIEW IF EXISTS triage_report_team_load"]


class Migration(migrations.Migration):
    dependencies = [("triage_app", "0021_duplicates_and_repeat_contact")]

    operations = [migrations.RunSQL(tuple(CREATE), tuple(DROP))]
