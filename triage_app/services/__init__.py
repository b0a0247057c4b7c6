"""Every write of the triage app, one module per subject. Each write also tells the
world after commit: the outbox publish to Kafka, the live push to staff dashboards, the
mail the customer is owed.

- complaints: submission and the staff actions on a complaint;
- customers: what the customer does afterwards (answers, ratings, unsubscribing);
- outbox: the Kafka outbox;
- routing: the admin's routing rules applied to complaints without a team;
- corrections: staff telling the model where it was wrong (a labelled source for training);
- policy, experiments, sla: the admin's versioned settings, audited (audit); sla also
  keeps every open complaint's service-level clocks and queue rank (sla_pass);
- reports: the refresh of the operational reports' aggregates (reports_refresh).

Callers import this package (`services.complaint_submit(...)`); it names what the
modules offer.
"""
from triage_app.services.audit import acting_user, audit_record
from triage_app.services.complaints import (
    STAFF_ACTIONS,
    STAFF_ACTIONS_WITH_BODY,
    complaint_assign,
    complaint_claim,
    complaint_link_duplicate,
    complaint_note_add,
    complaint_release,
    complaint_reply_add,
    complaint_resolve,
    complaint_submit,
    staff_act,
)
from triage_app.services.corrections import complaint_correct
from triage_app.services.customers import (
    CustomerReply,
    complaint_customer_reply,
    complaint_mail_opt_out,
    complaint_rate,
    mail_bounce,
)
from triage_app.services.experiments import (
    experiment_create,
    experiment_restore,
    experiment_validate,
    experiment_values,
)
from triage_app.services.outbox import outbox_publish, outbox_publish_rollback_safe, outbox_record_delivery
from triage_app.services.policy import (
    complaints_reevaluate,
    policy_create,
    policy_validate,
    policy_values,
    scores_reevaluate_stale,
)
from triage_app.services.reports import ReportsRefreshResult, reports_refresh
from triage_app.services.routing import complaints_route
from triage_app.services.sla import (
    SlaPassResult,
    sla_pass,
    sla_policy_create,
    sla_policy_validate,
    sla_policy_values,
)

__all__ = [
    "acting_user", "audit_record", "complaint_assign", "complaint_claim", "complaint_correct",
    "complaint_customer_reply", "complaint_link_duplicate", "complaint_mail_opt_out", "complaint_note_add",
    "complaint_rate", "complaint_release", "complaint_reply_add", "complaint_resolve", "complaint_submit",
    "complaints_reevaluate", "complaints_route", "CustomerReply", "experiment_create", "experiment_restore",
    "experiment_validate", "experiment_values", "mail_bounce", "outbox_publish", "outbox_publish_rollback_safe",
    "outbox_record_delivery", "policy_create", "policy_validate", "policy_values", "reports_refresh",
    "ReportsRefreshResult", "scores_reevaluate_stale", "sla_pass", "sla_policy_create", "sla_policy_validate",
    "sla_policy_values", "SlaPassResult", "staff_act", "STAFF_ACTIONS", "STAFF_ACTIONS_WITH_BODY",
]
