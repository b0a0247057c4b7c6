"""Alerts outside the dashboard (issue 11): webhook URLs the admin may set, the HMAC
signature, alerts owed by Postgres triggers as complaints escalate or breach, and the
relay delivering them to a real local receiver with retries."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from tests.fakes import Receiver
from tests.triage_app.factories import complaint_make, score_make
from triage_app import alerts
from triage_app.admin import WebhookForm
from triage_app.management.commands import alert_relay
from triage_app.models import AlertDelivery, ComplaintEvent, Score, Team, Webhook
from triage_core.config import addresses

pytestmark = pytest.mark.django_db


# --- the admin's webhook URLs -----------------------------------------------------

def test_a_webhook_may_not_call_the_product_itself(settings):
    scoring = addresses().scoring_url.rsplit(":", 1)[1].rstrip("/")
    assert alerts.webhook_url_problems(settings.TRIAGE_PUBLIC_URL + "/api/queue/") == [
        f"{settings.TRIAGE_PUBLIC_URL.split('://')[1]} is the product's own address"]
    assert alerts.webhook_url_problems(f"http://localhost:{scoring}/predict")  # loopback by another name
    assert alerts.webhook_url_problems(f"http://[::1]:{scoring}/")
    for refused in ("ftp://hooks.example.com/x", "javascript:alert(1)", "http:///path",
                    "https://user:pw@hooks.example.com/", "http://hooks.example.com:99999/"):
        assert alerts.webhook_url_problems(refused), refused
    for allowed in ("https://hooks.example.com/triage", "http://127.0.0.1:18555/hook"):
        assert alerts.webhook_url_problems(allowed) == [], allowed


def test_the_admin_form_refuses_an_own_address_and_keeps_the_events(settings):
    form = WebhookForm(data={"name": "Self", "url": settings.TRIAGE_PUBLIC_URL + "/", "events": ["escalated"],
                             "active": True})
    assert not form.is_valid() and "url" in form.errors
    form = WebhookForm(data={"name": "Ops", "url": "https://hooks.example.com/t", "events": ["sla_breached"],
                             "active": True})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["events"] == ["sla_breached"]


def test_a_signature_covers_the_timestamp_and_the_body():
    signature = alerts.sign("s3cret", 1_700_000_000, b'{"a": 1}')
    assert signature.startswith("sha256=") and len(signature) == 7 + 64
    assert alerts.signature_valid("s3cret", 1_700_000_000, b'{"a": 1}', signature)
    assert not alerts.signature_valid("s3cret", 1_700_000_001, b'{"a": 1}', signature)
    assert not alerts.signature_valid("s3cret", 1_700_000_000, b'{"a": 2}', signature)
    assert not alerts.signature_valid("other", 1_700_000_000, b'{"a": 1}', signature)


# --- alerts owed by the triggers ------------------------------------------------------

def hook(url: str = "https://hooks.example.com/t", events=("escalated", "sla_breached")) -> Webhook:
    return Webhook.objects.create(name=url, url=url, secret="s3cret", events=list(events))


def test_an_escalating_score_owes_each_webhook_and_the_teams_on_call_one_alert():
    team = Team.objects.create(name="Billing", oncall_email="oncall-billing@example.com")
    escalations, breaches = hook("https://a.example.com/"), hook("https://b.example.com/", events=["sla_breached"])
    calm = complaint_make(team=team)
    score_make(complaint=calm, escalated=False)
    angry = complaint_make(team=team)
    score_make(complaint=angry, escalated=True, priority=90)
    owed = {(d.complaint_id, d.channel, d.target) for d in AlertDelivery.objects.filter(event="escalated")}
    assert owed == {(angry.id, "webhook", escalations.url), (angry.id, "mail", "oncall-billing@example.com")}
    # Re-scoring the same revision, or a re-rank by policy, owes nothing more.
    Score.objects.filter(complaint=calm).update(escalated=True)
    Score.objects.filter(complaint=angry).update(priority=95)
    assert AlertDelivery.objects.count() == 2
    # A new revision of the conversation that escalates does.
    Score.objects.filter(complaint=calm).update(escalated=False)
    Score.objects.filter(complaint=calm).update(escalated=True, revision=1)
    assert AlertDelivery.objects.filter(complaint=calm, event="escalated").count() == 2
    # An SLA breach: the webhook that wants breaches, and on-call.
    ComplaintEvent.objects.create(complaint=calm, kind=ComplaintEvent.Kind.SLA_BREACHED, body="SLA breached")
    assert {(d.channel, d.target) for d in AlertDelivery.objects.filter(event="sla_breached")} == {
        ("webhook", escalations.url), ("webhook", breaches.url), ("mail", "oncall-billing@example.com")}


def test_without_webhooks_or_on_call_addresses_nothing_is_owed():
    Team.objects.create(name="Quiet")  # no on-call address
    Webhook.objects.create(name="off", url="https://x.example.com/", secret="s", events=["escalated"], active=False)
    score_make(complaint=complaint_make(), escalated=True)
    assert not AlertDelivery.objects.exists()


# --- the relay, against a real receiver on loopback ------------------------------------

def test_the_relay_retries_a_failing_receiver_and_signs_every_attempt():
    with Receiver([503]) as receiver:
        webhook = hook(receiver.url)
        complaint = complaint_make(text="I will call my lawyer.")
        score_make(complaint=complaint, escalated=True, priority=88, category="legal")
        assert alert_relay.relay_pass() == (0, 1)
        delivery = AlertDelivery.objects.get()
        assert delivery.attempts == 1 and delivery.delivered_at is None and delivery.gave_up_at is None
        assert delivery.next_attempt_at > timezone.now() and delivery.last_error.startswith("HTTP 503")
        assert alert_relay.relay_pass() == (0, 0)  # not due yet
        AlertDelivery.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
        assert alert_relay.relay_pass() == (1, 0)
    delivery.refresh_from_db()
    assert delivery.delivered_at is not None and [a["status"] for a in delivery.attempts_log] == [503, 200]
    assert len(receiver.calls) == 2
    for headers, body in receiver.calls:
        assert headers["X-Triage-Event"] == "escalated" and headers["X-Triage-Delivery"] == str(delivery.pk)
        assert alerts.signature_valid(webhook.secret, int(headers["X-Triage-Timestamp"]), body,
                                      headers["X-Triage-Signature"])
    sent = json.loads(receiver.calls[-1][1])
    assert sent["event"] == "escalated" and sent["complaint"]["id"] == str(complaint.id)
    assert sent["complaint"]["text"] == "I will call my lawyer." and sent["complaint"]["priority"] == 88


def test_a_receiver_refusing_for_good_is_given_up_and_on_call_gets_mail():
    team = Team.objects.create(name="Legal", oncall_email="oncall@example.com")
    with Receiver([404]) as receiver:
        hook(receiver.url)
        complaint = complaint_make(team=team)
        score_make(complaint=complaint, escalated=True, priority=91)
        assert alert_relay.relay_pass() == (1, 1)
    refused = AlertDelivery.objects.get(channel="webhook")
    assert refused.gave_up_at is not None and refused.attempts == 1 and "HTTP 404" in refused.last_error
    assert [m.to for m in mail.outbox] == [["oncall@example.com"]]
    assert complaint.tracking_code in mail.outbox[0].subject and "priority 91" in mail.outbox[0].subject
    assert f"/staff/complaints/{complaint.id}/" in mail.outbox[0].body


def test_an_unreachable_receiver_is_retried_with_back_off():
    hook("http://127.0.0.1:9/hook")  # the discard port: nothing listens
    score_make(complaint=complaint_make(), escalated=True)
    assert alert_relay.relay_pass() == (0, 1)
    delivery = AlertDelivery.objects.get()
    assert delivery.gave_up_at is None and "ConnectionError" in delivery.last_error
    assert alert_relay.backoff(1) == timedelta(seconds=10) and alert_relay.backoff(20) == timedelta(seconds=900)
