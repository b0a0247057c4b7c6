"""triage 2.0 on by default, through the real stack: the API, Kafka, Spark, the scoring
service, Postgres and the staff endpoints. What the issue asked of the model as a new
user would see it: the washing-machine complaint, in English and in Russian, escalates;
a thank-you note does not; a Spanish complaint is not scored as if it were neutral."""
from __future__ import annotations

import psycopg
import pytest
import requests

from scoring_service.triage import COMPLAINTS_RU_PATH, load_complaints
from tests.e2e.conftest import WEB, scored_count, submit, wait_for
from triage_core.config import addresses

pytestmark = pytest.mark.e2e

WASHING_MACHINE = ("I ordered a washing machine three weeks ago, paid 600 euros, and it still has not arrived. "
                   "I called four times and nobody helps. If I don't get a refund by Friday I will contact my lawyer.")
THANK_YOU = "Thank you so much, the courier was lovely and the parcel came early. Great service!"
SPANISH = ("Pedí una lavadora hace tres semanas, pagué 600 euros y todavía no ha llegado. Llamé cuatro veces "
           "y nadie me ayuda. Si no me devuelven el dinero el viernes, hablaré con mi abogado.")


def russian_washing_machine() -> str:
    """Row ru001 of the Russian development set: the same complaint, in Russian."""
    (row,) = [c for c in load_complaints(COMPLAINTS_RU_PATH) if c.id == "ru001"]
    return row.text


@pytest.fixture(scope="module")
def scored(stack_session):
    """Submit the four texts once; their stored scores by name."""
    texts = {"english": WASHING_MACHINE, "russian": russian_washing_machine(), "thanks": THANK_YOU,
             "spanish": SPANISH}
    ids = {}
    with requests.Session() as api:
        for name, text in texts.items():
            response = submit(api, text)
            assert response.status_code == 201, response.text
            ids[name] = response.json()["id"]
    with psycopg.connect(addresses().database_url, autocommit=True) as db:
        wait_for(lambda: scored_count(db, list(ids.values())) == len(ids), timeout=120, what="the four scores")
        return read_scores(db, ids)


def read_scores(db, ids: dict[str, str]) -> dict[str, dict]:
    columns = ("model_name", "model_version", "label", "language", "complaint_probability", "priority", "escalated",
               "signals", "explanation")
    rows = {}
    for name, complaint_id in ids.items():
        values = db.execute(f"SELECT {', '.join(columns)} FROM triage_score WHERE complaint_id = %s",
                            (complaint_id,)).fetchone()
        rows[name] = {"id": complaint_id, **dict(zip(columns, values))}
    return rows


def test_the_seeded_experiment_serves_triage_2(scored):
    for row in scored.values():
        assert row["model_name"] == "triage" and row["model_version"].startswith("2."), row


@pytest.mark.parametrize("name", ["english", "russian"])
def test_a_legal_threat_about_an_undelivered_order_escalates(scored, name):
    row = scored[name]
    assert row["escalated"] is True, row
    assert row["language"] == ("en" if name == "english" else "ru")
    assert "legal_threat" in row["signals"], row
    assert row["complaint_probability"] > 0.5


def test_a_thank_you_note_does_not_escalate(scored):
    row = scored["thanks"]
    assert row["escalated"] is False and row["label"] == "positive", row
    assert row["complaint_probability"] < 0.3
    assert row["priority"] < scored["english"]["priority"]


def test_a_spanish_complaint_is_sent_to_a_person_as_such(api, db, scored, staff_token):
    row = scored["spanish"]
    assert (row["label"], row["language"], row["complaint_probability"]) == ("language_unsupported", "es", None)
    floor = db.execute("SELECT unsupported_priority FROM triage_escalation_policy ORDER BY version DESC LIMIT 1"
                       ).fetchone()[0]
    assert row["priority"] == floor
    item = api.get(f"{WEB}/api/staff/complaints/{row['id']}/", headers={"Authorization": f"Token {staff_token}"},
                   timeout=10)
    assert item.status_code == 200, item.text
    assert item.json()["score"]["needs_person"] == "needs a person: language es"
    assert "Spanish" in item.json()["score"]["explanation"]
