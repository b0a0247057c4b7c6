"""Suite-wide rule: in CI (CI=true) a skipped test is a failed test.

A skip means a prerequisite is missing (Chromium, redis-server, Postgres,
docker-compose). On a developer's machine that may be fine, and `pytest -ra` lists the
reasons; CI exists to prove that everything ran, so there the skip fails, with its
reason. scripts/check_test_report.py checks the same on the junit reports, and that
enough tests ran in each folder.
"""
from __future__ import annotations

import os

import pytest

IN_CI = os.environ.get("CI") == "true"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        reason = str(report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where every prerequisite must be present: {reason.removeprefix('Skipped: ')}"
