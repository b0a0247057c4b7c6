"""The whole product in a real browser on the test stack: the customer's form on its web,
Kafka, the Spark job, the scoring service, Postgres, the score listener, Redis and the
staff dashboard's WebSocket. No step is simulated."""
from __future__ import annotations

import re
import secrets
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, log_in_to_live_queue
from tests.browser.test_staff_flow import PUSH_TIMEOUT_MS
from tests.e2e.conftest import ROOT, WEB
from tests.e2e.streaming_helpers import local_env

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

ARTIFACTS = ROOT / "test-artifacts" / "e2e-browser"


@pytest.fixture
def staff_user(stack_session) -> tuple[str, str]:
    username, password = f"e2e-staff-{uuid.uuid4().hex[:8]}", secrets.token_urlsafe(12)
    script = ("from django.contrib.auth import get_user_model; "
              f"get_user_model().objects.create_user(username='{username}', password='{password}', is_staff=True)")
    subprocess.run([sys.executable, "manage.py", "shell", "-c", script], cwd=ROOT, check=True, capture_output=True,
                   env=local_env())
    return username, password


@pytest.fixture
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: scripts/bootstrap.sh installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


def test_form_submission_is_scored_by_the_pipeline_and_worked_live_by_staff(browser, staff_user):
    from playwright.sync_api import expect

    username, password = staff_user
    staff = log_in_to_live_queue(browser.new_context(base_url=WEB, viewport={"width": 1200, "height": 900}).new_page(),
                                 username, password)

    marker = uuid.uuid4().hex[:10]
    text = (f"Order {marker}: the charger started smoking and nearly caused a fire. "
            "This is outrageous, I will contact my lawyer!")
    customer = browser.new_context(base_url=WEB).new_page()
    customer.goto("/")
    customer.fill("#id_text", text)
    customer.click("button[type=submit]:has-text('Send complaint')")
    customer.wait_for_url(re.compile(r"/track/[^/]+/\?new=1$"))
    tracking_url = customer.url.split("?")[0]
    customer.screenshot(path=str(ARTIFACTS / "01-customer-submitted.png"), full_page=True)

    item = staff.locator(".queue-item", has_text=marker)
    expect(item).to_be_visible(timeout=60_000)  # Kafka -> Spark -> scoring -> Postgres -> WebSocket, no reload
    expect(item.locator(".why")).to_contain_text("sentiment")
    item.screenshot(path=str(ARTIFACTS / "02-staff-live-item.png"))  # the queue page is long

    item.locator("button.claim").click()
    expect(item.locator(".claimed-by")).to_have_text("claimed by you", timeout=PUSH_TIMEOUT_MS)
    item.locator("a.open").click()
    staff.wait_for_url("**/staff/complaints/*/")
    staff.fill("#reply-body", f"Reply {marker}: we are replacing the charger and refunding you.")
    staff.click("#send-reply")
    expect(staff.locator(".messages")).to_contain_text("Reply sent", timeout=PUSH_TIMEOUT_MS)
    staff.click("#resolve")
    expect(staff.locator("#status")).to_have_text("Resolved", timeout=PUSH_TIMEOUT_MS)
    staff.screenshot(path=str(ARTIFACTS / "03-staff-resolved.png"), full_page=True)

    customer.goto(tracking_url)
    expect(customer.locator("#status")).to_have_text("Resolved", timeout=PUSH_TIMEOUT_MS)
    expect(customer.locator("#history")).to_contain_text(f"Reply {marker}")
    customer.screenshot(path=str(ARTIFACTS / "04-customer-tracking.png"), full_page=True)
