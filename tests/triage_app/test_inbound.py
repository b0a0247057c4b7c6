"""A customer's mail to a reply address (triage_app.inbound), and the SMTP endpoint that
takes it (manage.py mail_server) over real SMTP on loopback."""
from __future__ import annotations

import mailbox
import smtplib
from datetime import timedelta
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from tests.triage_app.test_mail_relay import free_port
from triage_app import inbound, mail, services
from triage_app.management.commands.mail_server import Handler, maildir_open
from triage_app.models import Complaint, ComplaintEvent, MailMessage

TEXT = "The washing machine I paid for three weeks ago has still not arrived."


def message(*, to: str, body: str = "It has still not arrived. Please call me.", sender: str = "ann@example.com",
            headers: dict | None = None, html: str | None = None, charset: str = "utf-8") -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Ann <{sender}>"
    msg["To"] = to
    msg["Subject"] = "Re: your complaint"
    msg["Message-ID"] = "<answer.1@mail.example.com>"
    for name, value in (headers or {}).items():
        msg[name] = value
    if html is None:
        msg.set_content(body, charset=charset)
    else:
        msg.set_content(html, subtype="html")
    return bytes(msg)


@pytest.fixture
def complaint(db):
    return services.complaint_submit(text=TEXT, email="ann@example.com", source="web")


# --- the text of a mail ------------------------------------------------------------

def test_quoted_history_and_signature_are_cut():
    text = ("Still nothing arrived.\nPlease refund me.\n\nOn Tue, 1 Dec 2026 at 10:00, Support <s@x.com> wrote:\n"
            "> We are sorry\n> for the delay")
    assert inbound.without_history(text) == "Still nothing arrived.\nPlease refund me."
    assert inbound.without_history("Thanks, that helps.\n-- \nAnn Smith\nACME Ltd") == "Thanks, that helps."
    assert inbound.without_history("Sure.\n\nSent from my iPhone") == "Sure."
    russian = "Заказ так и не пришёл.\n\n1 дек. 2026 г., в 10:00, Поддержка <s@x.com> пишет:\n> Извините"
    assert inbound.without_history(russian) == "Заказ так и не пришёл."
    outlook = "Fine.\n\nFrom: Support <support@triage.localhost>\nSent: Tuesday"
    assert inbound.without_history(outlook) == "Fine."
    assert inbound.without_history("From my point of view this is fraud.") == "From my point of view this is fraud."


def test_an_html_only_mail_becomes_text_without_scripts():
    raw = message(to="x@y", html="<p>It <b>broke</b> again</p><script>alert('x')</script><br>Call me")
    from email import message_from_bytes, policy
    text = inbound.body_text(message_from_bytes(raw, policy=policy.default))
    assert "alert" not in text and "<" not in text
    assert "It broke again" in text and "Call me" in text


def test_a_lying_charset_is_decoded_with_replacements_not_a_crash():
    raw = (b"From: ann@example.com\r\nTo: x@y\r\nSubject: hi\r\nContent-Type: text/plain; charset=x-no-such\r\n\r\n"
           b"Still broken \xff\xfe here\r\n")
    from email import message_from_bytes, policy
    text = inbound.body_text(message_from_bytes(raw, policy=policy.default))
    assert text.startswith("Still broken") and "here" in text


# --- attaching it ------------------------------------------------------------------

@pytest.mark.django_db
def test_a_reply_is_attached_and_sends_the_complaint_back_to_staff(complaint):
    outcome = inbound.receive(raw=message(to=mail.reply_address(complaint)), recipient=mail.reply_address(complaint),
                              sender="ann@example.com")
    assert outcome == "attached"
    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.AWAITING_STAFF
    event = complaint.events.get(kind=ComplaintEvent.Kind.CUSTOMER_REPLY)
    assert event.body == "It has still not arrived. Please call me." and event.public and event.actor is None


@pytest.mark.django_db
def test_a_reply_to_the_from_address_is_threaded_by_in_reply_to(complaint, settings):
    wrong = f"support@{settings.TRIAGE_MAIL_DOMAIN}"
    raw = message(to=wrong, headers={"In-Reply-To": mail.thread_id(complaint)})
    assert inbound.receive(raw=raw, recipient=f"reply+{'0' * 40}@{settings.TRIAGE_MAIL_DOMAIN}",
                           sender="ann@example.com") == "attached"
    assert complaint.events.filter(kind=ComplaintEvent.Kind.CUSTOMER_REPLY).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("headers", [{"Auto-Submitted": "auto-replied"}, {"Precedence": "bulk"},
                                     {"List-Id": "<news.example.com>"}, {"X-Autoreply": "yes"}])
def test_automatic_mail_is_never_taken_nor_answered(complaint, headers):
    address = mail.reply_address(complaint)
    assert inbound.receive(raw=message(to=address, headers=headers), recipient=address,
                           sender="ann@example.com") == "automatic"
    assert not complaint.events.filter(kind=ComplaintEvent.Kind.CUSTOMER_REPLY).exists()
    assert not MailMessage.objects.filter(kind="bounce").exists()


@pytest.mark.django_db
def test_an_unknown_reply_address_gets_a_polite_bounce(settings):
    address = f"reply+{'a' * 40}@{settings.TRIAGE_MAIL_DOMAIN}"
    assert inbound.receive(raw=message(to=address, sender="lost@example.com"), recipient=address,
                           sender="lost@example.com") == "bounced"
    bounce = MailMessage.objects.get(kind="bounce")
    assert bounce.to_address == "lost@example.com" and bounce.complaint is None and bounce.auto_submitted
    assert bounce.in_reply_to == "<answer.1@mail.example.com>" and "nobody has read your mail" in bounce.body_text
    # A bounce to the product's own domain would answer a bounce: none is written.
    assert services.mail_bounce(to=f"reply+x@{settings.TRIAGE_MAIL_DOMAIN}") is None


@pytest.mark.django_db
def test_only_quoted_history_is_dropped(complaint):
    address = mail.reply_address(complaint)
    raw = message(to=address, body="On Tue, Support wrote:\n> Anything else?")
    assert inbound.receive(raw=raw, recipient=address, sender="ann@example.com") == "empty"
    assert not complaint.events.filter(kind=ComplaintEvent.Kind.CUSTOMER_REPLY).exists()


@pytest.mark.django_db
def test_a_resolved_complaint_reopens_within_the_window_and_is_followed_after(complaint, staff_user, settings):
    settings.TRIAGE_REOPEN_DAYS = 14
    address = mail.reply_address(complaint)
    services.complaint_resolve(complaint_id=complaint.id, by=staff_user)
    assert inbound.receive(raw=message(to=address), recipient=address, sender="ann@example.com") == "reopened"
    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.AWAITING_STAFF and complaint.resolved_at is None
    assert complaint.events.filter(kind=ComplaintEvent.Kind.REOPENED).count() == 1

    services.complaint_resolve(complaint_id=complaint.id, by=staff_user)
    Complaint.objects.filter(id=complaint.id).update(resolved_at=timezone.now() - timedelta(days=15))
    assert inbound.receive(raw=message(to=address, body="It broke again."), recipient=address,
                           sender="ann@example.com") == "new_complaint"
    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.RESOLVED  # the old one stays closed
    follow_up = Complaint.objects.get(follows=complaint)
    assert follow_up.text == "It broke again." and follow_up.email == "ann@example.com"
    assert MailMessage.objects.filter(complaint=follow_up, kind="acknowledgement").count() == 1


# --- the SMTP endpoint ------------------------------------------------------------

@pytest.fixture
def endpoint(tmp_path):
    """manage.py mail_server's handler on a real port, with a Maildir in tmp_path."""
    port = free_port()
    box = maildir_open(tmp_path / "mail")
    controller = Controller(Handler(maildir=box), hostname="127.0.0.1", port=port)
    controller.start()
    yield port, box
    controller.stop()


def test_mail_for_customers_lands_in_the_maildir(endpoint, tmp_path):
    port, box = endpoint
    with smtplib.SMTP("127.0.0.1", port) as client:
        client.sendmail("support@triage.localhost", ["ann@example.com"],
                        message(to="ann@example.com", body="Your complaint is resolved."))
    stored = [box.get_message(k) for k in box.keys()]
    assert len(stored) == 1 and stored[0]["Delivered-To"] == "ann@example.com"
    assert "Your complaint is resolved." in stored[0].get_payload(decode=True).decode()
    assert (tmp_path / "mail").stat().st_mode & 0o777 == 0o700


# Transactional: the endpoint attaches the reply on its own thread and connection.
# serialized_rollback, as every transactional test here: the migrations' seeded rows
# come back afterwards for the tests that follow.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_reply_by_smtp_reaches_the_complaint(endpoint):
    port, box = endpoint
    complaint = services.complaint_submit(text=TEXT, email="ann@example.com", source="web")
    with smtplib.SMTP("127.0.0.1", port) as client:
        client.sendmail("ann@example.com", [mail.reply_address(complaint)], message(to=mail.reply_address(complaint)))
    assert complaint.events.filter(kind=ComplaintEvent.Kind.CUSTOMER_REPLY).count() == 1
    assert len(box.keys()) == 0  # a reply is the product's, not a customer's mailbox


def test_without_a_maildir_the_endpoint_is_no_open_relay():
    port = free_port()
    controller = Controller(Handler(maildir=None), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with smtplib.SMTP("127.0.0.1", port) as client, pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            client.sendmail("spam@example.com", ["victim@example.org"], message(to="victim@example.org"))
    finally:
        controller.stop()
    assert refused.value.recipients["victim@example.org"][0] == 550


def test_a_message_over_the_size_limit_is_refused_by_the_server(tmp_path):
    port = free_port()
    controller = Controller(Handler(maildir=maildir_open(tmp_path / "m")), hostname="127.0.0.1", port=port,
                            data_size_limit=1000)
    controller.start()
    try:
        # smtplib announces the size (ESMTP SIZE), so the server refuses at MAIL FROM.
        with smtplib.SMTP("127.0.0.1", port) as client, pytest.raises(smtplib.SMTPSenderRefused) as refused:
            client.sendmail("ann@example.com", ["bob@example.com"], message(to="bob@example.com", body="x" * 5000))
    finally:
        controller.stop()
    assert refused.value.smtp_code == 552
    assert len(mailbox.Maildir(tmp_path / "m").keys()) == 0
