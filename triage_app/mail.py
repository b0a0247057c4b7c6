"""Mail to customers: what each event owes them, written to the mail outbox, and how one
outbox row becomes an SMTP message.

The services call `mail_owe` inside the transaction of the event (submission, staff
reply, resolution), so the mail exists exactly when the event does; `manage.py
mail_relay` sends it. Each mail is rendered once, when it is owed, in the complaint's
language: what the customer receives is what the event said at that moment.

Threading: the acknowledgement's Message-ID is the complaint's own
(`<complaint.<id>@<domain>>`); every later mail answers it (In-Reply-To, References),
so a mail client shows one conversation per complaint, and an answer to any of them
names the complaint twice: by its reply address and by that Message-ID.
"""
from __future__ import annotations

import re
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from triage_app.models import Complaint, ComplaintEvent, MailMessage

LANGUAGES = ("en", "ru")
REPLY_PREFIX = "reply+"
_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
_LATIN = re.compile(r"[a-z]", re.IGNORECASE)


def customer_language(*, text: str, preferred: str | None) -> str:
    """The language to write to the customer in: Russian for a text written mostly in
    Cyrillic, else the language the browser asked for (Accept-Language or the page's
    switch) when the product speaks it, else English."""
    cyrillic, latin = len(_CYRILLIC.findall(text)), len(_LATIN.findall(text))
    if cyrillic > latin:
        return "ru"
    code = (preferred or "").split("-", 1)[0].lower()
    return code if code in LANGUAGES else "en"


def reference(complaint: Complaint) -> str:
    """A short reference customers and staff can quote: not a secret, not the tracking code."""
    return str(complaint.id)[:8].upper()


def reply_address(complaint: Complaint) -> str:
    return f"{REPLY_PREFIX}{complaint.reply_token}@{settings.TRIAGE_MAIL_DOMAIN}"


def thread_id(complaint: Complaint) -> str:
    return f"<complaint.{complaint.id}@{settings.TRIAGE_MAIL_DOMAIN}>"


def tracking_url(complaint: Complaint) -> str:
    return settings.TRIAGE_PUBLIC_URL + reverse("track", args=[complaint.tracking_code])


def unsubscribe_url(complaint: Complaint) -> str:
    return settings.TRIAGE_PUBLIC_URL + reverse("track-unsubscribe", args=[complaint.tracking_code])


def render(kind: str, context: dict, language: str) -> tuple[str, str, str]:
    with translation.override(language):
        subject = render_to_string(f"mail/{kind}_subject.txt", context).strip()
        text = render_to_string(f"mail/{kind}.txt", context)
        html = render_to_string(f"mail/{kind}.html", context)
    return " ".join(subject.split()), text, html


def mail_owe(*, complaint: Complaint, kind: str, event: ComplaintEvent | None = None) -> MailMessage | None:
    """Write the mail `kind` owes the customer of `complaint` (None without an address).

    Call it inside the transaction of the event: the mail is committed with it or not
    at all. The body holds what the customer may read (a staff reply, links), never an
    internal note or a score."""
    if not complaint.email or complaint.mail_opt_out:
        return None
    language = complaint.language if complaint.language in LANGUAGES else "en"
    track = tracking_url(complaint)
    context = {
        "complaint": complaint, "reference": reference(complaint), "tracking_url": track,
        "reply": event.body if event is not None and event.kind == ComplaintEvent.Kind.REPLY else "",
        "reopen_days": settings.TRIAGE_REOPEN_DAYS,
        "unsubscribe_url": unsubscribe_url(complaint),
        "ratings": [(n, f"{track}?rating={n}#satisfaction") for n in range(1, 6)],
    }
    subject, text, html = render(kind, context, language)
    first = kind == MailMessage.Kind.ACKNOWLEDGEMENT
    return MailMessage.objects.create(
        complaint=complaint, kind=kind, to_address=complaint.email, subject=subject, body_text=text,
        body_html=html, language=language,
        message_id=thread_id(complaint) if first else make_msgid(domain=settings.TRIAGE_MAIL_DOMAIN),
        in_reply_to="" if first else thread_id(complaint),
        reply_to=reply_address(complaint) if complaint.reply_token else "",
        # A staff reply is written by a person; the other mails are the product's own.
        auto_submitted=kind != MailMessage.Kind.REPLY,
    )


def email_message(mail: MailMessage, *, connection=None) -> EmailMultiAlternatives:
    """The SMTP message of one outbox row: plain text with an HTML alternative."""
    headers = {"Message-ID": mail.message_id}
    if mail.in_reply_to:
        headers["In-Reply-To"] = mail.in_reply_to
        headers["References"] = mail.in_reply_to
    if mail.auto_submitted:
        # RFC 3834: mail clients and auto-responders do not answer it automatically.
        headers["Auto-Submitted"] = "auto-generated"
    headers["Content-Language"] = mail.language
    complaint = mail.complaint  # None, without a query, when the mail has no complaint
    if complaint is not None and complaint.tracking_code:
        # RFC 8058 one-click: a mail client's "unsubscribe" POSTs to this address.
        headers["List-Unsubscribe"] = f"<{unsubscribe_url(complaint)}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message = EmailMultiAlternatives(subject=mail.subject, body=mail.body_text, to=[mail.to_address],
                                     reply_to=[mail.reply_to] if mail.reply_to else None, headers=headers,
                                     connection=connection)
    if mail.body_html:
        message.attach_alternative(mail.body_html, "text/html")
    return message
