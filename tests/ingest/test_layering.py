"""One direction of imports: the Django app may use `ingest`, `triage_core` and the
stream's modules, never the other way round."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("package", ["ingest", "triage_core", "streaming"])
def test_a_package_below_the_app_imports_no_django(package):
    """Every module of the package imported in a fresh interpreter pulls in neither Django
    nor the app. Mutant tried: `import triage_app.models` at the top of ingest/producer.py
    -> the ingest case failed."""
    modules = sorted(f"{package}.{p.stem}" for p in (ROOT / package).glob("*.py") if p.stem != "__main__")
    code = ("import importlib, sys\n"
            f"for name in {modules!r}: importlib.import_module(name)\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'django', 'triage_app', 'rest_framework'}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"
