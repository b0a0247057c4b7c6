"""Tables of the triage product. Names and columns follow docs/contracts.md, because the
Spark job writes triage_complaint, triage_score, triage_shadow_score and
triage_dead_letter with plain SQL; columns the contract does not name are nullable or
have a database default, so those inserts keep working.
"""
from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F
from django.db.models.functions import Now, Upper
from django.utils.translation import gettext_lazy as _

# Migrations name the default as triage_app.models.new_tracking_code.
from triage_core.messages import SOURCE_LABELS, new_reply_token, new_tracking_code


class Team(models.Model):
    """A group of agents who work the complaints routed to it (RoutingRule) or assigned
    to it. An agent in one or more teams sees those teams' complaints and those of no
    team; an agent in none, and every admin, sees all (selectors.complaints_visible_to)."""

    name = models.CharField(max_length=100, unique=True)
    # Where the team's on-call alerts go (escalations, SLA breaches); empty: none.
    oncall_email = models.EmailField(max_length=254, blank=True, default="")
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="triage_teams")
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "triage_team"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RoutingRule(models.Model):
    """Sends scored complaints of a category and/or language to a team. The first rule
    by position that matches a complaint without a team wins, when its first score is
    written (the Postgres function triage_complaints_route, migration 0019_teams); an empty
    category or language matches any."""

    position = models.PositiveIntegerField(default=100)
    category = models.CharField(max_length=32, blank=True, default="")
    language = models.CharField(max_length=8, blank=True, default="")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="routing_rules")

    class Meta:
        db_table = "triage_routing_rule"
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.category or '*'} / {self.language or '*'} -> {self.team}"


class Complaint(models.Model):
    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        ANALYSED = "analysed", _("Analysed")
        IN_REVIEW = "in_review", _("In review")
        AWAITING_STAFF = "awaiting_staff", _("Awaiting staff")  # the customer wrote again
        RESOLVED = "resolved", _("Resolved")

    # WEB, API, BULK, LOADGEN, KAFKA: triage_core.messages.SOURCE_LABELS, which the stream reads too.
    # django-stubs types the functional API without (value, label) members.
    Source = models.TextChoices("Source", [(value.upper(), (value, label))  # type: ignore[call-overload]
                                           for value, label in SOURCE_LABELS.items()])

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tracking_code = models.CharField(max_length=64, unique=True, default=new_tracking_code, editable=False)
    text = models.TextField()
    email = models.EmailField(max_length=254, null=True, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    created_at = models.DateTimeField(db_default=Now())
    updated_at = models.DateTimeField(db_default=Now())
    # Not in the contract (the stream never writes them), hence nullable.
    claimed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="claimed_complaints")
    claimed_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # The customer's language for pages and mail ("en", "ru"), chosen at submission; the
    # local part of the complaint's reply address (reply+<token>@TRIAGE_MAIL_DOMAIN).
    # Complaints the stream creates from Kafka have no customer address: no token.
    language = models.CharField(max_length=8, default="en", db_default="en")
    reply_token = models.CharField(max_length=40, unique=True, null=True, blank=True, default=new_reply_token,
                                   editable=False)
    # The customer asked for no more mail about this complaint (the link in every mail).
    mail_opt_out = models.BooleanField(default=False, db_default=False)
    # A customer's reply to a complaint resolved too long ago opens a new one that follows it.
    follows = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="follow_ups")
    # The first staff reply: it stops the first-reply clock (triage_core.sla).
    first_reply_at = models.DateTimeField(null=True, blank=True)
    # The team working it: set by the routing rules when it is first scored, or by staff.
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="complaints")
    # Staff said it is about the same matter as another complaint (linked, or merged into it).
    duplicate_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="duplicates")

    class Meta:
        db_table = "triage_complaint"
        indexes = [models.Index(fields=["status"], name="triage_complaint_status_idx"),
                   # The same customer's other complaints (the complaint page): by address.
                   models.Index(Upper("email"), name="triage_complaint_email_idx"),
                   # Search's newest-first listing of broad words (selectors/search.py).
                   models.Index(F("created_at").desc(), name="triage_complaint_created_idx")]

    def __str__(self) -> str:
        return f"{self.id} ({self.status})"


class QueueEntry(models.Model):
    """An open, scored complaint's place in the staff queue and its service-level clocks
    (triage_core.sla), in a narrow table of its own: the SLA worker rewrites ranks of
    hundreds of thousands of complaints a minute, and an update of the complaint row
    itself would rewrite every index of it, its text's full-text indexes too.

    A statement-level trigger on triage_score (migration 0015) makes an entry at least
    its score's own rank the moment a score is written; the SLA worker sets the exact
    rank (waiting time, SLA state) and the due times on its pass, and resolving a
    complaint takes its entry out of the queue."""

    complaint = models.OneToOneField(Complaint, primary_key=True, on_delete=models.CASCADE, related_name="queue")
    queue_rank = models.FloatField()
    first_reply_due = models.DateTimeField(null=True, blank=True)
    resolution_due = models.DateTimeField(null=True, blank=True)
    sla_state = models.CharField(max_length=16, null=True, blank=True)
    sla_reason = models.CharField(max_length=120, blank=True, default="", db_default="")
    sla_version = models.IntegerField(null=True, blank=True)
    # When the clock alone can next change its state or rank (triage_core.sla.next_change_at):
    # the SLA worker's steady pass evaluates only entries whose time has come. Null: now.
    next_check_at = models.DateTimeField(null=True, blank=True)
    # The customer's other complaints in the REPEAT_WINDOW_DAYS before this one (by their
    # address), counted when it enters the queue: repeat contact lifts the rank.
    repeat_contacts = models.IntegerField(default=0, db_default=0)

    class Meta:
        db_table = "triage_queue_entry"
        indexes = [models.Index(F("queue_rank").desc(), name="triage_queue_rank_idx"),
                   # The SLA worker's steady pass finds the entries whose turn has come
                   # through these two, instead of reading every open complaint.
                   models.Index(fields=["next_check_at"], name="triage_queue_next_check_idx"),
                   models.Index(fields=["sla_version"], name="triage_queue_sla_version_idx")]

    def __str__(self) -> str:
        return f"{self.complaint_id} at {self.queue_rank:g}"


class ComplaintEvent(models.Model):
    """One thing that happened to a complaint; `public` events are shown to the customer."""

    class Kind(models.TextChoices):
        RECEIVED = "received", _("Received")
        CLAIMED = "claimed", _("Claimed")
        RELEASED = "released", _("Released")
        NOTE = "note", _("Internal note")
        REPLY = "reply", _("Reply to customer")
        CUSTOMER_REPLY = "customer_reply", _("Customer wrote")
        REOPENED = "reopened", _("Reopened by the customer")
        RESOLVED = "resolved", _("Resolved")
        REEVALUATED = "reevaluated", _("Re-evaluated")
        SLA_BREACHED = "sla_breached", _("SLA breached")
        CORRECTED = "corrected", _("Model corrected")
        ASSIGNED = "assigned", _("Assigned")
        DUPLICATE = "duplicate", _("Duplicate linked")
        MERGED = "merged", _("Handled with another complaint")  # shown to the customer (merged)

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Complaint.Status.choices, null=True, blank=True)
    public = models.BooleanField(default=False)
    body = models.TextField(blank=True, default="")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "triage_complaint_event"
        ordering = ["created_at", "id"]


class OutboxEntry(models.Model):
    """A Kafka message owed for a stored complaint, written in the transaction of the event
    that causes it (the submission, or a customer's later message).

    `published_at` is set only from the producer's delivery callback, so an entry whose
    publish was lost (broker down, process killed) stays pending for the relay.
    """

    # One per message: the submission, and one more each time the customer writes again.
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="outbox_entries")
    topic = models.CharField(max_length=255)
    key = models.CharField(max_length=64)
    payload = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        db_table = "triage_outbox"
        indexes = [
            models.Index(fields=["created_at"], name="triage_outbox_pending_idx",
                         condition=models.Q(published_at__isnull=True)),
        ]


class Satisfaction(models.Model):
    """The customer's answer to "how satisfied are you?" (1-5) after resolution, with
    who resolved it: the A/B page and the admin read it per agent, category and arm."""

    complaint = models.OneToOneField(Complaint, on_delete=models.CASCADE, related_name="satisfaction")
    rating = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True, default="")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "triage_satisfaction"
        constraints = [models.CheckConstraint(condition=models.Q(rating__gte=1, rating__lte=5),
                                              name="triage_satisfaction_rating_1_to_5")]

    def __str__(self) -> str:
        return f"{self.rating}/5 for {self.complaint_id}"


class MailMessage(models.Model):
    """One mail owed to a customer, written in the transaction of the event that causes it
    (submission, staff reply, resolution) and sent by `manage.py mail_relay`, so a mail
    server that is down delays the mail and never loses it.

    `sent_at` is set in the transaction that holds the row's lock while the SMTP server
    accepts the message: two relays never send one row, and a failed send is retried
    with back-off (`next_attempt_at`)."""

    class Kind(models.TextChoices):
        ACKNOWLEDGEMENT = "acknowledgement", _("Acknowledgement")
        REPLY = "reply", _("Staff reply")
        RESOLVED = "resolved", _("Resolution")
        BOUNCE = "bounce", _("Bounce")

    complaint = models.ForeignKey(Complaint, null=True, blank=True, on_delete=models.CASCADE,
                                  related_name="mails")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    to_address = models.EmailField(max_length=254)
    subject = models.CharField(max_length=255)
    body_text = models.TextField()
    body_html = models.TextField(blank=True, default="")
    message_id = models.CharField(max_length=255, unique=True)
    in_reply_to = models.CharField(max_length=255, blank=True, default="")
    reply_to = models.CharField(max_length=254, blank=True, default="")
    auto_submitted = models.BooleanField(default=True)
    language = models.CharField(max_length=8, default="en")
    created_at = models.DateTimeField(auto_now_add=True)
    next_attempt_at = models.DateTimeField(db_default=Now())
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        db_table = "triage_mail_outbox"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["next_attempt_at"], name="triage_mail_pending_idx",
                         condition=models.Q(sent_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to_address} ({'sent' if self.sent_at else 'pending'})"


class ScoreColumns(models.Model):
    model_name = models.CharField(max_length=64)
    model_version = models.CharField(max_length=64)
    compound = models.FloatField()
    neg = models.FloatField()
    neu = models.FloatField()
    pos = models.FloatField()
    label = models.CharField(max_length=32)
    category = models.CharField(max_length=64, null=True, blank=True)
    signals = models.JSONField(default=dict, db_default={})
    explanation = models.TextField(blank=True, default="", db_default="")
    # Models that identify the language and estimate whether the text is a complaint at
    # all (triage 2.0) fill these; vader leaves them empty.
    language = models.CharField(max_length=16, null=True, blank=True)
    complaint_probability = models.FloatField(null=True, blank=True)
    scored_at = models.DateTimeField(db_default=Now())
    scoring_ms = models.FloatField(null=True, blank=True)

    class Meta:
        abstract = True


class Score(ScoreColumns):
    """The serving model's score; written by the stream (one row per complaint)."""

    complaint = models.OneToOneField(Complaint, primary_key=True, on_delete=models.CASCADE,
                                     related_name="score")
    arm = models.CharField(max_length=32)
    experiment_version = models.IntegerField()
    priority = models.FloatField()
    escalated = models.BooleanField()
    policy_version = models.IntegerField()
    kafka_topic = models.CharField(max_length=255)
    kafka_partition = models.IntegerField()
    kafka_offset = models.BigIntegerField()
    enqueued_at = models.DateTimeField()
    # 0 for the complaint as submitted; n once the customer wrote n more times (the stream
    # then scored the conversation so far and replaced this row: streaming/sink.py).
    revision = models.IntegerField(default=0, db_default=0)

    class Meta:
        db_table = "triage_score"
        indexes = [
            # The queue's order (selectors.complaint_queue), so a dashboard reads the top
            # of the ranking instead of sorting every open score.
            models.Index(fields=["-escalated", "-priority", "compound"], name="triage_score_queue_idx"),
            models.Index(fields=["scored_at"], name="triage_score_scored_at_idx"),
        ]


class ShadowScore(ScoreColumns):
    """A shadow model's score of a complaint: compared, never served."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="shadow_scores")

    class Meta:
        db_table = "triage_shadow_score"
        constraints = [
            models.UniqueConstraint(fields=["complaint", "model_name"], name="triage_shadow_score_once"),
        ]


class DeadLetter(models.Model):
    """A Kafka record the stream could not accept, kept with its raw bytes."""

    topic = models.CharField(max_length=255)
    partition = models.IntegerField()
    offset = models.BigIntegerField()
    raw_key = models.BinaryField(null=True, blank=True)
    raw_value = models.BinaryField(null=True, blank=True)
    reason = models.CharField(max_length=64)
    detail = models.TextField(blank=True, default="", db_default="")
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "triage_dead_letter"
        constraints = [
            models.UniqueConstraint(fields=["topic", "partition", "offset"], name="triage_dead_letter_once"),
        ]
        ordering = ["-created_at"]


class EscalationPolicy(models.Model):
    """Append-only: a change is a new version; the current policy has the highest version."""

    version = models.IntegerField(unique=True)
    escalate_at = models.FloatField()
    negative_compound = models.FloatField()
    weight_sentiment = models.FloatField()
    weight_severity = models.FloatField()
    weight_category = models.FloatField()
    weight_complaint = models.FloatField(db_default=0.0)
    min_complaint = models.FloatField(db_default=0.0)
    signal_triggers = models.JSONField(default=list, db_default=[])
    unsupported_priority = models.FloatField(db_default=50.0)
    created_at = models.DateTimeField(db_default=Now())
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        db_table = "triage_escalation_policy"
        ordering = ["-version"]
        verbose_name_plural = "escalation policies"
        # The one permission of admins (selectors.user_is_triage_admin): the product's
        # policy, experiment, A/B and health screens and their Django admin pages alike.
        permissions = [("triage_admin", "Can tune the escalation policy and run model experiments")]

    def __str__(self) -> str:
        return f"policy v{self.version}"


class Correction(models.Model):
    """A staff member's correction of the model's reading of one complaint, with what the
    model said at the time (triage_app/services/corrections.py)."""

    class Kind(models.TextChoices):
        CATEGORY = "category", _("Category corrected")
        NOT_COMPLAINT = "not_complaint", _("Not a complaint")
        URGENCY_TOO_HIGH = "urgency_too_high", _("Urgency too high")
        URGENCY_TOO_LOW = "urgency_too_low", _("Urgency too low")

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="corrections")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    value = models.CharField(max_length=32, blank=True, default="")  # the category staff set
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(db_default=Now())
    # What the model said when staff corrected it.
    model_name = models.CharField(max_length=64)
    model_version = models.CharField(max_length=64)
    arm = models.CharField(max_length=64)
    model_category = models.CharField(max_length=32, null=True, blank=True)
    model_priority = models.FloatField()
    model_escalated = models.BooleanField()

    class Meta:
        db_table = "triage_correction"
        indexes = [models.Index(fields=["complaint", "created_at"], name="triage_correction_cpl_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.value} on {self.complaint_id}"


class CannedReply(models.Model):
    """A prepared answer staff insert from the reply box, its placeholders filled in for
    the complaint at hand (triage_app/canned.py: {tracking_code}, {tracking_url},
    {customer_email}, {agent}, {submitted}). Admins write them in the Django admin."""

    title = models.CharField(max_length=80, unique=True)
    body = models.TextField()
    # "en", "ru": offered on complaints in that language; empty: on every complaint.
    language = models.CharField(max_length=8, blank=True, default="")
    # Offered to this team's members only; none: to everyone.
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="canned_replies")
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "triage_canned_reply"
        ordering = ["title"]
        verbose_name_plural = "canned replies"

    def __str__(self) -> str:
        return self.title


class ServiceLevelPolicy(models.Model):
    """Append-only, like the escalation policy: the targets for first reply and
    resolution per band and category, how ageing lifts a waiting complaint, and optional
    business hours (triage_core.sla). The current one has the highest version."""

    version = models.IntegerField(unique=True)
    # [{"band", "category" (null: any), "first_reply_minutes", "resolution_minutes"}]
    targets = models.JSONField()
    high_at = models.FloatField()
    at_risk_fraction = models.FloatField()
    ageing_per_hour = models.FloatField()
    ageing_cap = models.FloatField()
    # null: calendar time; else {"start_hour", "end_hour", "weekdays", "country", "timezone"}
    business_hours = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(db_default=Now())
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        db_table = "triage_sla_policy"
        ordering = ["-version"]
        verbose_name = "service level policy"
        verbose_name_plural = "service level policies"

    def __str__(self) -> str:
        return f"SLA policy v{self.version}"


class Experiment(models.Model):
    """Append-only: which model serves how much traffic, and which one runs in shadow."""

    version = models.IntegerField(unique=True)
    arms = models.JSONField()
    shadow_model = models.CharField(max_length=64, null=True, blank=True)
    created_at = models.DateTimeField(db_default=Now())
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        db_table = "triage_experiment"
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"experiment v{self.version}"


class StreamBatch(models.Model):
    """One micro-batch of the Spark job, recorded by the stream if it chooses to.

    Optional part of the contract: the health page shows it when rows exist and falls
    back to figures derived from triage_score otherwise.
    """

    batch_id = models.BigIntegerField()
    rows = models.IntegerField()
    dead_letters = models.IntegerField(null=True, blank=True, db_default=0)
    duration_ms = models.FloatField()
    scoring_ms = models.FloatField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "triage_stream_batch"
        ordering = ["-finished_at"]


class AuditLog(models.Model):
    """Who changed what admin setting, when, from what to what."""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    action = models.CharField(max_length=64)
    entity = models.CharField(max_length=64)
    old = models.JSONField(null=True, blank=True)
    new = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "triage_audit_log"
        ordering = ["-created_at", "-id"]


class Webhook(models.Model):
    """An admin-configured URL told about escalations and SLA breaches: a JSON POST signed
    with HMAC-SHA256 of the body under `secret` (triage_app/alerts.py), through the alert
    outbox (AlertDelivery) with retries."""

    class Event(models.TextChoices):
        ESCALATED = "escalated", _("Escalated")
        SLA_BREACHED = "sla_breached", _("SLA breached")

    name = models.CharField(max_length=100, unique=True)
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=128)
    # Event names it is sent (Webhook.Event values).
    events = models.JSONField(default=list)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "triage_webhook"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AlertDelivery(models.Model):
    """One alert owed: a webhook call or a mail to a team's on-call address, about one
    complaint and event. Rows are written in the transaction that escalates or breaches
    (Postgres triggers, migration 0020_alerts), so none is lost; `manage.py alert_relay`
    delivers them, retrying with back-off, and every attempt is kept in `attempts_log`."""

    class Channel(models.TextChoices):
        WEBHOOK = "webhook", _("Webhook")
        MAIL = "mail", _("On-call mail")

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="alerts")
    event = models.CharField(max_length=16, choices=Webhook.Event.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    webhook = models.ForeignKey(Webhook, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts")
    # The webhook's URL or the on-call address, as they were when the alert was owed.
    target = models.CharField(max_length=500)
    created_at = models.DateTimeField(db_default=Now())
    next_attempt_at = models.DateTimeField(db_default=Now())
    attempts = models.IntegerField(default=0, db_default=0)
    delivered_at = models.DateTimeField(null=True, blank=True)
    gave_up_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="", db_default="")
    # [{"at", "ok", "status", "error"}], the latest last, at most alerts.LOG_KEPT of them.
    attempts_log = models.JSONField(default=list, db_default=models.Value([], models.JSONField()))

    class Meta:
        db_table = "triage_alert_delivery"
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "alert deliveries"
        constraints = [models.UniqueConstraint(fields=["complaint", "event", "channel", "target"],
                                               name="triage_alert_once")]
        indexes = [models.Index(fields=["next_attempt_at"], name="triage_alert_due_idx",
                                condition=models.Q(delivered_at__isnull=True, gave_up_at__isnull=True))]

    def __str__(self) -> str:
        return f"{self.event} {self.channel} {self.target}"
