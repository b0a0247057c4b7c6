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


def test_drf_create_token_works_for_admin(monkeypatch):
    run(monkeypatch, "first-Secret-42")
    out = StringIO()
    call_command("drf_create_token", "admin", stdout=out)
    assert out.getvalue().split()[2]


def test_migrations_seed_policy_and_experiment_version_1():
    from triage_app.models import EscalationPolicy, Experiment

    assert EscalationPolicy.objects.get(version=1).escalate_at == 60.0
    assert Experiment.objects.get(version=1).arms == [{"label": "A", "model": "vader", "weight": 100}]
