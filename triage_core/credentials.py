"""Secrets that set-up generates for the local stack, one file each in <var>/secrets/
(folder 0700, files 0600, like the Django secret key), so that no password of a running
stack is ever a documented default.

Every process of one stack reads the same files (they share the var dir), so the web
app, the stream and the scoring service agree on the scoring token, and scripts/stack
gives Postgres and Redis the passwords the clients will use. A deployment passes its
own secrets in the environment instead (TRIAGE_DATABASE_URL with a password,
TRIAGE_SCORING_TOKEN); then nothing is generated.
"""
from __future__ import annotations

import os
import secrets
import tempfile
from functools import cache
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit


def secrets_dir(var: Path) -> Path:
    return var / "secrets"


@cache  # a secret never changes under a running process; addresses() is read per request
def generated(name: str, *, var: Path) -> str:
    """The secret `name`, made on first use (32 random bytes, URL-safe).

    Created atomically (written to a private temporary file, then linked into place,
    which fails if another process got there first), so two processes starting at once
    end up with one secret, never a half-written file."""
    folder = secrets_dir(var)
    path = folder / name
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.")  # mode 0600
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(32))
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
        finally:
            os.unlink(tmp)
    return path.read_text().strip()


def with_generated_password(url: str, *, secret: str, var: Path) -> str:
    """`url` with the generated password `secret` when it names a user but no password
    ("postgresql://triage@host/db"); any other URL is returned as it is."""
    parts = urlsplit(url)
    if not parts.username or parts.password is not None:
        return url
    host = parts.hostname or ""
    netloc = f"{quote(parts.username, safe='')}:{quote(generated(secret, var=var), safe='')}@{host}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
