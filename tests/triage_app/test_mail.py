"""What each event owes the customer by mail (triage_app.mail), written with the event."""
from __future__ import annotations

import pytest
from django.db import transaction

from triage_app import mail, services
from triage_app.models import Complaint, MailMessage

pytestmark = pytest.mark.django_db

WASHER = ("I ordered a washing machine three weeks ago, paid 600 euros, and it still has not arrived. "
          "I called four times and nobody helps.")
WASHER_RU = ("Я заказал стиральную машину три недели назад, заплатил 600 евро, а её до сих пор не привезли. "
             "Звонил четыре раза, никто не помогает.")


@pytest.mark.parametrize(("text", "preferred", "expected"), [
    (WASHER_RU, None, "ru"),             # the script decides first
    (WASHER_RU, "en-GB", "ru"),
    (WASHER, "ru-RU", "ru"),             # then the browser's language, when the product speaks it
    (WASHER, "fr", "en"),                # else English
    (WASHER, None, "en"),
    ("Заказ 12345 order not delivered", None, "en"),  # more Latin than Cyrillic letters
])
def test_customer_language(text, preferred, expected):
    assert mail.customer_language(text=text, preferred=preferred) == expected


def test_submission_with_an_address_owes_an_acknowledgement_in_english(settings):
    settings.TRIAGE_PUBLIC_URL = "https://complaints.example.com"
    complaint = services.complaint_submit(text=WASHER, email="ann@example.com", source="web")
    sent = MailMessage.objects.get(complaint=complaint)
    assert sent.kind == "acknowledgement" and sent.to_address == "ann@example.com" and sent.language == "en"
    assert sent.sent_at is None and sent.attempts == 0  # the relay sends it
    assert sent.subject == f"We have your complaint (ref. {mail.reference(complaint)})"
    link = f"https://complaints.example.com/track/{complaint.tracking_code}/"
    assert link in sent.body_text and f'href="{link}"' in sent.body_html
    assert sent.message_id == f"<complaint.{complaint.id}@{settings.TRIAGE_MAIL_DOMAIN}>" and sent.in_reply_to == ""
    assert sent.reply_to == f"reply+{complaint.reply_token}@{settings.TRIAGE_MAIL_DOMAIN}"
    assert len(complaint.reply_token) == 40 and sent.auto_submitted


def test_a_russian_complaint_is_acknowledged_in_russian():
    complaint = services.complaint_submit(text=WASHER_RU, email="ivan@example.ru", source="web")
    assert complaint.language == "ru"
    sent = MailMessage.objects.get(complaint=complaint)
    assert sent.language == "ru"
    assert sent.subject == f"Мы получили вашу жалобу (номер {mail.reference(complaint)})"
    assert "Ваш код отслеживания" in sent.body_text and "Здравствуйте" in sent.body_html
    assert 'lang="ru"' in sent.body_html


def test_no_address_no_mail():
    complaint = services.complaint_submit(text=WASHER, email=None, source="api")
    assert not MailMessage.objects.filter(complaint=complaint).exists()


def test_the_mail_is_rolled_back_with_its_complaint():
    with pytest.raises(RuntimeError), transaction.atomic():
        services.complaint_submit(text=WASHER, email="ann@example.com", source="web")
        raise RuntimeError("the request failed after the service")
    assert not Complaint.objects.exists() and not MailMessage.objects.exists()


def test_a_staff_reply_is_mailed_in_the_thread_and_a_note_is_not(staff_user):
    complaint = services.complaint_submit(text=WASHER, email="ann@example.com", source="web")
    services.complaint_claim(complaint_id=complaint.id, by=staff_user)
    services.complaint_note_add(complaint_id=complaint.id, by=staff_user, body="INTERNAL: refund likely fraud")
    services.complaint_reply_add(complaint_id=complaint.id, by=staff_user,
                                 body="We are sorry. <script>alert(1)</script> A refund is on its way.")
    reply = MailMessage.objects.get(complaint=complaint, kind="reply")
    assert "<script>alert(1)</script> A refund is on its way." in reply.body_text  # text stays text
    assert "&lt;script&gt;" in reply.body_html and "<script>" not in reply.body_html
    assert reply.in_reply_to == mail.thread_id(complaint) and reply.message_id != mail.thread_id(complaint)
    assert not reply.auto_submitted  # a person wrote it
    assert not MailMessage.objects.filter(body_text__contains="INTERNAL").exists()
    assert MailMessage.objects.filter(complaint=complaint).count() == 2  # acknowledgement + reply


def test_resolution_is_mailed_with_the_reopen_window(staff_user, settings):
    settings.TRIAGE_REOPEN_DAYS = 21
    complaint = services.complaint_submit(text=WASHER_RU, email="ivan@example.ru", source="web")
    services.complaint_resolve(complaint_id=complaint.id, by=staff_user)
    resolved = MailMessage.objects.get(complaint=complaint, kind="resolved")
    assert resolved.subject.startswith("Ваша жалоба решена")
    assert "в течение 21 дня" in resolved.body_text  # Russian plural of 21
    assert resolved.in_reply_to == mail.thread_id(complaint)


def test_the_smtp_message_carries_threading_and_auto_submitted_headers():
    complaint = services.complaint_submit(text=WASHER, email="ann@example.com", source="web")
    message = mail.email_message(MailMessage.objects.get(complaint=complaint)).message()
    assert message["Message-ID"] == mail.thread_id(complaint)
    assert message["Reply-To"] == mail.reply_address(complaint)
    assert message["Auto-Submitted"] == "auto-generated" and message["Content-Language"] == "en"
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.get_payload()] == ["text/plain", "text/html"]
