"""The stack is locked by default (issue 12, items 3, 4 and 9), checked on the real
stack: what a local process without the generated secrets can no longer do."""
from __future__ import annotations

import socket
import stat
import uuid
from urllib.parse import urlsplit

import psycopg
import pytest
import requests

from tests.e2e.conftest import WEB, scoring_headers, submit, wait_for
from triage_core.config import addresses, var_dir

pytestmark = [pytest.mark.e2e]


def redis_says(*commands: bytes) -> bytes:
    where = urlsplit(addresses().redis_url)
    with socket.create_connection((where.hostname, where.port), timeout=5) as sock:
        sock.sendall(b"".join(c + b"\r\n" for c in commands))
        answer = b""
        while answer.count(b"\r\n") < len(commands):
            chunk = sock.recv(256)
            if not chunk:
                break
            answer += chunk
    return answer


def test_redis_answers_nothing_without_the_generated_password(stack_session):
    assert redis_says(b"PING").startswith(b"-NOAUTH")
    assert redis_says(b"AUTH default ''", b"PING").startswith(b"-WRONGPASS")
    user = urlsplit(addresses().redis_url)
    assert redis_says(f"AUTH {user.username} {user.password}".encode(), b"PING") == b"+OK\r\n+PONG\r\n"


def test_postgres_refuses_the_old_documented_password(stack_session):
    where = urlsplit(addresses().database_url)
    assert where.password and where.password != "triage"
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(f"postgresql://triage:triage@{where.hostname}:{where.port}{where.path}", connect_timeout=5)


def test_the_scoring_service_refuses_a_client_without_the_token(stack_session):
    url = f"{addresses().scoring_url}/predict"
    assert requests.post(url, json={"data": "It broke."}, timeout=10).status_code == 401
    assert requests.post(url, json={"data": "It broke."}, timeout=10,
                         headers={"Authorization": "Bearer guess"}).status_code == 401
    answer = requests.post(url, json={"data": "It broke."}, timeout=10, headers=scoring_headers())
    assert answer.status_code == 200 and "compound" in answer.json()


def test_var_is_private_and_the_secrets_readable_by_the_product_only(stack_session):
    var = var_dir()
    assert stat.S_IMODE(var.stat().st_mode) == 0o711  # the postgres user may pass, nobody may list
    for name in ("log", "run", "kafka", "redis", "mail", "secrets", "checkpoints"):
        assert stat.S_IMODE((var / name).stat().st_mode) == 0o700, name
    for secret in (var / "secrets").iterdir():
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600, secret.name
    assert stat.S_IMODE((var / "redis" / "users.acl").stat().st_mode) == 0o600


def test_no_tracking_code_reaches_the_web_log(api):
    created = submit(api, f"Security {uuid.uuid4().hex}: the parcel arrived broken.").json()
    code = created["tracking_code"]
    assert api.get(f"{WEB}/track/{code}/", timeout=30).status_code == 200
    assert api.get(f"{WEB}/api/complaints/{code}/", timeout=30).status_code == 200
    assert api.get(f"{WEB}/track/{code}x/", timeout=30).status_code == 404  # Django logs a 404's path
    log = var_dir() / "log" / "web.log"
    wait_for(lambda: log.read_text(errors="replace").count("/track/[code]/") >= 2, timeout=10,
             what="the redacted tracking-page lines in the access log")
    text = log.read_text(errors="replace")
    assert code not in text
