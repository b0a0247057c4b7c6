"""Scoring service: versioned NLTK sentiment/complaint models behind a small HTTP API."""
