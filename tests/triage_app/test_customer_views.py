"""The customer's side of the conversation on the web (the tracking page's reply form) and
the staff page of mail customers received."""
from __future__ import annotations

import re
import smtplib

import pytest
from aiosmtpd.controller import Controller

from tests.triage_app.test_mail_relay import free_port
from triage_app import errors, services
from triage_app.management.commands.mail_server import Handler, maildir_open
from triage_app.models import Complaint, ComplaintEvent

pytestmark = pytest.mark.django_db

TEXT = "The washing machine I paid for three weeks ago has still not arrived."
XSS = '<script>alert("x")</script>'


def test_the_tracking_page_reply_form_sends_the_complaint_back_to_staff(client, staff_user):
    complaint = services.complaint_submit(text=TEXT, email=None, source="web")
    services.complaint_claim(complaint_id=complaint.id, by=staff_user)
    url = f"/track/{complaint.tracking_code}/"
    response = client.post(url, {"body": f"Here is my order number: 12345 {XSS}"})
    assert response.status_code == 302 and response["Location"] == url
    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.AWAITING_STAFF and complaint.claimed_by == staff_user
    page = client.get(url).content.decode()
    assert "You wrote:" in page and "Here is my order number: 12345" in page
    assert XSS not in page and "&lt;script&gt;" in page
    assert "your message is with our support staff" in page
    # Staff answer it: the complaint waits on the customer again.
    services.complaint_reply_add(complaint_id=complaint.id, by=staff_user, body="Thanks, found it.")
    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.IN_REVIEW


def test_an_empty_reply_is_refused_with_a_message(client):
    complaint = services.complaint_submit(text=TEXT, email=None, source="web")
    response = client.post(f"/track/{complaint.tracking_code}/", {"body": "   "})
    assert response.status_code == 400 and errors.MESSAGE_REQUIRED in response.content.decode()
    assert not complaint.events.filter(kind=ComplaintEvent.Kind.CUSTOMER_REPLY).exists()


def test_a_reply_to_an_unknown_code_is_404(client):
    assert client.post("/track/no-such-code/", {"body": "hello"}).status_code == 404


def test_the_reply_form_is_rate_limited(client, settings, limiter_clock):
    settings.TRIAGE_SUBMIT_RATE = (1, 60)
    complaint = services.complaint_submit(text=TEXT, email=None, source="web")
    assert client.post(f"/track/{complaint.tracking_code}/", {"body": "first"}).status_code == 302
    response = client.post(f"/track/{complaint.tracking_code}/", {"body": "second"})
    assert response.status_code == 429
    assert complaint.events.filter(kind=ComplaintEvent.Kind.CUSTOMER_REPLY).count() == 1


@pytest.fixture
def maildir(settings, tmp_path):
    """The local mail server on a real port, its Maildir where the staff page reads it."""
    settings.TRIAGE_MAILDIR = tmp_path / "mail"
    port = free_port()
    controller = Controller(Handler(maildir=maildir_open(settings.TRIAGE_MAILDIR)), hostname="127.0.0.1",
                            port=port)
    controller.start()
    yield port
    controller.stop()


def message_keys(page: str) -> list[str]:
    return re.findall(r'href="/staff/mail/([^"/]+)/"', page)


def send(port: int, *, to: str, subject: str, body: str) -> None:
    with smtplib.SMTP("127.0.0.1", port) as client:
        client.sendmail("support@triage.localhost", [to],
                        f"From: support@triage.localhost\r\nTo: {to}\r\nSubject: {subject}\r\n"
                        f"Content-Language: en\r\n\r\n{body}\r\n".encode())


def test_staff_see_the_mail_customers_received(client, staff_user, maildir):
    send(maildir, to="ann@example.com", subject="We have your complaint", body=f"Hello {XSS}")
    send(maildir, to="bob@example.com", subject="Re: your complaint", body="Second")
    client.force_login(staff_user)
    page = client.get("/staff/mail/").content.decode()
    assert "ann@example.com" in page and "bob@example.com" in page and "We have your complaint" in page
    newest, oldest = message_keys(page)
    assert page.index("bob@example.com") < page.index("ann@example.com")  # newest first
    detail = client.get(f"/staff/mail/{newest}/")
    assert detail.status_code == 200 and "Second" in detail.content.decode()


def test_a_mail_page_escapes_the_mail(client, staff_user, maildir):
    send(maildir, to="ann@example.com", subject="Hi", body=f"Hello {XSS}")
    client.force_login(staff_user)
    [key] = message_keys(client.get("/staff/mail/").content.decode())
    text = client.get(f"/staff/mail/{key}/").content.decode()
    assert "Hello &lt;script&gt;" in text and XSS not in text


def test_the_mail_pages_are_staff_only_and_refuse_odd_keys(client, staff_user, maildir):
    assert client.get("/staff/mail/").status_code == 302  # to the login
    client.force_login(staff_user)
    assert client.get("/staff/mail/..%2F..%2Fetc%2Fpasswd/").status_code == 404
    assert client.get("/staff/mail/no-such-message/").status_code == 404


def test_without_a_maildir_the_page_says_where_mail_goes(client, staff_user, settings, tmp_path):
    settings.TRIAGE_MAILDIR = tmp_path / "none"
    services.complaint_submit(text=TEXT, email="ann@example.com", source="web")
    client.force_login(staff_user)
    page = client.get("/staff/mail/").content.decode()
    assert "No local mailbox here" in page and "0 sent, 1 waiting" in page
