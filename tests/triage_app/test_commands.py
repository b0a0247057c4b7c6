from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def run(monkeypatch, password=None):
    if password is None:
        monkeypatch.delenv("TRIAGE_ADMIN_PASSWORD", raising=False)
    else:
        monkeypatch.setenv("TRIAGE_ADMIN_PASSWORD", password)
    out = StringIO()
    call_command("ensure_admin", stdout=out)
    return out.getvalue()


def test_ensure_admin_generates_and_prints_a_password_once(monkeypatch):
    output = run(monkeypatch)
    password = output.strip().rsplit(" ", 1)[1]
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff and admin.check_password(password)
    assert "unchanged" in run(monkeypatch)
    admin.refresh_from_db()
    assert admin.check_password(password)


def test_ensure_admin_uses_and_updates_env_password(monkeypatch):
    run(monkeypatch, "first-Secret-42")
    assert get_user_model().objects.get(username="admin").check_password("first-Secret-42")
    assert "unchanged" in run(monkeypatch, "first-Secret-42")
    run(monkeypatch, "second-Secret-42")
    assert get_user_model().objects.get(username="admin").check_password("second-Secret-42")


def test_an_api_token_is_printed_once_stored_hashed_and_expires(monkeypatch, client):
    """Issue 12, item 15. Mutant tried: a token issued with no expiry (expiry=None): the
    lifetime assertion failed."""
    from datetime import timedelta

    from django.utils import timezone
    from knox.models import AuthToken

    run(monkeypatch, "first-Secret-42")
    out = StringIO()
    call_command("api_token", "admin", "--hours", "1", stdout=out, stderr=StringIO())
    token = out.getvalue().strip()
    stored = AuthToken.objects.get()
    assert token and stored.digest != token and token not in stored.digest  # only the hash is kept
    assert stored.expiry is not None
    assert timedelta(minutes=59) < stored.expiry - timezone.now() <= timedelta(hours=1)
    assert client.get("/api/queue/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 200
    # Refused as an invalid token (403: the first authenticator, the session's, names no
    # WWW-Authenticate scheme, so DRF answers 403 rather than 401).
    wrong = client.get("/api/queue/", HTTP_AUTHORIZATION=f"Token {token[:-1]}x")
    assert wrong.status_code == 403 and "Invalid token" in wrong.json()["detail"]
    AuthToken.objects.update(expiry=timezone.now() - timedelta(seconds=1))
    expired = client.get("/api/queue/", HTTP_AUTHORIZATION=f"Token {token}")
    assert expired.status_code == 403 and "Invalid token" in expired.json()["detail"]


def test_api_tokens_are_for_staff_only_and_can_be_revoked(monkeypatch):
    import pytest
    from django.core.management.base import CommandError
    from knox.models import AuthToken

    get_user_model().objects.create_user(username="carol", password="pw-carol-123")
    with pytest.raises(CommandError, match="not an active staff member"):
        call_command("api_token", "carol", stdout=StringIO(), stderr=StringIO())
    run(monkeypatch, "first-Secret-42")
    call_command("api_token", "admin", stdout=StringIO(), stderr=StringIO())
    out = StringIO()
    call_command("api_token", "admin", "--revoke", stdout=out)
    assert "Revoked 1 token" in out.getvalue() and not AuthToken.objects.exists()


def test_migrations_seed_policy_and_experiment_version_1():
    from triage_app.models import EscalationPolicy, Experiment

    assert EscalationPolicy.objects.get(version=1).escalate_at == 60.0
    assert Experiment.objects.get(version=1).arms == [{"label": "A", "model": "vader", "weight": 100}]
