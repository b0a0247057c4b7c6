"""scripts/check_test_report.py: CI fails on a skip and on a folder that ran too few tests.

Mutants tried, each failed here: a skipped test counted as run (`else:` before
`ran[...] += 1` made `if True:`): the skip test; the floor compared with `<=`: the test
of a report that meets every floor; one total instead of a floor per folder: the test
where extra unit tests must not hide browser tests that did not run.
"""
from __future__ import annotations

from pathlib import Path

from scripts import check_test_report
from scripts.check_test_report import MIN_TESTS_RUN, report_problems

ROOT = Path(__file__).resolve().parents[2]
FLOORS = {"browser": 2, "triage_app": 1}


def junit(path: Path, cases: list[tuple[str, str, str | None]]) -> Path:
    """A report as pytest writes it: (classname, name, skip reason or None) per test."""
    body = "".join(
        f'<testcase classname="{classname}" name="{name}" time="0.1">'
        + (f'<skipped type="pytest.skip" message="{reason}">skipped</skipped>' if reason else "")
        + "</testcase>"
        for classname, name, reason in cases)
    path.write_text(f'<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">{body}'
                    "</testsuite></testsuites>")
    return path


def test_a_report_that_meets_every_floor_passes(tmp_path):
    unit = junit(tmp_path / "unit.xml", [("tests.triage_app.test_api", "test_submit", None)])
    e2e = junit(tmp_path / "e2e.xml", [("tests.browser.test_staff_flow", "test_claim", None),
                                       ("tests.browser.test_admin_screens", "test_policy", None)])
    assert report_problems([unit, e2e], FLOORS) == []


def test_a_skipped_test_fails_and_does_not_count(tmp_path):
    e2e = junit(tmp_path / "e2e.xml", [("tests.browser.test_staff_flow", "test_claim", None),
                                       ("tests.browser.test_admin_screens", "test_policy",
                                        "/usr/bin/chromium not found")])
    unit = junit(tmp_path / "unit.xml", [("tests.triage_app.test_api", "test_submit", None)])
    assert report_problems([unit, e2e], FLOORS) == [
        "skipped in CI: tests.browser.test_admin_screens::test_policy: /usr/bin/chromium not found",
        "tests/browser: 1 tests ran, at least 2 expected (if tests were removed on purpose, lower MIN_TESTS_RUN"
        " in scripts/check_test_report.py)",
    ]


def test_more_tests_elsewhere_do_not_hide_a_folder_that_did_not_run(tmp_path):
    unit = junit(tmp_path / "unit.xml", [("tests.triage_app.test_api", f"test_{n}", None) for n in range(5)])
    problems = report_problems([unit, junit(tmp_path / "e2e.xml", [])], FLOORS)
    assert problems == ["tests/browser: 0 tests ran, at least 2 expected (if tests were removed on purpose,"
                        " lower MIN_TESTS_RUN in scripts/check_test_report.py)"]


def test_a_missing_report_fails_the_run(tmp_path, capsys):
    unit = junit(tmp_path / "unit.xml", [("tests.test_compose", "test_compose_file_is_valid", None)])
    assert check_test_report.main([str(unit), str(tmp_path / "e2e.xml")]) == 1
    assert f"{tmp_path / 'e2e.xml'}: no report (pytest did not run this group)" in capsys.readouterr().err


def test_every_folder_of_tests_has_a_floor():
    folders = {p.name for p in (ROOT / "tests").iterdir() if p.is_dir() and any(p.glob("test_*.py"))}
    modules = {p.stem for p in (ROOT / "tests").glob("test_*.py")}
    assert folders | modules == set(MIN_TESTS_RUN)
