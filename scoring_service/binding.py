"""Whether the scoring service's bind addresses stay on this machine (gunicorn_conf refuses
anything else without a token). Apart from gunicorn_conf, which sets up metrics when
imported."""
from __future__ import annotations

import ipaddress
from collections.abc import Iterable


def loopback_only(addresses: Iterable[str]) -> bool:
    for address in addresses:
        host = address.rsplit(":", 1)[0].strip("[]") if not address.startswith("unix:") else "unix"
        if host == "unix" or host == "localhost":
            continue
        try:
            if not ipaddress.ip_address(host).is_loopback:
                return False
        except ValueError:  # a host name: it may resolve to anything
            return False
    return True
