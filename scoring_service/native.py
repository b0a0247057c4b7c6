"""The scoring hot path compiled to C with mypyc (the compiler of the mypy project, the one
`black` ships with): the same Python modules, type-checked and built into extension
modules, about 1.4x faster on this code (VADER alone 11.5 -> 7.0 µs a text), with the
same answers bit for bit (tests/scoring_service/test_native.py compares both builds).

`scripts/build_native.py` (run by `make setup`) builds the modules in `NATIVE_MODULES`
into build/native/ and records the SHA-256 of their sources there. At import, the
`scoring_service` package puts the compiled modules ahead of the sources only when that
digest matches the sources on disk: a module edited after the build runs as plain
Python (with a warning in the log) until the next `make setup`, never stale C.
`TRIAGE_NATIVE=0` turns the compiled modules off.

Not in this module's list: what is not on the per-text path (the HTTP app, training,
evaluation), and this module itself, which decides.
"""
from __future__ import annotations

import hashlib
import logging
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NATIVE_DIR = ROOT / "build" / "native"
STAMP = NATIVE_DIR / "sources.sha256"
NATIVE_MODULES = (
    "scoring_service/vader.py",
    "scoring_service/triage.py",
    "scoring_service/triage_v2/anchors.py",
    "scoring_service/triage_v2/batch.py",
    "scoring_service/triage_v2/language.py",
    "scoring_service/triage_v2/model.py",
    "scoring_service/triage_v2/signals.py",
    "scoring_service/triage_v2/text.py",
)

log = logging.getLogger(__name__)


def sources_digest() -> str:
    """SHA-256 over the compiled modules' paths and sources, and the Python that builds them."""
    digest = hashlib.sha256(f"{sys.implementation.cache_tag}\n".encode())
    for name in NATIVE_MODULES:
        digest.update(name.encode() + b"\0" + (ROOT / name).read_bytes() + b"\0")
    return digest.hexdigest()


def built_digest() -> str | None:
    try:
        return STAMP.read_text().strip()
    except FileNotFoundError:
        return None


def wanted() -> bool:
    return os.environ.get("TRIAGE_NATIVE", "1").strip().lower() not in ("0", "false", "no", "off")


def state() -> str:
    """`compiled`, `off` (TRIAGE_NATIVE=0), `not built` or `stale` (sources edited since the build)."""
    if not wanted():
        return "off"
    built = built_digest()
    if built is None:
        return "not built"
    return "compiled" if built == sources_digest() else "stale"


def package_path(package: str, path: list[str]) -> list[str]:
    """A package's `__path__` with its compiled modules first, when they are current.
    `package` is the dotted name (`scoring_service`, `scoring_service.triage_v2`)."""
    if ACTIVE:
        path.insert(0, str(NATIVE_DIR.joinpath(*package.split("."))))
    return path


def _activate() -> bool:
    current = state()
    if current == "stale":
        log.warning("compiled scoring modules in %s are older than their sources: running them as "
                    "Python (make setup rebuilds them)", NATIVE_DIR)
    if current != "compiled":
        return False
    # mypyc's shared runtime library of the group is a top-level module of build/native.
    if str(NATIVE_DIR) not in sys.path:
        sys.path.append(str(NATIVE_DIR))
    return True


ACTIVE = _activate()
