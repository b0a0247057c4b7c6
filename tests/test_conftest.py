"""tests/conftest.py: a skip fails the run in CI and stays a skip elsewhere."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("ci, rc, summary", [("true", 1, "1 error"), ("", 0, "1 skipped")])
def test_a_missing_prerequisite_fails_only_in_ci(tmp_path, ci, rc, summary):
    """A pytest of its own with tests/conftest.py as a plugin, on a test skipped the way
    the browser fixtures skip. Mutant tried: IN_CI = False in tests/conftest.py: the CI
    case passed with "1 skipped" and this test failed."""
    (tmp_path / "test_needs_chromium.py").write_text(
        "import pytest\n\n\n@pytest.fixture\ndef browser():\n    pytest.skip('/usr/bin/chromium not found')\n\n\n"
        "def test_page(browser):\n    pass\n")
    env = {**os.environ, "CI": ci, "PYTHONPATH": str(ROOT)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run([sys.executable, "-m", "pytest", "-p", "tests.conftest", "-p", "no:cacheprovider",
                             "-p", "no:django", "--rootdir", str(tmp_path), str(tmp_path)],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == rc, result.stdout
    assert summary in result.stdout.splitlines()[-1]
    if ci:
        assert "skipped in CI, where every prerequisite must be present: /usr/bin/chromium not found" in result.stdout
