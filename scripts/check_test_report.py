"""CI's proof that the suite ran: fails when a test was skipped, or when fewer tests ran
than the floor kept below, in the junit XML files pytest wrote (scripts/run_tests.sh
calls it when CI=true).

    .venv/bin/python scripts/check_test_report.py test-artifacts/unit.xml test-artifacts/e2e.xml \
        test-artifacts/cluster.xml
"""
from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

# Tests that must run (pass or fail, not skip) per folder of tests/ (a module directly
# in tests/ counts as its own folder). A floor per folder rather than one total: tests
# added in one folder must not hide another that stopped running, such as the browser
# tests skipping without Chromium. A floor, not an exact count: adding tests needs no
# change here; removing some on purpose means lowering the number in the same commit,
# where a reviewer sees it.
MIN_TESTS_RUN = {
    "browser": 9,
    "cluster": 4,
    "e2e": 30,
    "ingest": 14,
    "scoring_service": 130,
    "scripts": 5,
    "streaming": 64,
    "test_compose": 6,
    "test_conftest": 2,
    "triage_app": 250,
    "triage_core": 42,
}


def folder_of(classname: str) -> str:
    """ "tests.browser.test_staff_flow" -> "browser"; "tests.test_compose" -> "test_compose"."""
    parts = classname.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def report_problems(reports: Sequence[Path], floors: Mapping[str, int]) -> list[str]:
    problems: list[str] = []
    ran: Counter[str] = Counter()
    for report in reports:
        if not report.exists():
            problems.append(f"{report}: no report (pytest did not run this group)")
            continue
        for case in ET.parse(report).iter("testcase"):
            test = f"{case.get('classname')}::{case.get('name')}"
            skipped = case.find("skipped")
            if skipped is not None:
                problems.append(f"skipped in CI: {test}: {skipped.get('message')}")
            else:
                ran[folder_of(case.get("classname", ""))] += 1
    for folder, floor in sorted(floors.items()):
        if ran[folder] < floor:
            problems.append(f"tests/{folder}: {ran[folder]} tests ran, at least {floor} expected"
                            " (if tests were removed on purpose, lower MIN_TESTS_RUN in scripts/check_test_report.py)")
    return problems


def main(argv: Sequence[str]) -> int:
    problems = report_problems([Path(arg) for arg in argv], MIN_TESTS_RUN)
    for problem in problems:
        print(f"check_test_report: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
