"""The alert triggers of 0020 ask first whether anyone wants an alert at all (an active
webhook for the event, or a team with an on-call address) before they gather the ids of
the statement: a policy re-rank of 800k scores, or an SLA pass that records 800k breaches,
no longer builds an array of every id only for triage_alerts_owe to find nobody to tell."""
from importlib import import_module

from django.db import migrations

WANTED = """
CREATE OR REPLACE FUNCTION triage_alerts_wanted(what text) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM triage_webhook WHERE active AND events ? what)
        OR EXISTS (SELECT 1 FROM triage_team WHERE oncall_email <> '')
$$"""

SCORE_FUNCTION = """
CREATE OR REPLACE FUNCTION triage_score_alerts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT triage_alerts_wanted('escalated') THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        PERFORM triage_alerts_owe(ARRAY(SELECT complaint_id FROM new_scores WHERE escalated), 'escalated');
    ELSE
        PERFORM triage_alerts_owe(ARRAY(
            SELECT n.complaint_id FROM new_scores n JOIN old_scores o USING (complaint_id)
            WHERE n.escalated AND NOT o.escalated AND n.revision <> o.revision), 'escalated');
    END IF;
    RETURN NULL;
END $$"""

EVENT_FUNCTION = """
CREATE OR REPLACE FUNCTION triage_event_alerts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT triage_alerts_wanted('sla_breached') THEN
        RETURN NULL;
    END IF;
    PERFORM triage_alerts_owe(ARRAY(SELECT complaint_id FROM new_events WHERE kind = 'sla_breached'),
                              'sla_breached');
    RETURN NULL;
END $$"""


def _previous(name: str) -> str:
    return getattr(import_module("triage_app.migrations.0020_alerts"), name)


class Migration(migrations.Migration):
    dependencies = [("triage_app", "0022_team_reports")]

    operations = [
        migrations.RunSQL(WANTED, "DROP FUNCTION IF EXISTS triage_alerts_wanted(text)"),
        migrations.RunSQL(SCORE_FUNCTION, _previous("SCORE_FUNCTION")),
        migrations.RunSQL(EVENT_FUNCTION, _previous("EVENT_FUNCTION")),
    ]
