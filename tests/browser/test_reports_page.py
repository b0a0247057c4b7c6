"""The operational reports in headless Chromium: a complaint worked through the staff
pages, the reports worker's refresh, then the admin's page draws its charts with the npm
Chart.js served from static/ (no page error, nothing the CSP blocks) and its CSV
download holds the same figures."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.browser.test_staff_flow import score_like_the_stream
from tests.triage_app.factories import complaint_make
from triage_app.models import Complaint

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

CHARTS = ("reports-volume-chart", "reports-times-chart", "reports-sla-chart", "reports-backlog-chart",
          "reports-agents-chart")


def test_worked_complaints_show_in_the_reports_charts_and_csv(new_page, staff_login, screenshot):
    staff = staff_login(new_page(), "sam")
    admin = staff_login(new_page(), "ada", admin=True)
    problems: list[str] = []
    admin.on("pageerror", lambda exc: problems.append(str(exc)))
    admin.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)

    worked = complaint_make(text="My parcel never came and nobody answers my mails.")
    score_like_the_stream(worked, compound=-0.6, priority=30.0, escalated=False, category="delivery", language="en")
    waiting = complaint_make(text="The invoice charges me twice for one order.")
    score_like_the_stream(waiting, compound=-0.4, priority=20.0, escalated=False, category="billing", language="en")
    staff.goto(f"/staff/complaints/{worked.id}/")
    staff.click("#claim")
    staff.fill("#reply-body", "Sorry: the parcel is lost, a new one is on its way.")
    staff.click("#send-reply")
    expect(staff.locator(".messages")).to_contain_text("Reply sent")
    staff.click("#resolve")
    expect(staff.locator("#status")).to_have_text("Resolved")

    call_command("reports_worker", "--once")  # the worker's refresh, on the test database daphne serves
    day = Complaint.objects.get(id=worked.id).created_at.date().isoformat()
    admin.goto(f"/manage/reports/?since={day}&until={day}")
    expect(admin.locator("#reports-as-of")).to_contain_text("Figures as of")
    totals = admin.locator("#reports-totals")
    expect(totals.locator("tr", has_text="Complaints received")).to_contain_text("2")
    expect(totals.locator("tr", has_text="Resolved")).to_contain_text("1")
    expect(admin.locator("#reports-agents tbody tr").first).to_contain_text("sam")
    assert admin.evaluate("typeof Chart") == "function"
    for chart in CHARTS:
        assert admin.evaluate(f"Chart.getChart(document.getElementById('{chart}')) !== undefined"), chart
    # One bar per category (billing, delivery) and the line of those resolved.
    volume = "Chart.getChart(document.getElementById('reports-volume-chart')).data.datasets.map(d => d.label)"
    assert admin.evaluate(volume) == ["billing", "delivery", "Of those, resolved"]
    screenshot(admin, "reports")

    with admin.expect_download() as download:
        admin.locator("a[href^='/manage/reports/categories.csv']").click()
    lines = list(csv.DictReader(Path(download.value.path()).read_text().splitlines()))
    assert [(row["category"], row["received"], row["resolved"]) for row in lines] == [
        ("billing", "1", "0"), ("delivery", "1", "1")]
    assert problems == []
