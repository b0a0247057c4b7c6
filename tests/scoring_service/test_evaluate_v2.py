"""The triage 2.0 evaluation report (scoring_service.triage_v2.evaluate), on its CI path:
a model trained for the run on a sample of every source."""
from __future__ import annotations

import pytest

from scoring_service.datasets import provenance, source_names
from scoring_service.triage_v2 import evaluate

pytestmark = pytest.mark.slow


def table_after(report: str, heading: str) -> list[list[str]]:
    """The cells of the first Markdown table under `heading` (header and rule left out)."""
    section = report.split(heading, 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[2:]]


def in_range(cell: str, low: float, high: float) -> bool:
    return cell == "n/a" or low <= float(cell) <= high


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> str:
    output = tmp_path_factory.mktemp("evaluation") / "evaluation.md"
    printed = evaluate.main(["--sample", "200", "--output", str(output)])
    written = output.read_text(encoding="utf-8")
    assert written == printed
    return written


def test_names_every_source(report):
    held_out = {row[0] for row in table_after(report, "## 1. Held-out split")}
    assert set(source_names()) <= held_out


def test_held_out_cells_are_auc_and_r(report):
    rows = table_after(report, "## 1. Held-out split")
    header = report.split("## 1. Held-out split", 1)[1].split("\n|", 1)[1].split("\n", 1)[0]
    columns = [c.strip() for c in header.strip("|").split("|")]
    auc, r = columns.index("ROC AUC"), columns.index("Pearson r")
    assert all(in_range(row[auc], 0.0, 1.0) for row in rows)
    assert all(in_range(row[r], -1.0, 1.0) for row in rows)
    # n/a only where the source lacks a class: most sources have both.
    assert sum(row[auc] != "n/a" for row in rows) >= 10


def test_loso_has_a_row_per_complaint_labelled_source(report):
    labelled = {name for name in source_names()
                if provenance(name)["counts"]["complaint_1"] + provenance(name)["counts"]["complaint_0"]}
    rows = {row[0]: row for row in table_after(report, "## 2. Leave one source out")}
    assert labelled and labelled <= set(rows)
    assert all(in_range(rows[name][-1], 0.0, 1.0) for name in labelled)
    assert {"macro average en", "macro average ru"} <= set(rows)


def test_vader_on_all_tweets_matches_the_paper(report):
    rows = table_after(report, "## 3. VADER's home ground")
    (vader_all,) = [row for row in rows if row[:2] == ["tweets", "all"] and row[3] == "vader"]
    assert float(vader_all[4]) == pytest.approx(0.88, abs=0.005)
