"""The product's SMTP endpoint (aiosmtpd), on 127.0.0.1:TRIAGE_SMTP_PORT.

    python manage.py mail_server                 # inbound replies + the local Maildir
    python manage.py mail_server --no-maildir    # inbound replies only (a deployment)

Two kinds of recipient:
- a complaint's reply address, reply+<token>@TRIAGE_MAIL_DOMAIN: the customer's answer,
  handed to triage_app.inbound, which attaches it to the complaint;
- any other address, locally only: the mail the product sends to customers, kept one
  file per message in the Maildir var/mail/ (mode 0700), which the staff mail page
  lists, so that a person sees what customers got without a real mail server.
  With --no-maildir (behind a real MX) those are refused: this is not an open relay.
"""
from __future__ import annotations

import asyncio
import logging
import mailbox
import os
import signal
from pathlib import Path

from aiosmtpd.controller import Controller
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection

from triage_app import inbound

log = logging.getLogger("triage_app.mail_server")

# A customer's answer is text; 10 MiB leaves room for a photo or two, and a larger
# message is refused by the SMTP server itself (552) before its body is read.
MAX_MESSAGE_BYTES = 10 * 1024 * 1024


def maildir_open(path: Path) -> mailbox.Maildir:
    for sub in ("tmp", "new", "cur"):  # Maildir(create=True) makes these only in a new folder
        (path / sub).mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)  # customers' mail: readable by the product only
    return mailbox.Maildir(path, create=False)


class Handler:
    def __init__(self, *, maildir: mailbox.Maildir | None) -> None:
        self.maildir = maildir

    async def handle_RCPT(self, server, session, envelope, address: str, rcpt_options) -> str:
        if not inbound.is_reply_address(address) and self.maildir is None:
            return "550 5.7.1 Relaying denied: this server only takes replies to complaints"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        content: bytes = envelope.original_content or envelope.content
        replies = [r for r in envelope.rcpt_tos if inbound.is_reply_address(r)]
        others = [r for r in envelope.rcpt_tos if r not in replies]
        if others and self.maildir is not None:
            headers = "".join(f"Delivered-To: {r}\r\n" for r in others).encode()
            key = self.maildir.add(headers + content)
            log.info("stored mail for %s in the Maildir as %s", ", ".join(others), key)
        for address in replies:
            await sync_to_async(receive_and_close, thread_sensitive=False)(
                raw=content, recipient=address, sender=envelope.mail_from or "")
        return "250 Message accepted"


def receive_and_close(**message) -> str:
    """inbound.receive on a worker thread, whose database connection is given back
    afterwards (as a request's is): the thread outlives the message."""
    try:
        return inbound.receive(**message)
    finally:
        connection.close()


class Command(BaseCommand):
    help = "Run the product's SMTP endpoint: customers' replies, and locally a Maildir of outgoing mail."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--no-maildir", action="store_true",
                            help="refuse everything but reply addresses (behind a real mail exchanger)")
        parser.add_argument("--port", type=int, default=None, help="default TRIAGE_SMTP_PORT")
        parser.add_argument("--host", default="127.0.0.1", help="address to bind (a container: 0.0.0.0)")

    def handle(self, *args, no_maildir: bool = False, port: int | None = None, host: str = "127.0.0.1",
               **options) -> None:
        maildir = None if no_maildir else maildir_open(Path(settings.TRIAGE_MAILDIR))
        port = port or settings.TRIAGE_SMTP_PORT
        controller = Controller(Handler(maildir=maildir), hostname=host, port=port,
                                data_size_limit=MAX_MESSAGE_BYTES, server_hostname=settings.TRIAGE_MAIL_DOMAIN)
        controller.start()
        log.info("SMTP on %s:%d (Maildir: %s)", host, port, settings.TRIAGE_MAILDIR if maildir else "off")
        stop = asyncio.Event()
        loop = asyncio.new_event_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            loop.run_until_complete(stop.wait())
        finally:
            controller.stop()
            loop.close()
        log.info("SMTP server stopped")
