"""HTML pages: the public form and tracking page, staff queue and complaint page,
admin screens. Each validates, calls a service or selector, and renders."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import User
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext, gettext_lazy, gettext_noop
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from triage_app import errors, health, selectors, services
from triage_app.api import submission_retry_after
from triage_app.canned import canned_for
from triage_app.errors import ActionRefused, InvalidInput
from triage_app.models import AuditLog, Complaint, EscalationPolicy, Experiment, ServiceLevelPolicy
from triage_app.serializers import user_display_name
from triage_app.validation import complaint_input_validate
from triage_core.messages import MAX_TEXT_CHARS, MIN_TEXT_CHARS
from triage_core.priority import CATEGORY_WEIGHTS, POLICY_RANGES, SIGNALS
from triage_core.sla import BANDS, SLA_RANGES

MAX_ARMS = 4
POLICY_LABELS = {
    "escalate_at": gettext_lazy("Escalate at priority"),
    "negative_compound": gettext_lazy("Also escalate at sentiment (compound) at or below"),
    "weight_sentiment": gettext_lazy("Priority weight: sentiment"),
    "weight_severity": gettext_lazy("Priority weight: severity signals"),
    "weight_category": gettext_lazy("Priority weight: category"),
    "weight_complaint": gettext_lazy("Priority weight: complaint probability (models that give one)"),
    "min_complaint": gettext_lazy("Sentiment rule and signal triggers apply from complaint probability"),
    "unsupported_priority": gettext_lazy("Priority of a text in a language the models do not read"),
}


def roles(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    return {"is_staff_user": selectors.user_is_staff(user), "is_triage_admin": selectors.user_is_triage_admin(user)}


def _role_required(check):
    def decorator(view):
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not check(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)
        return wrapped
    return decorator


staff_required = _role_required(selectors.user_is_staff)
admin_required = _role_required(selectors.user_is_triage_admin)


# --- customers --------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
def submit_page(request: HttpRequest) -> HttpResponse:
    context = {"min_chars": MIN_TEXT_CHARS, "max_chars": MAX_TEXT_CHARS, "errors": {}, "values": {}}
    if request.method == "POST":
        context["values"] = {"text": request.POST.get("text", ""), "email": request.POST.get("email", "")}
        retry_after = submission_retry_after(request)
        if retry_after:
            context["rate_limited"] = gettext(errors.RATE_LIMITED).format(seconds=retry_after)
            response = render(request, "triage_app/submit.html", context, status=429)
            response["Retry-After"] = str(retry_after)
            return response
        try:
            cleaned = complaint_input_validate(data=context["values"])
        except InvalidInput as exc:
            context["errors"] = exc.errors
            return render(request, "triage_app/submit.html", context, status=400)
        complaint = services.complaint_submit(text=cleaned.text, email=cleaned.email, source=Complaint.Source.WEB,
                                              preferred_language=translation.get_language_from_request(request))
        return redirect(reverse("track", args=[complaint.tracking_code]) + "?new=1")
    return render(request, "triage_app/submit.html", context)


# Names of the A/B page's satisfaction groups, for makemessages (the page translates
# them); the labels of statuses, events and mail kinds are translated in the models.
GROUP_LABELS = (gettext_noop("Arm"), gettext_noop("Agent"))


def _customer_complaint(request: HttpRequest, tracking_code: str) -> Complaint | None:
    """The complaint of a tracking code, with the page in its language unless the
    customer chose one with the switch."""
    complaint = selectors.complaint_get_by_tracking_code(tracking_code=tracking_code)
    if complaint is not None and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
        translation.activate(complaint.language)
        request.LANGUAGE_CODE = translation.get_language()
    return complaint


def _flash_refusal(request: HttpRequest, exc: InvalidInput | ActionRefused) -> None:
    """A service's refusal as messages on the next page, in the reader's language."""
    problems = [problem for _, problem in errors.problems(exc)] if isinstance(exc, InvalidInput) else [exc.message]
    for problem in problems:
        messages.error(request, gettext(problem))


def _tracking_missing(request: HttpRequest) -> HttpResponse:
    return render(request, "triage_app/track_missing.html", {"message": errors.TRACKING_NOT_FOUND}, status=404)


@require_http_methods(["GET", "POST"])
def track_page(request: HttpRequest, tracking_code: str) -> HttpResponse:
    """The customer's page of one complaint; a POST is their reply (the form on it)."""
    complaint = _customer_complaint(request, tracking_code)
    if complaint is None:
        return _tracking_missing(request)
    status, problems, reply = 200, {}, ""
    if request.method == "POST":
        reply = request.POST.get("body", "")
        retry_after = submission_retry_after(request)
        if retry_after:
            problems, status = {"body": [gettext(errors.RATE_LIMITED).format(seconds=retry_after)]}, 429
        else:
            try:
                outcome = services.complaint_customer_reply(complaint_id=complaint.id, body=reply, via="web")
            except InvalidInput as exc:
                problems, status = exc.errors, 400
            else:
                if outcome.what == "new_complaint":
                    return redirect(reverse("track", args=[outcome.complaint.tracking_code]) + "?new=1")
                messages.success(request, gettext("Thank you: your message is with our support staff."))
                return redirect("track", tracking_code=complaint.tracking_code)
    steps = [s for s in Complaint.Status if s != Complaint.Status.AWAITING_STAFF]
    return render(request, "triage_app/track.html", {
        "complaint": complaint,
        "history": selectors.complaint_public_history(complaint=complaint),
        "just_submitted": request.GET.get("new") == "1",
        "steps": steps,
        "current_step": Complaint.Status.IN_REVIEW if complaint.status == Complaint.Status.AWAITING_STAFF
        else complaint.status,
        "tracking_url": request.build_absolute_uri(reverse("track", args=[complaint.tracking_code])),
        "errors": problems, "reply": reply,
        "satisfaction": getattr(complaint, "satisfaction", None) if complaint.status == Complaint.Status.RESOLVED
        else None,
        "rating_choice": request.GET.get("rating", ""),
    }, status=status)


@require_POST
def track_rate(request: HttpRequest, tracking_code: str) -> HttpResponse:
    """The customer's satisfaction with a resolved complaint (the form on its page)."""
    complaint = _customer_complaint(request, tracking_code)
    if complaint is None:
        return _tracking_missing(request)
    try:
        services.complaint_rate(complaint_id=complaint.id, rating=request.POST.get("rating"),
                                comment=request.POST.get("comment", ""))
    except (InvalidInput, ActionRefused) as exc:
        _flash_refusal(request, exc)
    else:
        messages.success(request, gettext("Thank you for telling us."))
    return redirect(reverse("track", args=[complaint.tracking_code]) + "#satisfaction")


# A mail client's one-click unsubscribe (RFC 8058) POSTs without a CSRF token; the
# secret tracking code in the address is what authorises it, and all it can do is stop
# mail about this one complaint.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def track_unsubscribe(request: HttpRequest, tracking_code: str) -> HttpResponse:
    complaint = _customer_complaint(request, tracking_code)
    if complaint is None:
        return _tracking_missing(request)
    if request.method == "POST":
        complaint = services.complaint_mail_opt_out(complaint_id=complaint.id)
    return render(request, "triage_app/unsubscribe.html", {"complaint": complaint})


# --- staff ------------------------------------------------------------------------

def queue_strings() -> dict:
    """What queue.js writes on the page, in the staff member's language."""
    return {
        "live": gettext("live"), "reconnecting": gettext("reconnecting…"),
        "claimed_by": gettext("claimed by %(name)s"), "you": gettext("you"), "team": gettext("team %(name)s"),
        "repeat_contacts": gettext("repeat contact: %(count)s earlier complaints in 30 days"),
        "action_unreachable": gettext("The server could not be reached; nothing was changed. Try again."),
        "action_failed": gettext("That did not work (%(status)s)."),
        "load_unreachable": gettext("Could not load the queue (the server is unreachable)."),
        "load_failed": gettext("Could not load the queue (%(status)s)."),
        "statuses": {value: str(label) for value, label in Complaint.Status.choices},
        "first_reply_due": gettext("first reply due in %(time)s"),
        "resolution_due": gettext("resolution due in %(time)s"),
        "sla_at_risk": gettext("SLA at risk"), "sla_breached": gettext("SLA breached"),
        "min": gettext("min"), "h": gettext("h"), "d": gettext("d"),
    }


@require_http_methods(["GET", "HEAD"])
def healthz(request: HttpRequest) -> HttpResponse:
    """For load balancers and orchestrators: 200 when the database, Redis, Kafka and the
    scoring service all answer, else 503; the body says which part is not (no secrets,
    no data: addresses and error classes only)."""
    report = health.web_health()
    return JsonResponse(report, status=200 if report["ok"] else 503)


@staff_required
def staff_queue_page(request: HttpRequest) -> HttpResponse:
    viewer = selectors.viewer_of(services.acting_user(request.user))
    return render(request, "triage_app/queue.html", {
        "filters": selectors.queue_filter_choices(),
        "my_teams": bool(viewer.member_of),
        # Who holds how much: the members of the reader's teams, or everyone.
        "loads": selectors.agent_loads(team_ids=viewer.member_of or None),
        "me": {"id": request.user.pk, "name": user_display_name(services.acting_user(request.user)),
               "teams": sorted(viewer.member_of)},
        "strings": queue_strings(),
    })


@staff_required
def search_view(request: HttpRequest) -> HttpResponse:
    """Staff search (selectors.search): the form, one page of results, the pages around."""
    problems: dict[str, list[str]] = {}
    found = None
    try:
        filters = selectors.search_filters_from(request.GET)
        page, size = selectors.search_paging_from(request.GET)
    except InvalidInput as exc:
        problems = {field: [gettext(message) for message in messages_] for field, messages_ in exc.errors.items()}
    else:
        found = selectors.search_page(filters, viewer=selectors.viewer_of(services.acting_user(request.user)),
                                      page=page, page_size=size)
        found["items"] = selectors.queue_items(complaints=found.pop("complaints"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "triage_app/search.html", {
        "found": found, "problems": problems, "params": request.GET, "query": query.urlencode(),
        "filters": selectors.queue_filter_choices(), "statuses": Complaint.Status.choices,
        "rank_max": f"{selectors.SEARCH_RANK_MAX:,}",
    }, status=400 if problems else 200)


@staff_required
def complaint_page(request: HttpRequest, complaint_id) -> HttpResponse:
    user = services.acting_user(request.user)
    detail = selectors.complaint_detail(complaint_id=complaint_id)
    if detail is None or not selectors.complaint_visible(complaint=detail["complaint"], user=user):
        raise Http404
    detail["canned"] = canned_for(complaint=detail["complaint"], user=user)
    detail["teams"] = selectors.teams_all()
    detail["agents"] = [{**load, "label": f"{load['name']} ({load['open']})"} for load in selectors.agent_loads()]
    return render(request, "triage_app/complaint.html", detail)


def _complaint_form(request: HttpRequest, complaint_id, act: Callable[[User], object], done: str) -> HttpResponse:
    """A form on the complaint page: `act(by)` runs the service; back to the page with
    `done` on success, or the refusal in the reader's language; 404 for a complaint the
    reader cannot see."""
    try:
        act(services.acting_user(request.user))
    except Complaint.DoesNotExist:
        raise Http404 from None
    except (InvalidInput, ActionRefused) as exc:
        _flash_refusal(request, exc)
    else:
        messages.success(request, done)
    return redirect("staff-complaint", complaint_id=complaint_id)


@staff_required
@require_POST
def complaint_duplicate_view(request: HttpRequest, complaint_id) -> HttpResponse:
    """The complaint page's duplicate form: link to, or merge into, another complaint."""
    merge = request.POST.get("merge")
    return _complaint_form(request, complaint_id, lambda by: services.complaint_link_duplicate(
        complaint_id=complaint_id, by=by, of=request.POST.get("of", "").strip(), merge=merge),
        gettext("Merged.") if merge == "1" else gettext("Linked."))


@staff_required
@require_POST
def complaint_assign_view(request: HttpRequest, complaint_id) -> HttpResponse:
    """The complaint page's assignment form (services.complaint_assign)."""
    data = {name: request.POST[name] for name in ("team", "agent") if name in request.POST}
    return _complaint_form(request, complaint_id, lambda by: services.complaint_assign(
        complaint_id=complaint_id, by=by, data=data), gettext("Assignment saved."))


@staff_required
@require_POST
def complaint_correct_view(request: HttpRequest, complaint_id) -> HttpResponse:
    """The complaint page's "correct the model" buttons (services.complaint_correct)."""
    return _complaint_form(request, complaint_id, lambda by: services.complaint_correct(
        complaint_id=complaint_id, by=by, kind=request.POST.get("kind"), value=request.POST.get("value", "")),
        gettext("Correction recorded; it will teach the next model."))


@staff_required
@require_POST
def complaint_action(request: HttpRequest, complaint_id, action: str) -> HttpResponse:
    if action not in services.STAFF_ACTIONS:
        raise Http404
    done = {"claim": gettext("Claimed."), "release": gettext("Released."), "resolve": gettext("Resolved."),
            "note": gettext("Note added."), "reply": gettext("Reply sent to the customer.")}[action]
    return _complaint_form(request, complaint_id, lambda by: services.staff_act(
        action=action, complaint_id=complaint_id, by=by, body=request.POST.get("body")), done)


@staff_required
def mail_page(request: HttpRequest) -> HttpResponse:
    """What customers received, from the local mail server's Maildir (newest first)."""
    return render(request, "triage_app/mail.html", {
        "messages_in_box": selectors.maildir_recent(folder=settings.TRIAGE_MAILDIR),
        "maildir": settings.TRIAGE_MAILDIR,
        "outbox": selectors.mail_outbox_summary(),
    })


@staff_required
def mail_message_page(request: HttpRequest, key: str) -> HttpResponse:
    message = selectors.maildir_message(folder=settings.TRIAGE_MAILDIR, key=key)
    if message is None:
        raise Http404
    return render(request, "triage_app/mail_message.html", {"message": message})


# --- admins -----------------------------------------------------------------------

@admin_required
@require_http_methods(["GET", "POST"])
def policy_page(request: HttpRequest) -> HttpResponse:
    current = selectors.policy_current()
    values = services.policy_values(current) or {}
    problems: dict = {}
    if request.method == "POST":
        values = {field: request.POST.get(field, "") for field in POLICY_RANGES}
        values["signal_triggers"] = request.POST.getlist("signal_triggers")
        try:
            policy = services.policy_create(by=services.acting_user(request.user), values=values)
        except InvalidInput as exc:
            problems = exc.errors
        else:
            messages.success(request, gettext("Saved as policy version %(version)s; open complaints re-ranked.")
                             % {"version": policy.version})
            return redirect("manage-policy")
    return render(request, "triage_app/policy.html", {
        "current": current, "values": values, "errors": problems,
        "fields": [(f, POLICY_LABELS[f], POLICY_RANGES[f]) for f in POLICY_RANGES],
        "signals": [(name, name in (values.get("signal_triggers") or [])) for name in SIGNALS],
        "versions": EscalationPolicy.objects.select_related("created_by")[:20],
        "audit": AuditLog.objects.filter(entity="escalation_policy").select_related("actor")[:20],
    }, status=400 if problems else 200)


SLA_TARGET_ROWS_EXTRA = 3  # empty rows under the current targets, to add some
# At most this many target rows are read from a post: one per band and category, and spare.
SLA_TARGET_ROWS_MAX = (len(BANDS) * (len(CATEGORY_WEIGHTS) + 1)) + SLA_TARGET_ROWS_EXTRA


def _minutes(hours: str) -> object:
    """Hours, as people think of them, as the policy's minutes; what is not a number is
    passed on as it is, for the validation to name."""
    try:
        return round(float(hours) * 60)
    except ValueError:
        return hours


def _sla_targets_from_post(post) -> list[dict]:
    """The SLA form's target rows; a row left empty is dropped. A row count that is not a
    whole number reads no rows (the validation then asks for one)."""
    try:
        count = min(SLA_TARGET_ROWS_MAX, max(0, int(post.get("target-count", 0) or 0)))
    except ValueError:
        count = 0
    rows = []
    for i in range(count):
        band, category = post.get(f"target-{i}-band", "").strip(), post.get(f"target-{i}-category", "").strip()
        first, resolution = post.get(f"target-{i}-first", "").strip(), post.get(f"target-{i}-resolution", "").strip()
        if not (band or first or resolution):
            continue
        rows.append({"band": band, "category": category or None, "first_reply_minutes": _minutes(first),
                     "resolution_minutes": _minutes(resolution)})
    return rows


@admin_required
@require_http_methods(["GET", "POST"])
def sla_page(request: HttpRequest) -> HttpResponse:
    """The service levels (triage_core.sla): targets per band and category, ageing, business
    hours. Saving makes a new version, audited, and re-evaluates every open complaint."""
    current = selectors.sla_policy_current()
    values = services.sla_policy_values(current) or {}
    problems: dict = {}
    if request.method == "POST":
        post = request.POST
        values = {field: post.get(field, "") for field in SLA_RANGES}
        values["targets"] = _sla_targets_from_post(post)
        values["business_hours"] = None if not post.get("business_hours") else {
            "start_hour": post.get("start_hour", ""), "end_hour": post.get("end_hour", ""),
            "weekdays": post.getlist("weekdays"), "country": post.get("country", ""),
            "timezone": post.get("timezone", "")}
        try:
            policy = services.sla_policy_create(by=services.acting_user(request.user), values=values)
        except InvalidInput as exc:
            problems = exc.errors
        else:
            messages.success(request, gettext("Saved as SLA policy version %(version)s; open complaints re-evaluated.")
                             % {"version": policy.version})
            return redirect("manage-sla")
    targets = [{"band": t.get("band"), "category": t.get("category") or "",
                "first": _hours(t.get("first_reply_minutes")), "resolution": _hours(t.get("resolution_minutes"))}
               for t in values.get("targets") or []]
    targets += [{"band": "", "category": "", "first": "", "resolution": ""}] * SLA_TARGET_ROWS_EXTRA
    hours = values.get("business_hours") or {}
    return render(request, "triage_app/sla.html", {
        "current": current, "values": values, "errors": problems, "targets": targets,
        "bands": BANDS, "categories": list(CATEGORY_WEIGHTS), "hours": hours,
        "weekdays": [(n, name, str(n) in [str(d) for d in hours.get("weekdays", [0, 1, 2, 3, 4])])
                     for n, name in WEEKDAYS_ABBR.items()],
        "fields": [(f, SLA_LABELS[f], SLA_RANGES[f]) for f in SLA_RANGES],
        "versions": ServiceLevelPolicy.objects.select_related("created_by")[:20],
        "audit": AuditLog.objects.filter(entity="sla_policy").select_related("actor")[:20],
    }, status=400 if problems else 200)


def _hours(minutes: object) -> object:
    return round(minutes / 60, 2) if isinstance(minutes, (int, float)) else minutes


SLA_LABELS = {
    "high_at": gettext_lazy("Priority from which a complaint is in band \"high\""),
    "at_risk_fraction": gettext_lazy("At risk once this share of the time has passed"),
    "ageing_per_hour": gettext_lazy("Queue rank gained per hour of waiting"),
    "ageing_cap": gettext_lazy("At most this much rank from waiting"),
}


def _arms_from_post(post) -> list[dict]:
    arms = []
    for i in range(MAX_ARMS):
        label = post.get(f"arm-{i}-label", "").strip()
        model = post.get(f"arm-{i}-model", "").strip()
        weight_raw = post.get(f"arm-{i}-weight", "").strip()
        if not (label or model or weight_raw):
            continue
        try:
            weight: object = int(weight_raw)
        except ValueError:
            weight = weight_raw
        arms.append({"label": label, "model": model, "weight": weight})
    return arms


@admin_required
@require_http_methods(["GET", "POST"])
def experiment_page(request: HttpRequest) -> HttpResponse:
    current = selectors.experiment_current()
    arms = list(current.arms) if current else []
    shadow = current.shadow_model if current else ""
    problems: dict = {}
    if request.method == "POST":
        arms = _arms_from_post(request.POST)
        shadow = request.POST.get("shadow_model", "")
        restore = request.POST.get("restore", "")
        try:
            if restore:
                if not restore.isdigit():
                    unknown = gettext(errors.EXPERIMENT_UNKNOWN_VERSION).format(version=restore[:20])
                    raise InvalidInput({"restore": [unknown]})
                experiment = services.experiment_restore(by=services.acting_user(request.user), version=int(restore))
            else:
                experiment = services.experiment_create(by=services.acting_user(request.user), arms=arms,
                                                        shadow_model=shadow)
        except InvalidInput as exc:
            problems = exc.errors
        else:
            messages.success(request, gettext("Saved as experiment version %(version)s; the stream applies it "
                                              "from its next micro-batch.") % {"version": experiment.version})
            return redirect("manage-experiment")
    rows = arms + [{"label": "", "model": "", "weight": ""}] * (MAX_ARMS - len(arms))
    return render(request, "triage_app/experiment.html", {
        "current": current, "rows": rows[:MAX_ARMS], "shadow": shadow or "", "errors": problems,
        "models": settings.TRIAGE_MODELS,
        "versions": Experiment.objects.select_related("created_by")[:20],
        "audit": AuditLog.objects.filter(entity="experiment").select_related("actor")[:20],
    }, status=400 if problems else 200)


@admin_required
def ab_results_page(request: HttpRequest) -> HttpResponse:
    version = request.GET.get("experiment")
    try:
        version_number = int(version) if version else None
    except ValueError:
        version_number = None
    results = selectors.ab_results(experiment_version=version_number)
    return render(request, "triage_app/ab_results.html", {
        "results": results, "selected_version": version_number, "experiment": selectors.experiment_current(),
    })


@admin_required
def health_page(request: HttpRequest) -> HttpResponse:
    db = selectors.pipeline_db_health()
    return render(request, "triage_app/health.html", {
        "db": db,
        "kafka": health.kafka_lag(processed_offsets=db["processed_offsets"]),
        "scoring": health.scoring_health(),
        "mail": selectors.mail_outbox_summary(),
    })

