"""Password guessing is throttled (django-axes, configured in config.settings.base): per
account and per client address, on the staff login and the admin login alike."""
import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.contrib.auth import get_user_model
from django.test import Client

pytestmark = pytest.mark.django_db

PASSWORD = "pw-12345-x"


@pytest.fixture
def alice(settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    return get_user_model().objects.create_user(username="alice", password=PASSWORD, is_staff=True,
                                                is_superuser=True)


def attempt(client: Client, url: str, username: str, password: str):
    return client.post(url, {"username": username, "password": password})


@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/"])
def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(alice, url):
    """The fifth failure is answered with the lock; the right password from another
    client is refused too. Mutant tried: AxesStandaloneBackend removed from
    AUTHENTICATION_BACKENDS -> the right password logged straight in and the test failed."""
    client = Client(REMOTE_ADDR="10.0.0.1")
    for n in range(4):
        assert attempt(client, url, "alice", f"wrong-{n}").status_code == 200  # the form again, with its error
    assert attempt(client, url, "alice", "wrong-4").status_code == 429
    locked = attempt(Client(REMOTE_ADDR="10.0.0.2"), url, "alice", PASSWORD)  # another client, right password
    assert locked.status_code == 429
    assert "Too many failed logins (5)" in locked.content.decode()
    assert "_auth_user_id" not in locked.wsgi_request.session
    assert AccessFailureLog.objects.filter(username="alice").count() == 6


def test_one_client_guessing_many_accounts_is_locked_too(alice):
    client = Client(REMOTE_ADDR="10.0.0.3")
    for n in range(4):
        assert attempt(client, "/accounts/login/", f"nobody-{n}", "guess").status_code == 200
    assert attempt(client, "/accounts/login/", "nobody-4", "guess").status_code == 429
    assert attempt(client, "/accounts/login/", "alice", PASSWORD).status_code == 429
    assert attempt(Client(REMOTE_ADDR="10.0.0.4"), "/accounts/login/", "alice", PASSWORD).status_code == 302


def test_a_success_below_the_limit_starts_the_count_again(alice):
    client = Client(REMOTE_ADDR="10.0.0.5")
    for n in range(4):
        attempt(client, "/accounts/login/", "alice", f"wrong-{n}")
    assert attempt(client, "/accounts/login/", "alice", PASSWORD).status_code == 302
    assert not AccessAttempt.objects.filter(username="alice").exists()
    client = Client(REMOTE_ADDR="10.0.0.5")
    for n in range(4):
        attempt(client, "/accounts/login/", "alice", f"wrong-again-{n}")
    assert attempt(client, "/accounts/login/", "alice", PASSWORD).status_code == 302
