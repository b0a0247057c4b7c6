"""The mypyc-compiled scoring modules (scoring_service/native.py): used only when they were
built from the sources on disk, and answering exactly what the Python modules answer."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from scoring_service import native

ROOT = native.ROOT
# Runs in a fresh interpreter: which modules it imports is decided at import.
PREDICT = """
import json, sys
from scoring_service import native
from scoring_service.triage_v2 import model
from scoring_service.vader import Vader
from scoring_service.triage import COMPLAINTS_PATH, COMPLAINTS_RU_PATH, load_complaints
texts = [c.text for c in load_complaints(COMPLAINTS_PATH) + load_complaints(COMPLAINTS_RU_PATH)]
texts += ["", "😀😡", "NOT GOOD!!! but ok", "x" * 20000, "Пишу в поддержку уже третий раз, никто не отвечает"]
triage = model.TriageModelV2.load()
json.dump({"state": native.state(), "model_file": model.__file__,
           "triage": triage.predict(texts), "vader": [Vader().polarity_scores(t) for t in texts]}, sys.stdout)
"""


def run_predictions(**env: str) -> dict:
    done = subprocess.run([sys.executable, "-c", PREDICT], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, **env})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_build_stamp_follows_the_sources(tmp_path, monkeypatch):
    source = tmp_path / "scoring_service" / "vader.py"
    source.parent.mkdir()
    source.write_text("x = 1\n")
    monkeypatch.setattr(native, "ROOT", tmp_path)
    monkeypatch.setattr(native, "NATIVE_MODULES", ("scoring_service/vader.py",))
    monkeypatch.setattr(native, "STAMP", tmp_path / "build" / "sources.sha256")
    assert native.state() == "not built"
    native.STAMP.parent.mkdir()
    native.STAMP.write_text(native.sources_digest() + "\n")
    assert native.state() == "compiled"
    source.write_text("x = 2\n")  # edited after the build: the stale C must not run
    assert native.state() == "stale"
    monkeypatch.setenv("TRIAGE_NATIVE", "0")
    assert native.state() == "off"


@pytest.mark.skipif(native.state() != "compiled", reason="needs `scripts/build_native.py` (make setup runs it)")
def test_compiled_modules_answer_what_python_answers():
    compiled = run_predictions()
    python = run_predictions(TRIAGE_NATIVE="0")
    assert compiled["state"] == "compiled" and compiled["model_file"].endswith(".so")
    assert python["state"] == "off" and python["model_file"].endswith("model.py")
    assert len(compiled["triage"]) > 300
    assert compiled["triage"] == python["triage"]
    assert compiled["vader"] == python["vader"]
