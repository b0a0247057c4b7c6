"""Scoring service: versioned NLTK sentiment/complaint models behind a small HTTP API."""
from pathlib import Path

from scoring_service import native

DATA_DIR = Path(__file__).resolve().parent / "data"
# The per-text modules compiled with mypyc come first when they are current (native.py).
__path__ = native.package_path(__name__, __path__)
