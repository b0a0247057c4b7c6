"""triage_app.startup: the web process's settling before its first request."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import gc, sys, django
django.setup()
before = "triage_app.reports_views" in sys.modules
from triage_app.startup import settle
settle()
print(before, "triage_app.reports_views" in sys.modules, gc.get_freeze_count())
"""


def test_settle_imports_the_views_and_freezes_what_is_loaded():
    """In a fresh process (this one's URLconf is loaded already). Mutant tried: settle()
    without gc.freeze() -> a freeze count of 0; the test failed."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local"}
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120, check=True).stdout.split()
    assert out[:2] == ["False", "True"]  # the views came with settle(), not before
    assert int(out[2]) > 10_000  # Django, DRF and the app: many thousand objects
