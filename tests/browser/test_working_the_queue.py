"""Working the queue in headless Chromium: the SLA countdown on a queue item, search,
and correcting the model from the complaint page."""
from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.triage_app.factories import complaint_make, score_make
from triage_app import services
from triage_app.models import Complaint, Correction

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_the_queue_shows_each_items_service_level_and_a_breach_as_escalated(new_page, staff_login, screenshot):
    fresh = complaint_make(text="The kettle leaks a little.")
    score_make(complaint=fresh, priority=20)
    late = complaint_make(text="Nobody answered me for two days.")
    Complaint.objects.filter(id=late.id).update(created_at=timezone.now() - dt.timedelta(days=2))
    score_make(complaint=late, priority=5)
    services.sla_pass()
    page = staff_login(new_page(), "sla-sam")
    first, second = page.locator(".queue-item").nth(0), page.locator(".queue-item").nth(1)
    expect(first.locator(".text")).to_have_text("Nobody answered me for two days.")
    expect(first.locator(".sla")).to_contain_text("SLA breached: first reply was due")
    expect(first.locator(".escalated")).to_be_visible()
    expect(second.locator(".sla")).to_contain_text("first reply due in 23 h")
    screenshot(page, "queue-with-slas")


def test_staff_search_and_correct_the_model(new_page, staff_login, screenshot):
    wanted = complaint_make(text="My refund for the broken blender never came.")
    score_make(complaint=wanted, category="billing", language="en")
    score_make(complaint=complaint_make(text="Lovely staff, thank you."), category="other")
    page = staff_login(new_page(), "search-sue")
    page.click("nav >> text=Search")
    page.fill("#search-q", "refunds")
    page.click("form.search button[type=submit]")
    expect(page.locator("#search-count")).to_contain_text("1 complaint found")
    page.click("#search-results a")
    page.click("#correct-model summary")
    page.select_option("#correct-category", "product_quality")
    page.click("#correct-category-save")
    expect(page.locator("#history")).to_contain_text("category: billing -> product_quality")
    screenshot(page, "corrected")
    correction = Correction.objects.get(complaint=wanted)
    assert (correction.value, correction.model_category, correction.by.username) == (
        "product_quality", "billing", "search-sue")


def test_a_canned_reply_goes_into_the_reply_box_filled_in(new_page, staff_login):
    complaint = complaint_make(text="Where is my parcel? It is a week late.", language="en")
    score_make(complaint=complaint)
    page = staff_login(new_page(), "canned-cat")
    page.goto(f"/staff/complaints/{complaint.id}/")
    page.fill("#reply-body", "Hello! ")
    page.select_option("#canned-reply", label="Delivery delayed: we are on it")
    page.click("#canned-insert")
    text = page.input_value("#reply-body")
    assert text.startswith("Hello! Hello,") and f"(code {complaint.tracking_code})" in text
    assert text.rstrip().endswith("canned-cat")


def test_a_lead_assigns_a_complaint_to_an_agent_of_the_routed_team_who_finds_it_in_my_complaints(
        new_page, staff_login, screenshot):
    from django.contrib.auth import get_user_model

    from tests.browser.conftest import STAFF_PASSWORD, log_in_to_live_queue
    from triage_app.models import RoutingRule, Team

    billing = Team.objects.create(name="Billing")
    RoutingRule.objects.create(category="billing", team=billing)
    agent = get_user_model().objects.create_user(username="bill-agent", password=STAFF_PASSWORD, is_staff=True)
    billing.members.add(agent)
    complaint = complaint_make(text="I was charged twice for one order.")
    score_make(complaint=complaint, category="billing", language="en")  # routed to Billing by its first score
    lead = staff_login(new_page(), "lead-lee")
    lead.goto(f"/staff/complaints/{complaint.id}/")
    expect(lead.locator("#team")).to_have_text("Billing")
    lead.select_option("#assign-agent", label="bill-agent (0)")
    lead.click("#assign")
    expect(lead.locator("#history")).to_contain_text("agent: — → bill-agent")
    screenshot(lead, "assigned")

    page = log_in_to_live_queue(new_page(), "bill-agent", STAFF_PASSWORD)
    page.select_option("#filter-assignee", "me")
    item = page.locator(".queue-item")
    expect(item).to_have_count(1)
    expect(item.locator(".text")).to_have_text("I was charged twice for one order.")
    expect(item.locator(".claimed-by")).to_have_text("team Billing · claimed by you")
