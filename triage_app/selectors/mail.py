"""Mail to customers as staff see it: the local Maildir and the mail outbox."""
from __future__ import annotations

import email
import email.policy
import mailbox
import os
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

from triage_app.models import MailMessage

MAILDIR_PAGE = 100
_MAILDIR_KEY = re.compile(r"^[A-Za-z0-9._,:=-]{1,200}$")


def _maildir_summary(key: str, message: mailbox.MaildirMessage) -> dict:
    try:
        sent = parsedate_to_datetime(str(message.get("Date", "")))
    except (TypeError, ValueError):
        sent = datetime.fromtimestamp(message.get_date(), tz=UTC)
    return {"key": key, "date": sent, "to": str(message.get("To", "")), "subject": str(message.get("Subject", "")),
            "kind_language": str(message.get("Content-Language", ""))}


def maildir_recent(*, folder: Path, limit: int = MAILDIR_PAGE) -> list[dict] | None:
    """The newest `limit` messages of the local Maildir (by the time each file was
    written, read from the directory, so that only those `limit` files are opened); None
    when there is no Maildir (a deployment that sends through a real relay)."""
    folder = Path(folder)
    if not (folder / "new").is_dir():
        return None
    files = [entry for sub in ("new", "cur") for entry in os.scandir(folder / sub) if entry.is_file()]
    files.sort(key=lambda entry: entry.stat().st_mtime, reverse=True)
    box = mailbox.Maildir(folder, create=False)
    recent = []
    for entry in files[:limit]:
        key = entry.name.split(":", 1)[0]
        try:
            recent.append(_maildir_summary(key, box.get_message(key)))
        except KeyError:  # delivered to cur/ or removed meanwhile
            continue
    return recent


def maildir_message(*, folder: Path, key: str) -> dict | None:
    """One message of the Maildir, as a person reads it: headers and the text part."""
    if not _MAILDIR_KEY.match(key) or not (Path(folder) / "new").is_dir():
        return None
    box = mailbox.Maildir(folder, create=False)
    try:
        stored = box.get_message(key)  # the file is read once: its headers and delivery time
    except KeyError:
        return None
    parsed = email.message_from_bytes(stored.as_bytes(), policy=email.policy.default)
    body = parsed.get_body(preferencelist=("plain",))
    return {**_maildir_summary(key, stored), "from": str(parsed.get("From", "")),
            "reply_to": str(parsed.get("Reply-To", "")), "message_id": str(parsed.get("Message-ID", "")),
            "in_reply_to": str(parsed.get("In-Reply-To", "")),
            "text": body.get_content() if body is not None else "",
            "has_html": parsed.get_body(preferencelist=("html",)) is not None}


def mail_outbox_summary() -> dict:
    pending = MailMessage.objects.filter(sent_at__isnull=True)
    return {"pending": pending.count(), "failing": pending.exclude(last_error="").count(),
            "sent": MailMessage.objects.filter(sent_at__isnull=False).count()}
