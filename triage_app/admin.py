"""Django admin: complaints and scores to look at, dead letters for admins, and the
append-only policy and experiment, where "editing" saves a new version through the
same validated, audited services as the admin screens."""
from __future__ import annotations

import json

from django import forms
from django.contrib import admin
from django.utils import timezone

from triage_app import alerts, errors, selectors, services
from triage_app.canned import PLACEHOLDERS, placeholder_problems
from triage_app.errors import InvalidInput
from triage_app.models import (
    AlertDelivery,
    AuditLog,
    CannedReply,
    Complaint,
    ComplaintEvent,
    DeadLetter,
    EscalationPolicy,
    Experiment,
    MailMessage,
    OutboxEntry,
    RoutingRule,
    Satisfaction,
    Score,
    ShadowScore,
    Team,
    Webhook,
)
from triage_core.priority import CATEGORY_WEIGHTS, POLICY_FIELDS


class ComplaintEventInline(admin.TabularInline):
    model = ComplaintEvent
    extra = 0
    readonly_fields = ("kind", "status", "public", "body", "actor", "created_at")
    can_delete = False


@admin.register(Complaint)
class ComplaintAdmin(admin.ModelAdmin):
    list_display = ("id", "status", "source", "created_at", "claimed_by")
    list_filter = ("status", "source")
    search_fields = ("id", "tracking_code", "email")
    readonly_fields = ("id", "tracking_code", "created_at", "updated_at")
    inlines = [ComplaintEventInline]


@admin.register(Score)
class ScoreAdmin(admin.ModelAdmin):
    list_display = ("complaint", "model_name", "model_version", "arm", "compound", "priority", "escalated", "scored_at")
    list_filter = ("model_name", "arm", "escalated", "category")

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # written by the stream


@admin.register(ShadowScore)
class ShadowScoreAdmin(admin.ModelAdmin):
    list_display = ("complaint", "model_name", "model_version", "compound", "label", "scored_at")

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(DeadLetter)
class DeadLetterAdmin(admin.ModelAdmin):
    list_display = ("topic", "partition", "offset", "reason", "created_at")
    list_filter = ("reason",)
    readonly_fields = ("topic", "partition", "offset", "reason", "detail", "created_at", "raw_key_text",
                       "raw_value_text")
    exclude = ("raw_key", "raw_value")

    @admin.display(description="raw key")
    def raw_key_text(self, obj: DeadLetter) -> str:
        return bytes(obj.raw_key).decode("utf-8", "replace") if obj.raw_key is not None else ""

    @admin.display(description="raw value")
    def raw_value_text(self, obj: DeadLetter) -> str:
        return bytes(obj.raw_value).decode("utf-8", "replace")[:5000] if obj.raw_value is not None else ""

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(OutboxEntry)
class OutboxEntryAdmin(admin.ModelAdmin):
    list_display = ("complaint", "topic", "created_at", "published_at", "attempts")
    list_filter = (("published_at", admin.EmptyFieldListFilter),)
    readonly_fields = ("complaint", "topic", "key", "payload", "created_at", "published_at", "attempts", "last_error")


@admin.register(Satisfaction)
class SatisfactionAdmin(admin.ModelAdmin):
    """Customers' ratings; per arm, category and agent on the A/B results page."""

    list_display = ("complaint", "rating", "agent", "created_at", "comment")
    list_filter = ("rating", "agent")
    readonly_fields = ("complaint", "rating", "comment", "agent", "created_at", "updated_at")

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(MailMessage)
class MailMessageAdmin(admin.ModelAdmin):
    """The mail outbox: what each customer was sent or is owed, and every failed attempt."""

    list_display = ("created_at", "kind", "to_address", "subject", "language", "sent_at", "attempts", "last_error")
    list_filter = ("kind", "language", ("sent_at", admin.EmptyFieldListFilter))
    search_fields = ("to_address", "subject", "message_id")
    readonly_fields = [f.name for f in MailMessage._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


class TriageAdminOnly(admin.ModelAdmin):
    """Seen and edited by triage admins only: the product's one rule (the "triage admin"
    permission), as on the product's own policy and experiment screens."""

    def has_module_permission(self, request) -> bool:
        return selectors.user_is_triage_admin(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return selectors.user_is_triage_admin(request.user)

    def has_add_permission(self, request) -> bool:
        return selectors.user_is_triage_admin(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return selectors.user_is_triage_admin(request.user)


class VersionedAdmin(TriageAdminOnly):
    """Saving creates the next version; old versions stay as they were."""

    def create_version(self, data, user):
        """The next version from the form's cleaned data, through the app's service."""
        raise NotImplementedError

    def get_readonly_fields(self, request, obj=None):
        return ("version", "created_at", "created_by")

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        saved = self.create_version(form.cleaned_data, request.user)
        obj.pk, obj.version = saved.pk, saved.version
        obj._state.adding = False

    def save_related(self, request, form, formsets, change) -> None:
        pass


def add_problems(form: forms.Form, exc: InvalidInput) -> None:
    """A service's InvalidInput shown on the form, each problem beside its field."""
    for field, problem in errors.problems(exc):
        form.add_error(field if field in form.fields else None, problem)


class PolicyForm(forms.ModelForm):
    class Meta:
        model = EscalationPolicy
        fields = POLICY_FIELDS

    def clean(self):
        cleaned = super().clean()
        try:
            services.policy_validate(values=cleaned)
        except InvalidInput as exc:
            add_problems(self, exc)
        return cleaned


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(VersionedAdmin):
    form = PolicyForm
    list_display = ("version", "escalate_at", "negative_compound", "weight_sentiment", "weight_severity",
                    "weight_category", "weight_complaint", "signal_triggers", "created_at", "created_by")

    def create_version(self, data, user):
        return services.policy_create(by=user, values=data)


class BoundedJSONField(forms.JSONField):
    """Django's JSONField, except that JSON nested too deep to parse is a form error
    (the standard library raises RecursionError, which became a 500)."""

    def to_python(self, value):
        try:
            return super().to_python(value)
        except RecursionError:
            raise forms.ValidationError(errors.JSON_TOO_DEEP, code="invalid") from None

    def bound_data(self, data, initial):
        try:
            return super().bound_data(data, initial)
        except RecursionError:
            return forms.fields.InvalidJSONInput(data)


class ExperimentForm(forms.ModelForm):
    arms = BoundedJSONField(help_text='e.g. [{"label": "A", "model": "vader", "weight": 80}, '
                                     '{"label": "B", "model": "triage", "weight": 20}]')

    class Meta:
        model = Experiment
        fields = ("arms", "shadow_model")

    def clean(self):
        cleaned = super().clean()
        try:
            services.experiment_validate(arms=cleaned.get("arms"), shadow_model=cleaned.get("shadow_model"))
        except InvalidInput as exc:
            add_problems(self, exc)
        return cleaned


@admin.register(Experiment)
class ExperimentAdmin(VersionedAdmin):
    form = ExperimentForm
    list_display = ("version", "arms_text", "shadow_model", "created_at", "created_by")

    @admin.display(description="arms")
    def arms_text(self, obj: Experiment) -> str:
        return json.dumps(obj.arms)

    def create_version(self, data, user):
        return services.experiment_create(by=user, arms=data["arms"], shadow_model=data.get("shadow_model"))


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = ("created_at", "actor", "action", "entity")
    list_filter = ("entity", "action")
    readonly_fields = ("created_at", "actor", "action", "entity", "old", "new")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class CannedReplyForm(forms.ModelForm):
    class Meta:
        model = CannedReply
        fields = ("title", "language", "team", "body", "active")
        help_texts = {"body": "Placeholders: " + "; ".join(f"{{{k}}} {v}" for k, v in PLACEHOLDERS.items()),
                      "language": '"en" or "ru" to offer it on complaints in that language only; empty: all',
                      "team": "offered to this team's members only; empty: to everyone"}

    def clean_body(self) -> str:
        body = self.cleaned_data["body"]
        if problems := placeholder_problems(body):
            raise forms.ValidationError(problems)
        return body

    def clean_language(self) -> str:
        language = self.cleaned_data["language"].strip().lower()
        if language not in ("", "en", "ru"):
            raise forms.ValidationError('"en", "ru" or empty')
        return language


@admin.register(CannedReply)
class CannedReplyAdmin(TriageAdminOnly):
    """Canned replies for the staff reply box; written by triage admins."""
    form = CannedReplyForm
    list_display = ("title", "language", "team", "active", "updated_at")
    list_filter = ("language", "team", "active")

    def has_delete_permission(self, request, obj=None) -> bool:
        return selectors.user_is_triage_admin(request.user)


@admin.register(Team)
class TeamAdmin(TriageAdminOnly):
    """Teams of agents, written by triage admins. An agent in a team sees that team's
    complaints and those of no team (selectors.teams); the on-call address gets the
    team's alerts."""
    list_display = ("name", "oncall_email", "member_count")
    search_fields = ("name",)
    filter_horizontal = ("members",)

    @admin.display(description="members")
    def member_count(self, obj: Team) -> int:
        return obj.members.count()

    def has_delete_permission(self, request, obj=None) -> bool:
        return selectors.user_is_triage_admin(request.user)


class RoutingRuleForm(forms.ModelForm):
    class Meta:
        model = RoutingRule
        fields = ("position", "category", "language", "team")
        help_texts = {"position": "rules are tried lowest first; the first that matches wins",
                      "category": "the model's category: " + ", ".join(CATEGORY_WEIGHTS) + "; empty: any",
                      "language": 'a language code as the model identifies it ("en", "ru", "es", ...); empty: any'}

    def clean_category(self) -> str:
        category = self.cleaned_data["category"].strip()
        if category and category not in CATEGORY_WEIGHTS:
            raise forms.ValidationError("one of " + ", ".join(CATEGORY_WEIGHTS) + ", or empty")
        return category

    def clean_language(self) -> str:
        language = self.cleaned_data["language"].strip().lower()
        if language and not (language.isascii() and language.isalpha() and 2 <= len(language) <= 3):
            raise forms.ValidationError('a two- or three-letter language code such as "en", or empty')
        return language


@admin.register(RoutingRule)
class RoutingRuleAdmin(TriageAdminOnly):
    """Which team a newly scored complaint goes to. Saving a rule also routes the open
    complaints that have no team yet (services.complaints_route)."""
    form = RoutingRuleForm
    list_display = ("position", "category", "language", "team")
    list_display_links = ("position",)
    ordering = ("position", "id")

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        routed = services.complaints_route()
        if routed:
            self.message_user(request, f"{routed} open complaints without a team were routed.")

    def has_delete_permission(self, request, obj=None) -> bool:
        return selectors.user_is_triage_admin(request.user)


class WebhookForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(choices=Webhook.Event.choices, widget=forms.CheckboxSelectMultiple,
                                       help_text="what it is told about")

    class Meta:
        model = Webhook
        fields = ("name", "url", "events", "active")
        help_texts = {"url": "http:// or https://, never one of the product's own addresses. Each call is a "
                             "JSON POST signed with HMAC-SHA256 (header X-Triage-Signature over "
                             "\"<X-Triage-Timestamp>.<body>\"; the secret is shown once saved)."}

    def clean_url(self) -> str:
        url = self.cleaned_data["url"].strip()
        if problems := alerts.webhook_url_problems(url):
            raise forms.ValidationError(problems)
        return url


@admin.register(Webhook)
class WebhookAdmin(TriageAdminOnly):
    """Where escalations and SLA breaches are sent; the secret signs every call."""
    form = WebhookForm
    list_display = ("name", "url", "events", "active", "created_at")
    readonly_fields = ("secret",)

    def save_model(self, request, obj, form, change) -> None:
        if not obj.secret:
            obj.secret = alerts.secret_new()
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request, obj=None) -> bool:
        return selectors.user_is_triage_admin(request.user)


@admin.register(AlertDelivery)
class AlertDeliveryAdmin(TriageAdminOnly):
    """Every alert owed, and every attempt to deliver it (the latest last)."""
    list_display = ("created_at", "event", "channel", "target", "complaint_id", "attempts", "delivered_at",
                    "gave_up_at", "last_error")
    list_filter = ("event", "channel", ("delivered_at", admin.EmptyFieldListFilter),
                   ("gave_up_at", admin.EmptyFieldListFilter))
    search_fields = ("target",)
    readonly_fields = [f.name for f in AlertDelivery._meta.fields]
    actions = ["send_again"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Send again now")
    def send_again(self, request, queryset) -> None:
        count = queryset.filter(delivered_at__isnull=True).update(gave_up_at=None, next_attempt_at=timezone.now())
        self.message_user(request, f"{count} alerts will be sent again.")
