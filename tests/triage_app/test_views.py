import pytest
from django.urls import reverse

from tests.triage_app.factories import complaint_make, score_make, shadow_make
from triage_app import errors
from triage_app.models import Complaint, ComplaintEvent, MailMessage

pytestmark = pytest.mark.django_db

XSS = '<script>alert("x")</script><img src=x onerror="alert(1)">'


def test_form_submission_redirects_to_tracking_page_with_code(client, django_capture_on_commit_callbacks,
                                                              fake_producer):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/", {"text": "My refund never arrived after 3 weeks.", "email": ""})
    assert response.status_code == 302
    complaint = Complaint.objects.get()
    assert complaint.source == "web"
    assert response["Location"] == f"/track/{complaint.tracking_code}/?new=1"
    page = client.get(response["Location"])
    assert complaint.tracking_code in page.content.decode()
    assert "What happens next" in page.content.decode()
    assert len(fake_producer.delivered) == 1


def test_form_shows_field_errors(client):
    response = client.post("/", {"text": "short", "email": "bad"})
    assert response.status_code == 400
    body = response.content.decode()
    assert errors.TEXT_TOO_SHORT in body and errors.EMAIL_INVALID in body


def test_form_rate_limit_is_429_with_message(client, settings, limiter_clock):
    """The limiter's clock is fixed 15 s into its window, so the second post is always in
    the first one's window. Mutant tried: Retry-After always the whole window (`return
    window_s` in ratelimit.rate_limit_hit): the test failed."""
    settings.TRIAGE_SUBMIT_RATE = (1, 60)
    client.post("/", {"text": "first complaint is fine"})
    response = client.post("/", {"text": "second one is over the limit"})
    assert response.status_code == 429
    assert errors.RATE_LIMITED.format(seconds=46) in response.content.decode()


def test_form_needs_csrf(db):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/", {"text": "no csrf token in this form post"}).status_code == 403


def test_tracking_page_shows_replies_but_not_notes_or_scores(client, staff_user):
    complaint = complaint_make(text=XSS + " and my order is late")
    # Values no timestamp or id on the page can contain by chance.
    score_make(complaint=complaint, compound=-0.9317, priority=77.77)
    ComplaintEvent.objects.create(complaint=complaint, kind="note", body="internal: customer is VIP", public=False)
    ComplaintEvent.objects.create(complaint=complaint, kind="reply", body="We are sending a new one.", public=True,
                                  actor=staff_user)
    body = client.get(f"/track/{complaint.tracking_code}/").content.decode()
    assert "We are sending a new one." in body
    assert "internal: customer is VIP" not in body
    assert "0.9317" not in body and "77.77" not in body and "priority" not in body.lower()
    assert "<script>alert" not in body and "&lt;script&gt;" in body


def test_unknown_tracking_code_page_is_404(client):
    assert client.get("/track/nope/").status_code == 404


@pytest.mark.parametrize("url", ["/staff/", "/manage/policy/", "/manage/experiment/", "/manage/ab/", "/manage/health/"])
def test_staff_and_admin_pages_need_login(client, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("url", ["/manage/policy/", "/manage/sla/", "/manage/experiment/", "/manage/ab/",
                                 "/manage/health/"])
def test_admin_pages_refuse_plain_staff(client, staff_user, url):
    client.force_login(staff_user)
    assert client.get(url).status_code == 403


def test_customer_account_cannot_open_staff_pages(client, customer_user):
    client.force_login(customer_user)
    assert client.get("/staff/").status_code == 403


def test_queue_page_renders_for_staff(client, staff_user):
    client.force_login(staff_user)
    response = client.get("/staff/")
    assert response.status_code == 200
    assert "triage_app/queue.js" in response.content.decode()


def test_complaint_page_shows_breakdown_and_escapes_text(client, staff_user):
    complaint = complaint_make(text=XSS)
    score_make(complaint=complaint, compound=-0.91, priority=82, escalated=True, category="billing",
               signals={"legal_threat": ["lawyer"]}, model_name="triage")
    shadow_make(complaint=complaint, model_name="vader")
    client.force_login(staff_user)
    body = client.get(reverse("staff-complaint", args=[complaint.id])).content.decode()
    assert "lawyer" in body and "billing" in body and "ESCALATED" in body
    assert 'id="priority">82.0 / 100' in body
    assert "<script>alert" not in body and "&lt;script&gt;" in body


def test_complaint_page_actions_claim_reply_resolve(client, staff_user, other_staff):
    complaint = complaint_make()
    score_make(complaint=complaint)
    client.force_login(staff_user)
    base = f"/staff/complaints/{complaint.id}/"
    client.post(base + "claim/")
    client.post(base + "reply/", {"body": "Refund issued."})
    client.post(base + "note/", {"body": "Called the courier."})
    client.post(base + "resolve/")
    complaint.refresh_from_db()
    assert complaint.status == "resolved"
    kinds = list(complaint.events.values_list("kind", flat=True))
    assert kinds == ["claimed", "reply", "note", "resolved"]

    client.force_login(other_staff)
    page = client.post(base + "claim/", follow=True).content.decode()
    assert errors.ALREADY_RESOLVED in page


@pytest.mark.parametrize("action", ["claim", "release", "resolve", "note", "reply", "bogus"])
def test_a_staff_page_action_on_an_unknown_complaint_is_404(client, staff_user, action):
    """No existence check before the service: its failed lookup is the 404. Mutant tried:
    `except Complaint.DoesNotExist` removed from views.complaint_action -> a 500."""
    client.force_login(staff_user)
    missing = "00000000-0000-4000-8000-000000000000"
    assert client.post(f"/staff/complaints/{missing}/{action}/", {"body": ""}).status_code == 404


def test_a_staff_page_action_lists_every_problem_of_the_input(client, staff_user):
    complaint = complaint_make()
    score_make(complaint=complaint)
    client.force_login(staff_user)
    page = client.post(f"/staff/complaints/{complaint.id}/note/", {"body": "  "}, follow=True).content.decode()
    assert errors.MESSAGE_REQUIRED in page
    assert not complaint.events.filter(kind="note").exists()


def test_admin_pages_render(client, admin_user):
    complaint = complaint_make()
    score_make(complaint=complaint)
    shadow_make(complaint=complaint)
    client.force_login(admin_user)
    for url in ["/manage/policy/", "/manage/experiment/", "/manage/ab/", "/manage/ab/?experiment=1",
                "/admin/triage_app/deadletter/", "/admin/triage_app/experiment/add/",
                "/admin/triage_app/escalationpolicy/add/"]:
        assert client.get(url).status_code == 200, url


def test_policy_page_validates_on_the_server(client, admin_user):
    client.force_login(admin_user)
    response = client.post("/manage/policy/", {"escalate_at": "150", "negative_compound": "-0.7",
                                               "weight_sentiment": "1", "weight_severity": "1", "weight_category": "x"})
    assert response.status_code == 400
    body = response.content.decode()
    assert errors.POLICY_OUT_OF_RANGE.format(field="escalate at", low=0.0, high=100.0) in body
    assert errors.POLICY_OUT_OF_RANGE.format(field="weight category", low=0.0, high=10.0) in body


def test_experiment_page_saves_a_valid_split(client, admin_user):
    client.force_login(admin_user)
    response = client.post("/manage/experiment/", {
        "arm-0-label": "A", "arm-0-model": "vader", "arm-0-weight": "80",
        "arm-1-label": "B", "arm-1-model": "triage", "arm-1-weight": "20", "shadow_model": ""})
    assert response.status_code == 302
    from triage_app.selectors import experiment_current

    assert experiment_current().arms == [{"label": "A", "model": "vader", "weight": 80},
                                         {"label": "B", "model": "triage", "weight": 20}]


def test_experiment_page_rolls_back_to_an_earlier_split_as_a_new_audited_version(client, admin_user):
    from triage_app.models import AuditLog, Experiment

    client.force_login(admin_user)
    client.post("/manage/experiment/", {
        "arm-0-label": "A", "arm-0-model": "triage", "arm-0-weight": "50",
        "arm-1-label": "B", "arm-1-model": "triage@1.0.0", "arm-1-weight": "50", "shadow_model": "vader"})
    page = client.get("/manage/experiment/").content.decode()
    assert 'name="restore" value="2"' in page and "Serve this split again" in page
    response = client.post("/manage/experiment/", {"restore": "2"})
    assert response.status_code == 302
    latest = Experiment.objects.order_by("-version").first()
    seeded = Experiment.objects.get(version=2)
    assert (latest.version, latest.arms, latest.shadow_model) == (4, seeded.arms, seeded.shadow_model)
    assert AuditLog.objects.filter(action="experiment.create").count() == 2
    missing = client.post("/manage/experiment/", {"restore": "99"})
    assert missing.status_code == 400
    assert errors.EXPERIMENT_UNKNOWN_VERSION.format(version=99) in missing.content.decode()


def test_policy_page_saves_signal_triggers_and_the_new_weights(client, admin_user):
    from triage_app.selectors import policy_as_core, policy_current

    client.force_login(admin_user)
    response = client.post("/manage/policy/", {
        "escalate_at": "55", "negative_compound": "-0.7", "weight_sentiment": "0.4", "weight_severity": "0.2",
        "weight_category": "0.1", "weight_complaint": "0.3", "min_complaint": "0.4", "unsupported_priority": "65",
        "signal_triggers": ["fraud", "legal_threat"]})
    assert response.status_code == 302
    policy = policy_as_core(policy_current())
    assert (policy.escalate_at, policy.weight_complaint, policy.min_complaint, policy.unsupported_priority) == (
        55.0, 0.3, 0.4, 65.0)
    assert policy.signal_triggers == ("legal_threat", "fraud")  # in the product's signal order
    bad = client.post("/manage/policy/", {
        "escalate_at": "55", "negative_compound": "-0.7", "weight_sentiment": "0.4", "weight_severity": "0.2",
        "weight_category": "0.1", "weight_complaint": "0.3", "min_complaint": "0.4", "unsupported_priority": "65",
        "signal_triggers": ["lawsuit"]})
    assert bad.status_code == 400
    assert "Signal triggers must be a list of signal names" in bad.content.decode()


def test_health_page_shows_probes(client, admin_user, monkeypatch):
    from triage_app import health

    monkeypatch.setattr(health, "kafka_lag", lambda processed_offsets: {
        "ok": True, "error": "", "topic": "complaints", "total_lag": 7,
        "partitions": [health.PartitionLag(topic="complaints", partition=0, end_offset=10, processed_offset=2,
                                           lag=7)]})
    monkeypatch.setattr(health, "scoring_health", lambda: {"ok": True, "url": "http://x", "error": "", "models": [
        {"name": "vader", "version": "3.3.2", "description": "NLTK VADER", "default": True}]})
    complaint = complaint_make()
    score_make(complaint=complaint)
    from triage_app import services

    services.complaint_submit(text="The parcel never came and nobody answers.", email="a@example.com", source="web")
    MailMessage.objects.update(attempts=1, last_error="ConnectionRefusedError")
    client.force_login(admin_user)
    body = client.get("/manage/health/").content.decode()
    assert "total lag <strong>7</strong>" in body and "healthy" in body and "NLTK VADER" in body
    assert "Sent <strong>0</strong>; waiting <strong>1</strong>" in body and "after a failed attempt" in body


def test_scoring_health_reports_a_reply_that_is_not_json(monkeypatch):
    from triage_app import health

    class Reply:
        ok, status_code, headers = True, 200, {"content-type": "application/json"}

        def json(self):
            raise ValueError("Expecting value: line 1 column 1 (char 0)")

    monkeypatch.setattr(health.requests, "get", lambda *args, **kwargs: Reply())
    result = health.scoring_health()
    assert result["ok"] is False and "not its JSON" in result["error"]


def test_complaint_page_says_a_text_in_an_unsupported_language_needs_a_person(client, staff_user):
    complaint = complaint_make(text="Mi paquete nunca llegó y nadie me ayuda.")
    score_make(complaint=complaint, compound=0.0, label="language_unsupported", language="es", priority=50.0)
    client.force_login(staff_user)
    page = client.get(f"/staff/complaints/{complaint.id}/").content.decode()
    assert '<td class="needs-person">needs a person: language es</td>' in page
    supported = complaint_make()
    score_make(complaint=supported, language="en", complaint_probability=0.9)
    assert "needs-person" not in client.get(f"/staff/complaints/{supported.id}/").content.decode()
