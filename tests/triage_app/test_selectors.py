"""The A/B results, aggregated in Postgres."""
import pytest

from tests.triage_app.factories import complaint_make, score_make, shadow_make
from triage_app import selectors

pytestmark = pytest.mark.django_db


def test_ab_results_per_arm_with_histogram_latency_and_shadow_agreement():
    # arm A: vader on three complaints; arm B: triage on one
    for compound, escalated, ms, shadow_label in [(-0.9, True, 1.0, "negative"), (0.4, False, 2.0, "neutral"),
                                                  (1.0, False, 3.0, None)]:
        complaint = complaint_make()
        score_make(complaint=complaint, compound=compound, escalated=escalated, scoring_ms=ms,
                   label="negative" if compound < 0 else "positive")
        if shadow_label:
            shadow_make(complaint=complaint, compound=compound + 0.1, label=shadow_label)
    score_make(complaint=complaint_make(), compound=-0.2, arm="B", model_name="triage", escalated=True)

    result = selectors.ab_results()
    a, b = result["variants"]
    assert (a["arm"], a["model_name"], a["count"], a["escalated"]) == ("A", "vader", 3, 1)
    assert a["escalation_rate"] == pytest.approx(1 / 3)
    assert a["mean_compound"] == pytest.approx(0.5 / 3)
    hist = a["histogram"]
    assert len(hist) == selectors.HISTOGRAM_BINS and sum(hist) == 3
    # -0.9 -> bin 1, 0.4 -> bin 14 (on its edge, not 13), 1.0 -> the last bin
    assert hist[1] == 1 and hist[14] == 1 and hist[selectors.HISTOGRAM_BINS - 1] == 1
    assert (a["scoring_ms_p50"], a["scoring_ms_p95"]) == (2.0, 3.0)  # nearest rank
    assert a["shadow_compared"] == 2 and a["shadow_label_agreement"] == 0.5
    assert a["shadow_mean_abs_compound_diff"] == pytest.approx(0.1)
    assert (b["arm"], b["model_name"], b["count"], b["escalation_rate"], b["shadow_compared"]) == \
        ("B", "triage", 1, 1.0, 0)
    assert b["shadow_label_agreement"] is None
    (shadow,) = result["shadows"]
    assert (shadow["model_name"], shadow["count"], sum(shadow["histogram"])) == ("triage", 2, 2)
    assert selectors.ab_results(experiment_version=99)["variants"] == []
