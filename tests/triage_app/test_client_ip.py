"""The client address behind proxies (issue 12, item 14): the right-most untrusted hop
of X-Forwarded-For, and only when the peer is a trusted proxy."""
from __future__ import annotations

import ipaddress

import pytest
from django.test import RequestFactory

from triage_app.api import client_ip


@pytest.fixture
def proxies(settings):
    settings.TRIAGE_TRUSTED_PROXIES = [ipaddress.ip_network("10.0.0.0/24"), ipaddress.ip_network("127.0.0.1/32")]


def ip_of(peer: str, forwarded: str | None = None) -> str | None:
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return client_ip(RequestFactory().get("/", REMOTE_ADDR=peer, **extra))


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.TRIAGE_TRUSTED_PROXIES = []
    assert ip_of("203.0.113.9", "1.2.3.4") == "203.0.113.9"


@pytest.mark.usefixtures("proxies")
@pytest.mark.parametrize(("peer", "forwarded", "client"), [
    ("10.0.0.5", "198.51.100.7", "198.51.100.7"),                          # one proxy
    ("10.0.0.5", "6.6.6.6, 198.51.100.7", "198.51.100.7"),                 # a client's own hop is not believed
    ("10.0.0.5", "6.6.6.6, 198.51.100.7, 10.0.0.9", "198.51.100.7"),       # two proxies of ours
    ("203.0.113.9", "6.6.6.6", "203.0.113.9"),                             # an untrusted peer: its header is not read
    ("10.0.0.5", "", "10.0.0.5"),                                           # no header: the proxy itself
    ("10.0.0.5", "10.0.0.7, 127.0.0.1", "10.0.0.5"),                       # only proxies: the nearest one
    ("10.0.0.5", "6.6.6.6, not-an-address", "10.0.0.5"),                   # garbage in the right-most hop
    ("10.0.0.5", "2001:db8::1", "2001:db8::1"),
])
def test_the_right_most_untrusted_hop_is_the_client(peer, forwarded, client):
    assert ip_of(peer, forwarded) == client
