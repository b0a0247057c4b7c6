"""At the door: a database outage answers 503 saying nothing was saved, a NUL in the
path 400, never a 500."""
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


@pytest.mark.parametrize("path, json", [("/track/%00/", False), ("/track/a%00b/", False),
                                        ("/api/complaints/%00/", True), ("/staff/complaints/%00/", False)])
def test_a_nul_in_the_path_is_a_400_naming_it(client, path, json):
    """Mutant tried: UnstorablePathMiddleware left out of MIDDLEWARE -> /track/%00/ and
    /api/complaints/%00/ raised Postgres' DataError (a 500) and the test failed."""
    response = client.get(path)
    assert response.status_code == 400
    if json:
        assert response.json() == {"detail": errors.PATH_UNSTORABLE}
    else:
        assert response.content.decode() == errors.PATH_UNSTORABLE


def test_pages_with_personal_data_are_never_stored_by_a_cache(client, django_user_model):
    """Mutant tried: PrivatePagesMiddleware left out of MIDDLEWARE -> the tracking page and
    the APIs had no Cache-Control and the test failed."""
    from tests.triage_app.factories import complaint_make

    complaint = complaint_make()
    client.force_login(django_user_model.objects.create_user(username="sam", password="pw-x-12345", is_staff=True))
    for path in [f"/track/{complaint.tracking_code}/", f"/api/complaints/{complaint.tracking_code}/",
                 "/api/queue/", f"/api/staff/complaints/{complaint.id}/", f"/staff/complaints/{complaint.id}/",
                 "/staff/"]:
        response = client.get(path)
        assert response.status_code == 200, path
        directives = {d.strip() for d in response["Cache-Control"].split(",")}
        assert {"no-store", "private"} <= directives, path
    assert "no-store" not in client.get("/").get("Cache-Control", "")  # the empty form is not private
