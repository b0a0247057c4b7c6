"""Admin screens in headless Chromium: a policy change re-ranks the live queue; the
A/B page draws its charts with the npm Chart.js served from static/."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_staff_flow import PUSH_TIMEOUT_MS, queue_item, score_like_the_stream
from tests.triage_app.factories import complaint_make, shadow_make
from triage_app.models import AuditLog, Score

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_lowering_the_threshold_escalates_open_complaints_live(new_page, staff_login, screenshot):
    staff = staff_login(new_page(), "sam")
    admin = staff_login(new_page(), "ada", admin=True)
    complaint = complaint_make(text="The app keeps logging me out, rather annoying.")
    score_like_the_stream(complaint, compound=-0.4, priority=24.0, escalated=False)
    item = queue_item(staff, complaint)
    expect(item).to_be_visible(timeout=PUSH_TIMEOUT_MS)
    expect(item.locator(".escalated")).to_be_hidden()

    admin.goto("/manage/policy/")
    admin.fill("#id_escalate_at", "150")
    admin.click("button:has-text('Save as new version')")
    assert admin.locator("#id_escalate_at").evaluate("e => e.validity.rangeOverflow")  # the browser refuses
    admin.fill("#id_escalate_at", "20")
    admin.click("button:has-text('Save as new version')")
    # Migrations seed versions 1 (vader) and 2 (triage 2.0); the admin's save is the third.
    expect(admin.locator(".messages")).to_contain_text("policy version 3")
    screenshot(admin, "policy-saved")

    expect(item.locator(".escalated")).to_be_visible(timeout=PUSH_TIMEOUT_MS)  # re-ranked and pushed, no reload
    screenshot(staff, "queue-after-policy-change")
    assert Score.objects.get(complaint=complaint).policy_version == 3
    audit = AuditLog.objects.get(action="policy.create")
    assert audit.actor.username == "ada" and audit.old["escalate_at"] == 60.0 and audit.new["escalate_at"] == 20.0


def test_experiment_screen_validates_and_ab_page_draws_charts(new_page, staff_login, screenshot):
    admin = staff_login(new_page(), "ada", admin=True)
    errors_seen = []
    admin.on("pageerror", lambda exc: errors_seen.append(str(exc)))

    admin.goto("/manage/experiment/")
    admin.fill("input[name='arm-0-weight']", "70")
    admin.fill("input[name='arm-1-label']", "B")
    # triage 1.0 against 2.0 on live traffic (2.0 serves the seeded experiment, vader in shadow)
    admin.select_option("select[name='arm-1-model']", "triage@1.0.0")
    admin.fill("input[name='arm-1-weight']", "20")
    admin.click("button:has-text('Save as new version')")
    expect(admin.locator(".error").first).to_contain_text("add up to 100")
    admin.fill("input[name='arm-1-weight']", "30")
    admin.click("button:has-text('Save as new version')")
    expect(admin.locator(".messages")).to_contain_text("experiment version 3")

    for i, (arm, model) in enumerate([("A", "vader"), ("A", "vader"), ("B", "triage")]):
        complaint = complaint_make(text=f"complaint {i} for the A/B page")
        score_like_the_stream(complaint, compound=-0.2 * (i + 1), priority=10.0 * i, arm=arm, model_name=model,
                              escalated=i == 2)
        shadow_make(complaint=complaint, model_name="triage" if model == "vader" else "vader")
    admin.goto("/manage/ab/")
    expect(admin.locator("#ab-table")).to_contain_text("vader")
    expect(admin.locator("#ab-table")).to_contain_text("triage")
    assert admin.evaluate("typeof Chart") == "function"
    assert admin.evaluate("Chart.getChart(document.getElementById('compound-chart')) !== undefined")
    points = "Chart.getChart(document.getElementById('escalation-chart')).data.datasets[0].data.length"
    assert admin.evaluate(points) == 2
    screenshot(admin, "ab-results")
    assert errors_seen == []


def test_pipeline_health_page_reports_what_is_down(new_page, staff_login, screenshot):
    admin = staff_login(new_page(), "ada", admin=True)
    admin.goto("/manage/health/")
    expect(admin.locator("#kafka-lag")).to_contain_text("Kafka unreachable")
    expect(admin.locator("#scoring-health")).to_contain_text("unreachable")
    expect(admin.locator("#outbox-pending")).to_be_visible()
    screenshot(admin, "health")
