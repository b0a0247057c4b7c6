"""Fixtures for the scoring service: models loaded once, Flask test clients."""
from __future__ import annotations

import pytest

from scoring_service.app import create_app
from scoring_service.models import load_models


@pytest.fixture(scope="session")
def models():
    return load_models()


@pytest.fixture(scope="session")
def vader_model(models):
    return models.default("vader")


@pytest.fixture(scope="session")
def triage_model(models):
    return models.version("triage", "1.0.0")


@pytest.fixture(scope="session")
def app(models):
    return create_app(models=models, token="")


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def secured_client(models):
    return create_app(models=models, token="s3cret").test_client()
