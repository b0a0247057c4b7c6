"""Staff corrections of the model (triage_app/services/corrections.py): stored with who,
when and what the model said, on the timeline, through the page and the API, compared
per arm on the A/B page, and exported as a labelled source for training."""
from __future__ import annotations

import csv
import gzip
import json

import pytest
from django.core.management import call_command

from tests.triage_app.factories import complaint_make, score_make
from triage_app import selectors, services
from triage_app.errors import InvalidInput
from triage_app.models import ComplaintEvent, Correction

pytestmark = pytest.mark.django_db


def scored(text: str = "The parcel never came.", **score) -> object:
    complaint = complaint_make(text=text, email="ivan@example.ru")
    score_make(complaint=complaint, **{"category": "billing", "priority": 70.0, "escalated": True,
                                       "language": "en", "model_name": "triage", "model_version": "2.0.0+ab",
                                       "arm": "B", **score})
    return complaint


def test_a_correction_keeps_who_when_and_what_the_model_said_and_is_on_the_timeline(staff_user):
    complaint = scored()
    correction = services.complaint_correct(complaint_id=complaint.id, by=staff_user, kind="category",
                                            value="delivery")
    assert (correction.by, correction.value, correction.model_category, correction.arm) == (
        staff_user, "delivery", "billing", "B")
    assert (correction.model_version, correction.model_priority, correction.model_escalated) == ("2.0.0+ab", 70.0, True)
    event = complaint.events.get(kind=ComplaintEvent.Kind.CORRECTED)
    assert (event.actor, event.body, event.public) == (staff_user, "category: billing -> delivery", False)


@pytest.mark.parametrize(("kind", "value", "field"), [("guess", "", "kind"), ("category", "weather", "value")])
def test_a_bad_correction_is_refused_by_name(staff_user, kind, value, field):
    with pytest.raises(InvalidInput) as caught:
        services.complaint_correct(complaint_id=scored().id, by=staff_user, kind=kind, value=value)
    assert list(caught.value.errors) == [field]


def test_an_unscored_complaint_has_nothing_to_correct(staff_user):
    with pytest.raises(InvalidInput, match="not been scored"):
        services.complaint_correct(complaint_id=complaint_make().id, by=staff_user, kind="not_complaint")


def test_the_page_and_the_api_record_corrections(client, staff_user):
    complaint = scored()
    client.force_login(staff_user)
    page = client.get(f"/staff/complaints/{complaint.id}/").content.decode()
    assert 'id="correct-model"' in page and 'id="correct-not_complaint"' in page
    response = client.post(f"/staff/complaints/{complaint.id}/correct/", {"kind": "urgency_too_high"})
    assert response.status_code == 302
    answer = client.post(f"/api/staff/complaints/{complaint.id}/corrections/", {"kind": "category",
                                                                                "value": "delivery"},
                         content_type="application/json")
    assert answer.status_code == 201 and answer.json()["value"] == "delivery"
    assert client.post(f"/api/staff/complaints/{complaint.id}/corrections/", {"kind": "nope"},
                       content_type="application/json").status_code == 400
    assert list(Correction.objects.values_list("kind", flat=True).order_by("id")) == ["urgency_too_high", "category"]


def test_the_page_lists_the_same_customers_other_complaints(client, staff_user):
    first, second = scored("First one."), scored("Second one.")
    client.force_login(staff_user)
    page = client.get(f"/staff/complaints/{second.id}/").content.decode()
    assert 'id="same-customer"' in page and f"/staff/complaints/{first.id}/" in page


def test_the_ab_page_reports_each_arms_agreement_with_staff(staff_user):
    """Arm B: 5 reviewed (resolved), 2 of them corrected -> agreement 0.6; of its 4
    escalated reviewed ones 1 was called too high -> precision 0.75 (a category correction
    says nothing about the escalation). Mutant tried: the precision counting every
    correction kind -> 0.5; the test failed."""
    complaints = [scored(f"Complaint {n}") for n in range(4)]
    for c in complaints:
        c.status = "resolved"
        c.save(update_fields=["status"])
    services.complaint_correct(complaint_id=complaints[0].id, by=staff_user, kind="urgency_too_high")
    services.complaint_correct(complaint_id=complaints[1].id, by=staff_user, kind="category", value="delivery")
    plain = scored("Not escalated", escalated=False, priority=10)
    plain.status = "resolved"
    plain.save(update_fields=["status"])
    scored("Still open, never reviewed")
    (variant,) = [v for v in selectors.ab_results()["variants"] if v["arm"] == "B"]
    assert (variant["staff_reviewed"], variant["staff_escalated_reviewed"]) == (5, 4)
    assert variant["staff_agreement"] == pytest.approx(1 - 2 / 5)
    assert variant["staff_escalation_precision"] == pytest.approx(3 / 4)


def test_corrections_export_as_a_labelled_source(staff_user, tmp_path):
    moved = scored("It arrived but the box was crushed.")
    services.complaint_correct(complaint_id=moved.id, by=staff_user, kind="category", value="delivery")
    noise = scored("Just saying hello to the team!")
    services.complaint_correct(complaint_id=noise.id, by=staff_user, kind="not_complaint")
    low = scored("Пришла не та модель, верните деньги.", language="ru", escalated=False)
    services.complaint_correct(complaint_id=low.id, by=staff_user, kind="urgency_too_low")
    services.complaint_correct(complaint_id=scored("Too high only.").id, by=staff_user, kind="urgency_too_high")
    call_command("export_corrections", "--output", str(tmp_path))
    with gzip.open(tmp_path / "staff_corrections.tsv.gz", "rt", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    got = {r["text"]: (r["lang"], r["complaint"], r["category"]) for r in rows}
    assert got == {"It arrived but the box was crushed.": ("en", "", "delivery"),
                   "Just saying hello to the team!": ("en", "0", ""),
                   "Пришла не та модель, верните деньги.": ("ru", "1", "")}
    provenance = json.loads((tmp_path / "staff_corrections.json").read_text())
    assert provenance["counts"]["rows"] == 3 and len(provenance["sha256"]) == 64
    assert "triage_correction" in provenance["origin"]
    assert (tmp_path / "staff_corrections.tsv.gz").stat().st_mode & 0o777 == 0o600
