"""Canned replies (triage_app/canned.py): placeholders filled for the complaint, the
admin refusing a body that cannot be filled, and the complaint page offering them."""
from __future__ import annotations

import json
import re

import pytest

from tests.triage_app.factories import complaint_make, score_make
from triage_app.admin import CannedReplyForm
from triage_app.canned import fill, placeholder_problems
from triage_app.models import CannedReply

pytestmark = pytest.mark.django_db


def test_placeholders_are_filled_for_the_complaint(settings):
    complaint = complaint_make(email="anna@example.com")
    text = fill("Dear {customer_email}: {tracking_code} at {tracking_url}, {agent} ({submitted}).",
                complaint=complaint, agent="Sam")
    assert text == (f"Dear anna@example.com: {complaint.tracking_code} at {settings.TRIAGE_PUBLIC_URL}/track/"
                    f"{complaint.tracking_code}/, Sam ({complaint.created_at.date().isoformat()}).")
    assert fill("a lone { brace", complaint=complaint, agent="Sam") == "a lone { brace"


@pytest.mark.parametrize(("body", "problem"), [("Hi {name}", "unknown placeholder {name}"),
                                               ("50% off {", "Single '{'")])
def test_the_admin_refuses_a_body_that_cannot_be_filled(body, problem):
    assert any(problem in p for p in placeholder_problems(body))
    form = CannedReplyForm(data={"title": "T", "language": "", "body": body, "active": True})
    assert not form.is_valid() and "body" in form.errors
    assert CannedReplyForm(data={"title": "T", "language": "fr", "body": "ok", "active": True}).errors["language"]


def test_the_complaint_page_offers_the_replies_of_its_language_filled_in(client, staff_user):
    complaint = complaint_make(text="Посылка не пришла.", language="ru")
    score_make(complaint=complaint)
    CannedReply.objects.create(title="Any language", body="Code {tracking_code}, {agent}")
    CannedReply.objects.create(title="Retired", body="old", active=False)
    client.force_login(staff_user)
    body = client.get(f"/staff/complaints/{complaint.id}/").content.decode()
    found = json.loads(re.search(r'<script id="canned-replies" type="application/json">(.*?)</script>', body,
                                 re.S).group(1))
    titles = [c["title"] for c in found]
    assert "Any language" in titles and "Задержка доставки: разбираемся" in titles  # the seeded Russian one
    assert "Retired" not in titles and "Delivery delayed: we are on it" not in titles
    assert {"title": "Any language", "text": f"Code {complaint.tracking_code}, alice"} in found
    assert "triage_app/canned.js" in body


def test_only_triage_admins_write_canned_replies_in_the_admin(client, staff_user, admin_user):
    staff_user.is_staff = True
    staff_user.save()
    client.force_login(staff_user)
    assert client.get("/admin/triage_app/cannedreply/").status_code == 403
    client.force_login(admin_user)
    assert client.get("/admin/triage_app/cannedreply/").status_code == 200
    response = client.post("/admin/triage_app/cannedreply/add/", {"title": "Refund sent", "language": "en",
                                                                  "body": "Sent to {customer_email}.", "active": "on"})
    assert response.status_code == 302 and CannedReply.objects.filter(title="Refund sent").exists()
