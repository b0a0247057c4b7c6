"""triage 2.0: complaint triage learned from real customer text (scoring_service/triage_v2/model.py)."""
from scoring_service import native

# The per-text modules compiled with mypyc come first when they are current (native.py).
__path__ = native.package_path(__name__, __path__)
