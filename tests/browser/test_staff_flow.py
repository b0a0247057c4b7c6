"""A customer submits, the stream (simulated here by a score row and its NOTIFY) scores,
and staff work the complaint on live pages in headless Chromium."""
from __future__ import annotations

import json
import re

import pytest
from django.db import connection
from playwright.sync_api import expect

from tests.triage_app.factories import score_make
from triage_app import errors
from triage_app.models import Complaint

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# How long a test waits for a push (score listener -> Redis -> daphne -> WebSocket -> the
# page): a generous limit for a 2-core machine shared with Spark, never a speed check.
PUSH_TIMEOUT_MS = 30_000
INJECTION = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"> my card was charged twice'


def submit_through_form(page, text: str) -> Complaint:
    page.goto("/")
    page.fill("#id_text", text)
    page.fill("#id_email", "customer@example.com")
    page.click("button[type=submit]:has-text('Send complaint')")
    page.wait_for_url(re.compile(r"/track/[^/]+/\?new=1$"))
    code = page.text_content("#tracking-code").strip()
    return Complaint.objects.get(tracking_code=code)


def score_like_the_stream(complaint: Complaint, **fields) -> None:
    """What the Spark sink does: upsert the score (ranked under the current policy, so the
    score listener finds nothing stale to re-rank), mark analysed, NOTIFY in its transaction."""
    from triage_app.selectors import policy_current

    fields.setdefault("policy_version", policy_current().version)
    score_make(complaint=complaint, **fields)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_notify('complaint_scored', %s)",
                       [json.dumps({"ids": [str(complaint.id)], "escalated": [str(complaint.id)]})])


def queue_item(page, complaint: Complaint):
    return page.locator(f".queue-item[data-id='{complaint.id}']")


def test_submitted_complaint_appears_live_is_claimed_answered_resolved(new_page, staff_login, screenshot):
    staff = staff_login(new_page(), "sam")
    screenshot(staff, "empty-queue")

    customer = new_page()
    complaint = submit_through_form(customer, "The heater caught fire in my kitchen, I want a refund now!")
    expect(customer.locator("#status")).to_have_text("Received")
    screenshot(customer, "submitted")

    # 84.37: with its dot, a value no port number or tracking code on the customer's page can contain
    score_like_the_stream(complaint, compound=-0.86, priority=84.37, escalated=True, category="product_quality",
                          signals={"safety_risk": ["fire"]}, model_name="triage", model_version="1.0")
    item = queue_item(staff, complaint)
    expect(item).to_be_visible(timeout=PUSH_TIMEOUT_MS)  # pushed over the WebSocket: no reload
    expect(item.locator(".escalated")).to_be_visible()
    expect(item.locator(".why")).to_contain_text("safety_risk: fire")
    expect(item.locator(".why")).to_contain_text("triage 1.0")
    screenshot(staff, "live-item")

    item.locator("button.claim").click()
    expect(item.locator(".claimed-by")).to_have_text("claimed by you")
    item.locator("a.open").click()
    staff.wait_for_url(f"**/staff/complaints/{complaint.id}/")
    expect(staff.locator("#priority")).to_contain_text("84.37")
    staff.fill("#reply-body", "We are sorry. A replacement and a refund are on their way.")
    staff.click("#send-reply")
    expect(staff.locator(".messages")).to_contain_text("Reply sent")
    staff.fill("#note-body", "Internal: escalate to product safety team")
    staff.click("#add-note")
    staff.click("#resolve")
    expect(staff.locator("#status")).to_have_text("Resolved")
    screenshot(staff, "resolved")

    customer.reload()
    expect(customer.locator("#status")).to_have_text("Resolved")
    expect(customer.locator("#history")).to_contain_text("A replacement and a refund are on their way.")
    body = customer.content()
    assert "Internal: escalate" not in body and "84.37" not in customer.text_content("main")
    screenshot(customer, "tracking-with-reply")


def test_script_injection_renders_as_text_everywhere(new_page, staff_login, screenshot):
    staff = staff_login(new_page(), "sam")
    customer = new_page()
    complaint = submit_through_form(customer, INJECTION)
    expect(customer.locator(".complaint-text")).to_have_text(INJECTION)

    score_like_the_stream(complaint, compound=-0.7, priority=60.0, escalated=True)
    item = queue_item(staff, complaint)
    expect(item.locator(".text")).to_have_text(INJECTION, timeout=PUSH_TIMEOUT_MS)
    assert staff.locator(".queue-item img").count() == 0
    assert staff.evaluate("window.__pwned") is None
    screenshot(staff, "injection-in-queue")

    staff.goto(f"/staff/complaints/{complaint.id}/")
    expect(staff.locator("#complaint-text")).to_have_text(INJECTION)
    assert staff.evaluate("window.__pwned") is None
    assert customer.evaluate("window.__pwned") is None
    screenshot(staff, "injection-detail")


def test_second_claim_is_refused_at_once_and_claims_show_live(new_page, staff_login, screenshot):
    alice = staff_login(new_page(), "alice")
    bob = staff_login(new_page(), "bob")
    complaint = submit_through_form(new_page(), "Nobody answers the phone and my account is locked.")
    score_like_the_stream(complaint, compound=-0.6, priority=45.0)
    for page in (alice, bob):
        expect(queue_item(page, complaint)).to_be_visible(timeout=PUSH_TIMEOUT_MS)

    # Bob's page still shows the Claim button when Alice's claim lands: the server decides.
    bob.evaluate("window.__stale = true")
    queue_item(alice, complaint).locator("button.claim").click()
    expect(queue_item(alice, complaint).locator(".claimed-by")).to_have_text("claimed by you")
    expect(queue_item(bob, complaint).locator(".claimed-by")).to_have_text("claimed by alice", timeout=PUSH_TIMEOUT_MS)

    bob.goto(f"/staff/complaints/{complaint.id}/")
    bob.request.post(f"/api/staff/complaints/{complaint.id}/claim/")  # without CSRF: refused
    alice_claim_refused = bob.evaluate("""async (id) => {
        const token = document.cookie.match(/csrftoken=([^;]+)/)[1];
        const r = await fetch(`/api/staff/complaints/${id}/claim/`, {method: "POST", headers: {"X-CSRFToken": token}});
        return [r.status, (await r.json()).detail];
    }""", str(complaint.id))
    assert alice_claim_refused == [409, errors.CLAIMED_BY_OTHER.format(name="alice")]
    screenshot(bob, "claim-refused")


def test_queue_is_usable_from_the_keyboard(new_page, staff_login):
    staff = staff_login(new_page(), "kim")
    complaint = submit_through_form(new_page(), "The delivery is three weeks late, this is unacceptable.")
    score_like_the_stream(complaint, compound=-0.5, priority=40.0)
    item = queue_item(staff, complaint)
    expect(item).to_be_visible(timeout=PUSH_TIMEOUT_MS)
    staff.keyboard.press("j")
    expect(item).to_have_class(re.compile("selected"))
    staff.keyboard.press("c")
    expect(item.locator(".claimed-by")).to_have_text("claimed by you")
    staff.keyboard.press("Enter")
    staff.wait_for_url(f"**/staff/complaints/{complaint.id}/")
