"""A customer's mail to a complaint's reply address, turned into their reply.

`receive` is called by the product's SMTP endpoint (manage.py mail_server) once per
reply address a message is sent to. It never raises: what cannot be used is logged
with the reason and dropped, or answered with a polite bounce.

- Automatic mail (RFC 3834 `Auto-Submitted` other than "no", `Precedence: bulk`,
  `junk` or `list`, a mailing list's `List-Id`, an empty sender) is logged and never
  answered, so two auto-responders cannot loop through the product.
- The complaint is found by the token of the reply address; failing that (a mail
  client that answered the From address), by the complaint's Message-ID in
  In-Reply-To or References.
- The body is the text part (or the HTML part reduced to text: nothing of a mail is
  ever rendered as HTML), decoded with its declared charset (undecodable bytes are
  replaced, not fatal), without the quoted history and the signature.
"""
from __future__ import annotations

import email
import email.policy
import logging
import re
from email.message import EmailMessage
from email.utils import parseaddr

from django.conf import settings
from django.utils.html import strip_tags

from triage_app import services
from triage_app.errors import ActionRefused, InvalidInput
from triage_app.mail import REPLY_PREFIX
from triage_app.models import Complaint
from triage_core.messages import MAX_MESSAGE_CHARS

log = logging.getLogger("triage_app.inbound")

_TOKEN = re.compile(r"^[0-9a-f]{40}$")
_THREAD = re.compile(r"<complaint\.([0-9a-f-]{36})@([^>]+)>")
# Where the quoted history starts: "On <date>, <name> wrote:" (English mail clients),
# "<date>, <name> пишет:" / "написал(а):" (Russian ones), Outlook's separator and header
# block, and a line quoted with ">".
_QUOTE_STARTS = [
    re.compile(r"^\s*On\b.{0,200}\bwrote:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^.{0,200}(пишет|написал|написала|написал\(а\))\s*:\s*$", re.IGNORECASE),
    re.compile(r"^\s*-{2,}\s*(Original Message|Исходное сообщение|Forwarded message)\s*-{2,}", re.IGNORECASE),
    re.compile(r"^\s*(From|От):\s.*(@|<)", re.IGNORECASE),
    re.compile(r"^\s*>"),
]
# A signature: the "-- " delimiter (RFC 3676), or the usual mobile sign-offs.
_SIGNATURE = re.compile(r"^(--\s?|__+|Sent from my .*|Отправлено с .*|Sent from Mail for .*)$", re.IGNORECASE)


def is_reply_address(address: str) -> bool:
    local, _, domain = address.strip().lower().rpartition("@")
    return domain == settings.TRIAGE_MAIL_DOMAIN.lower() and local.startswith(REPLY_PREFIX)


def _token(address: str) -> str:
    return address.strip().lower().rpartition("@")[0][len(REPLY_PREFIX):]


def is_automatic(message: EmailMessage, sender: str) -> str | None:
    """Why this mail is automatic (never to be answered), or None for a person's mail."""
    auto = str(message.get("Auto-Submitted", "no")).strip().lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    precedence = str(message.get("Precedence", "")).strip().lower()
    if precedence in {"bulk", "junk", "list", "auto_reply"}:
        return f"Precedence: {precedence}"
    if message.get("List-Id"):
        return "a mailing list's message (List-Id)"
    if message.get("X-Autoreply") or message.get("X-Autorespond"):
        return "an auto-responder's message"
    if not sender.strip() or sender.strip() == "<>":
        return "an empty sender (a bounce)"
    return None


def body_text(message: EmailMessage) -> str:
    """The reader's text of a mail: its plain part, else its HTML part without markup."""
    part = message.get_body(preferencelist=("plain",))
    html = False
    if part is None:
        part = message.get_body(preferencelist=("html",))
        html = part is not None
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, UnicodeError):  # an unknown or lying charset
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else ""
    if not isinstance(content, str):
        return ""
    if html:
        content = re.sub(r"(?is)<(script|style)\b.*?</\1\s*>", "", content)
        content = re.sub(r"(?i)<br\s*/?>|</p\s*>|</div\s*>", "\n", content)
        content = strip_tags(content)
    return content.replace("\r\n", "\n").replace("\x00", "")


def without_history(text: str) -> str:
    """The customer's new words: up to the quoted history or the signature."""
    kept: list[str] = []
    for line in text.split("\n"):
        if any(p.match(line) for p in _QUOTE_STARTS) or _SIGNATURE.match(line.rstrip("\n")):
            break
        kept.append(line)
    return "\n".join(kept).strip()


def find_complaint(recipient: str, message: EmailMessage) -> Complaint | None:
    token = _token(recipient)
    if _TOKEN.match(token):
        found = Complaint.objects.filter(reply_token=token).first()
        if found is not None:
            return found
    threads = f"{message.get('In-Reply-To', '')} {message.get('References', '')}"
    for complaint_id, domain in _THREAD.findall(threads):
        if domain.lower() == settings.TRIAGE_MAIL_DOMAIN.lower():
            found = Complaint.objects.filter(id=complaint_id).first()
            if found is not None:
                return found
    return None


def receive(*, raw: bytes, recipient: str, sender: str) -> str:
    """Attach a mail to its complaint; returns what happened (also logged)."""
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
    except Exception as exc:  # the parser is lenient; this is a last guard, never a crash
        log.warning("unreadable mail to %s dropped: %s", recipient, exc)
        return "unreadable"
    why_automatic = is_automatic(message, sender)
    if why_automatic:
        log.info("automatic mail to %s not taken (%s)", recipient, why_automatic)
        return "automatic"
    from_address = parseaddr(str(message.get("From", "")))[1] or sender
    complaint = find_complaint(recipient, message)
    if complaint is None:
        log.info("mail to unknown reply address %s; bouncing to %s", recipient, from_address)
        services.mail_bounce(to=from_address, in_reply_to=str(message.get("Message-ID", "")),
                             language="ru" if "ru" in str(message.get("Content-Language", "")) else "en")
        return "bounced"
    text = without_history(body_text(message))
    if not text:
        log.info("mail to complaint %s has no text of its own (empty, or only quoted history); dropped",
                 complaint.id)
        return "empty"
    if len(text) > MAX_MESSAGE_CHARS:
        text = text[:MAX_MESSAGE_CHARS - 1] + "…"
    try:
        outcome = services.complaint_customer_reply(complaint_id=complaint.id, body=text, via="mail")
    except (InvalidInput, ActionRefused) as exc:
        log.warning("mail to complaint %s not attached: %s", complaint.id, exc)
        return "refused"
    log.info("mail from the customer attached to complaint %s (%s)", outcome.complaint.id, outcome.what)
    return outcome.what
