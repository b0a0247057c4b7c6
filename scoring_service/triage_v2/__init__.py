"""triage 2.0: complaint triage learned from real customer text (scoring_service/triage_v2/model.py)."""
