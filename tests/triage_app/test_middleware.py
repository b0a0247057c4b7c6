"""A database outage answers 503 saying nothing was saved, never a 500."""
import pytest
from django.db import OperationalError

from triage_app import errors, services

pytestmark = pytest.mark.django_db


@pytest.fixture
def database_down(monkeypatch):
    def fail(**kwargs):
        raise OperationalError("connection to server at 127.0.0.1, port 5433 failed")

    monkeypatch.setattr(services, "complaint_submit", fail)


def test_api_submission_during_a_database_outage_gets_503_json(client, database_down):
    response = client.post("/api/complaints/", {"text": "The parcel never arrived at all."},
                           content_type="application/json")
    assert response.status_code == 503
    assert response.json() == {"detail": errors.SERVICE_UNAVAILABLE}
    assert response["Retry-After"] == "30"


def test_form_submission_during_a_database_outage_gets_503_text(client, database_down):
    response = client.post("/", {"text": "The parcel never arrived at all.", "email": ""})
    assert response.status_code == 503
    assert response.content.decode() == errors.SERVICE_UNAVAILABLE


def test_other_errors_are_not_disguised_as_outages(client, monkeypatch):
    def fail(**kwargs):
        raise ValueError("a bug")

    monkeypatch.setattr(services, "complaint_submit", fail)
    client.raise_request_exception = True
    with pytest.raises(ValueError):
        client.post("/api/complaints/", {"text": "The parcel never arrived at all."}, content_type="application/json")
