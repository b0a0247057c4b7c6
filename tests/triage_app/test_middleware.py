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


@pytest.mark.parametrize("path", ["/api/complaints/", "/"])
def test_a_body_over_the_limit_is_a_413_before_it_is_read(client, path, monkeypatch):
    """A 10 MB body was parsed before. Mutant tried: BodyTooLargeMiddleware left out ->
    Django's own refusal was a 400 and the test failed."""
    def never(**kwargs):
        raise AssertionError("the body was read and validated")

    monkeypatch.setattr("triage_app.api.complaint_input_validate", never)
    monkeypatch.setattr("triage_app.views.complaint_input_validate", never)
    body = "x" * (10 * 1024 * 1024)
    response = client.post(path, data=body, content_type="application/json" if path.startswith("/api/")
                           else "application/x-www-form-urlencoded")
    assert response.status_code == 413
    expected = errors.BODY_TOO_LARGE.format(kib=64)
    assert (response.json()["detail"] if path.startswith("/api/") else response.content.decode()) == expected


def test_a_complaint_at_the_maximum_length_in_json_escapes_is_still_accepted(client, settings):
    import json

    settings.TRIAGE_SUBMIT_RATE = (0, 60)
    body = json.dumps({"text": "é" * 5000}, ensure_ascii=True)  # \\u00e9 each: 30 kB
    assert len(body) > 30_000
    response = client.post("/api/complaints/", data=body, content_type="application/json")
    assert response.status_code == 201, response.content


def test_every_answer_has_a_strict_csp_and_a_permissions_policy(client, settings):
    """Mutant tried: SecurityHeadersMiddleware left out of MIDDLEWARE -> no header, failed."""
    for path in ["/", "/accounts/login/", "/api/schema/", "/track/nope/"]:
        response = client.get(path)
        policy = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))
        assert policy["script-src"] == "'self'", path
        assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'", path
        origin = settings.TRIAGE_WS_ORIGINS[0].replace("http://", "ws://")
        assert origin in policy["connect-src"].split(), path
        assert "camera=()" in response["Permissions-Policy"], path


def test_no_template_has_inline_script_or_event_handlers():
    """What the CSP would block in a browser: inline <script> code and on* attributes
    (json_script data blocks are not code)."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "templates"
    for template in root.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"\son[a-z]+\s*=", text), template
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in tag, (template, tag)
