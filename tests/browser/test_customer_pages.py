"""The customer's tracking page in headless Chromium: its reply form, in Russian (the
complaint's language) and in English after the language switch."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from triage_app.models import Complaint, ComplaintEvent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_the_reply_form_in_both_languages(new_page, screenshot):
    page = new_page()  # an English browser; the complaint is written in Russian
    page.goto("/")
    page.fill("#id_text", "Мне так и не привезли заказ, деньги списали две недели назад.")
    page.fill("#id_email", "ivan@example.ru")
    page.click("button[type=submit]:has-text('Send complaint')")
    page.wait_for_url(re.compile(r"/track/[^/]+/\?new=1$"))
    complaint = Complaint.objects.get(tracking_code=page.text_content("#tracking-code").strip())
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.locator(".notice h1")).to_have_text("Спасибо, мы получили вашу жалобу")
    expect(page.locator("h2", has_text="Написать нам")).to_be_visible()
    page.click("#send-reply")  # empty: refused, in Russian, nothing stored
    expect(page.locator("#reply-error")).to_have_text("Сначала напишите что-нибудь.")
    page.fill("#reply-body", "Номер заказа 4711. <b>не жирный</b>")
    page.click("#send-reply")
    expect(page.locator(".messages")).to_contain_text("ваше сообщение передано службе поддержки")
    expect(page.locator(".history-customer_reply")).to_contain_text("Вы написали: Номер заказа 4711. <b>не жирный</b>")
    screenshot(page, "russian-reply")

    page.click("nav button[value='en']")  # the language switch
    page.wait_for_url(re.compile(rf"/track/{re.escape(complaint.tracking_code)}/$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.fill("#reply-body", "And the courier never called.")
    page.click("#send-reply")
    expect(page.locator(".messages")).to_contain_text("your message is with our support staff")
    expect(page.locator(".history-customer_reply")).to_have_count(2)
    screenshot(page, "english-reply")

    assert Complaint.objects.get(id=complaint.id).status == Complaint.Status.AWAITING_STAFF
    assert list(complaint.events.filter(kind=ComplaintEvent.Kind.CUSTOMER_REPLY).values_list("body", flat=True)) \
        == ["Номер заказа 4711. <b>не жирный</b>", "And the courier never called."]


def test_the_staff_page_of_a_complaint_follows_the_customers_answer_live(new_page, staff_login, screenshot):
    """The customer writes on the tracking page; the staff member who has the complaint
    open sees it appear (the page follows the queue socket) without reloading by hand."""
    customer = new_page()
    customer.goto("/")
    customer.fill("#id_text", "The parcel was due on Tuesday and it is still not here.")
    customer.click("button[type=submit]:has-text('Send complaint')")
    customer.wait_for_url(re.compile(r"/track/[^/]+/\?new=1$"))
    complaint = Complaint.objects.get(tracking_code=customer.text_content("#tracking-code").strip())

    staff = staff_login(new_page())
    staff.goto(f"/staff/complaints/{complaint.id}/")
    expect(staff.locator("#complaint-live")).to_have_attribute("data-state", "live")
    customer.fill("#reply-body", "My order number is 4711.")
    customer.click("#send-reply")
    expect(staff.locator(".history-customer_reply")).to_contain_text("My order number is 4711.", timeout=30_000)
    expect(staff.locator("#status")).to_have_text("Awaiting staff")
    screenshot(staff, "staff-sees-the-answer")

    # While staff are typing, the page does not reload under them: it says so.
    staff.click("#claim")  # in review; the customer's next answer moves it back to awaiting staff
    expect(staff.locator("#status")).to_have_text("In review")
    expect(staff.locator("#complaint-live")).to_have_attribute("data-state", "live")
    staff.fill("#note-body", "half-written note")
    customer.fill("#reply-body", "And the courier never called.")
    customer.click("#send-reply")
    expect(staff.locator("#complaint-changed")).to_be_visible(timeout=30_000)
    expect(staff.locator("#note-body")).to_have_value("half-written note")
    staff.click("#complaint-reload")
    expect(staff.locator(".history-customer_reply")).to_have_count(2)
