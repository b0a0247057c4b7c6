"""Every read of the triage app, shaped for the page, API or push that needs it; one module
per subject:

- users: who may do what;
- admin_settings: the current policy and experiment;
- complaints: one complaint for its customer and for staff;
- queue: the staff queue;
- ab: the A/B results; health: the pipeline as the database sees it;
- mail: what customers were sent;
- search: staff search over complaints, notes and replies (full text, filters, pages);
- teams: who sees which complaints (Viewer), who can take them, each agent's load;
- reports: the operational reports (their materialised aggregates) and their CSV files.

Callers import this package (`selectors.complaint_queue(...)`); it names what the modules offer.
"""
from triage_app.selectors.ab import HISTOGRAM_BINS, SATISFACTION_GROUPS, ab_results, satisfaction_results
from triage_app.selectors.admin_settings import (
    experiment_current,
    policy_as_core,
    policy_current,
    sla_policy_as_core,
    sla_policy_current,
)
from triage_app.selectors.complaints import (
    complaint_detail,
    complaint_get_by_tracking_code,
    complaint_public_data,
    complaint_public_history,
    complaint_timeline,
)
from triage_app.selectors.health import pipeline_db_health
from triage_app.selectors.mail import MAILDIR_PAGE, mail_outbox_summary, maildir_message, maildir_recent
from triage_app.selectors.queue import (
    QUEUE_LIMIT,
    complaint_queue,
    queue_filter_choices,
    queue_item,
    queue_items,
    queue_items_by_ids,
)
from triage_app.selectors.reports import (
    REPORT_CSV,
    ReportFilters,
    report_choices,
    report_csv,
    report_filters_from,
    report_page,
)
from triage_app.selectors.search import (
    SEARCH_PAGE_SIZE,
    SEARCH_PAGE_SIZE_MAX,
    SEARCH_RANK_MAX,
    SearchFilters,
    complaint_search,
    search_filters_from,
    search_page,
    search_paging_from,
)
from triage_app.selectors.teams import (
    Viewer,
    agent_loads,
    complaint_visible,
    holder_filters_from,
    teams_all,
    viewer_of,
)
from triage_app.selectors.users import user_is_staff, user_is_triage_admin

__all__ = [
    "ab_results", "agent_loads", "complaint_detail",
    "complaint_get_by_tracking_code", "complaint_public_data", "complaint_public_history", "complaint_queue",
    "complaint_search", "complaint_timeline", "complaint_visible", "experiment_current", "HISTOGRAM_BINS",
    "holder_filters_from", "mail_outbox_summary", "maildir_message", "MAILDIR_PAGE", "maildir_recent",
    "pipeline_db_health", "policy_as_core", "policy_current", "queue_filter_choices", "queue_item", "queue_items",
    "queue_items_by_ids", "QUEUE_LIMIT", "SATISFACTION_GROUPS", "satisfaction_results", "search_filters_from",
    "search_page", "SEARCH_PAGE_SIZE", "SEARCH_PAGE_SIZE_MAX", "search_paging_from", "SEARCH_RANK_MAX",
    "SearchFilters", "sla_policy_as_core", "sla_policy_current", "teams_all", "user_is_staff", "user_is_triage_admin",
    "Viewer", "viewer_of",
    "REPORT_CSV", "ReportFilters", "report_choices", "report_csv", "report_filters_from", "report_page",
]
