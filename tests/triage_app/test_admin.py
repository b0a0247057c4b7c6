"""The Django admin's policy screens: a save is a new version through the audited service."""
from __future__ import annotations

import pytest

from triage_app import errors
from triage_app.models import AuditLog, EscalationPolicy

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/triage_app/escalationpolicy/add/"
FORM = {"escalate_at": "55", "negative_compound": "-0.8", "weight_sentiment": "0.5", "weight_severity": "0.3",
        "weight_category": "0.2", "weight_complaint": "0", "min_complaint": "0", "unsupported_priority": "40",
        "signal_triggers": '["legal_threat"]'}


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def test_the_admin_add_form_saves_a_new_audited_version(admin_client, admin_user):
    """Mutant tried: VersionedAdmin.save_model replaced by a plain `obj.version = newest +
    1; obj.save()` (ModelAdmin's own save, bypassing services.policy_create) -> the version
    was stored with no created_by and no AuditLog entry: the test failed (created_by None)."""
    before = EscalationPolicy.objects.order_by("-version").first()
    assert admin_client.get(ADD_URL).status_code == 200

    response = admin_client.post(ADD_URL, FORM)

    assert response.status_code == 302
    saved = EscalationPolicy.objects.order_by("-version").first()
    assert (saved.version, saved.created_by) == (before.version + 1, admin_user)
    assert (saved.escalate_at, saved.negative_compound, saved.unsupported_priority, saved.signal_triggers) == (
        55.0, -0.8, 40.0, ["legal_threat"])
    audit = AuditLog.objects.get(action="policy.create")
    assert (audit.actor, audit.entity) == (admin_user, "escalation_policy")
    assert audit.old["version"] == before.version and audit.old["escalate_at"] == before.escalate_at
    assert (audit.new["version"], audit.new["escalate_at"], audit.new["signal_triggers"]) == (
        before.version + 1, 55.0, ["legal_threat"])


def test_editing_an_old_version_in_the_admin_saves_a_new_one_and_leaves_the_old(admin_client, admin_user):
    """Append-only: "change" on version 1 writes the next version. Mutant tried:
    VersionedAdmin.save_model calling ModelAdmin.save_model when `change` -> version 1 was
    rewritten to escalate_at 55 in place and no version was added; the test failed."""
    first = EscalationPolicy.objects.get(version=1)
    newest = EscalationPolicy.objects.order_by("-version").first().version

    response = admin_client.post(f"/admin/triage_app/escalationpolicy/{first.pk}/change/", FORM)

    assert response.status_code == 302
    assert EscalationPolicy.objects.get(version=1).escalate_at == first.escalate_at
    assert EscalationPolicy.objects.order_by("-version").first().version == newest + 1
    assert AuditLog.objects.filter(action="policy.create", actor=admin_user).count() == 1


def test_an_invalid_policy_in_the_admin_is_shown_and_saves_nothing(admin_client):
    """The admin form runs the service's validation. Mutant tried: PolicyForm.clean not
    calling services.policy_validate -> all-zero weights reached policy_create, whose
    InvalidInput escaped the admin view (a 500); the test failed."""
    count = EscalationPolicy.objects.count()
    response = admin_client.post(ADD_URL, {**FORM, "weight_sentiment": "0", "weight_severity": "0",
                                           "weight_category": "0"})
    assert response.status_code == 200
    assert errors.POLICY_WEIGHTS_ZERO in response.content.decode()
    assert EscalationPolicy.objects.count() == count and not AuditLog.objects.exists()


EXPERIMENT_ADD_URL = "/admin/triage_app/experiment/add/"


@pytest.mark.parametrize("arms, message", [
    ('[{"label": ["A"], "model": "vader", "weight": 100}]', "arm labels must be text"),
    ('[{"label": "A", "model": "vader", "weight": 50}, {"label": "A ", "model": "triage", "weight": 50}]',
     "arm labels must be unique"),
    ('[{"label": "A", "model": ["vader"], "weight": 100}]', "model is required"),
    ("[" * 5000 + "]" * 5000, errors.JSON_TOO_DEEP),
])
def test_the_admin_experiment_form_names_what_is_wrong_and_saves_nothing(admin_client, arms, message):
    """These were 500s (an unhashable label, RecursionError), or saved "A" and "A " as two
    arms. Mutant tried: BoundedJSONField replaced by Django's JSONField again -> the deep
    JSON raised RecursionError and the test failed."""
    from triage_app.models import Experiment

    before = Experiment.objects.count()
    response = admin_client.post(EXPERIMENT_ADD_URL, {"arms": arms, "shadow_model": ""})
    assert response.status_code == 200  # the form again, with its errors
    assert message in response.content.decode().replace("&#x27;", "'").replace("&quot;", '"')
    assert Experiment.objects.count() == before


def test_one_triage_admin_permission_opens_the_screens_and_their_admin_pages(client, django_user_model):
    """Issue 12, item 12: the product's screens and the Django admin's policy and
    experiment pages follow one rule. Mutant tried: VersionedAdmin without its
    permission methods (Django's model permissions back): the group member could not
    open the admin's policy page, and the add-only user could."""
    from django.contrib.auth.models import Group, Permission

    tuner = django_user_model.objects.create_user(username="tuner", password="pw-tuner-123", is_staff=True)
    tuner.groups.add(Group.objects.get(name="Triage admins"))
    adder = django_user_model.objects.create_user(username="adder", password="pw-adder-123", is_staff=True)
    adder.user_permissions.add(Permission.objects.get(codename="add_escalationpolicy"))
    for user, allowed in ((tuner, True), (adder, False)):
        client.force_login(user)
        for url in ("/manage/policy/", "/manage/experiment/", "/admin/triage_app/escalationpolicy/",
                    "/admin/triage_app/escalationpolicy/add/", "/admin/triage_app/experiment/add/"):
            status = client.get(url).status_code
            assert (status == 200) is allowed, (user.username, url, status)
