"""The executor pass of a micro-batch: Kafka records -> what the sink stores.

`executor_pass` reads as the pipeline does: parse and validate each record, route each
complaint to its experiment arm (streaming.transform), score it over HTTP with its
arm's model and the shadow model (`score_frame`, through streaming.scoring_client),
rank it under the admin's policy and encode the sink's COPY lines (streaming.rows).
streaming/job.py runs it on the executors, in the batch's one mapInPandas pass.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence

import pandas as pd
from pyspark.sql.types import DoubleType, StringType, StructField

from streaming import rows, transform
from streaming.scoring_client import (
    SCORING_UNAVAILABLE,
    ModelAnswer,
    ScoringClient,
    ScoringProtocolError,
    ScoringSettings,
    ScoringUnavailable,
)
from triage_core.priority import Policy

log = logging.getLogger("streaming.scoring")

__all__ = ["SCORING_UNAVAILABLE", "SCORE_FIELDS", "SHADOW_PREFIX", "ModelAnswer", "ScoringClient",
           "ScoringProtocolError", "ScoringSettings", "ScoringUnavailable", "executor_pass", "score_frame"]

# The fields one model's score adds to a complaint; the shadow model's carry a prefix.
SCORE_FIELDS = [
    StructField("model_name", StringType()),
    StructField("model_version", StringType()),
    StructField("compound", DoubleType()),
    StructField("neg", DoubleType()),
    StructField("neu", DoubleType()),
    StructField("pos", DoubleType()),
    StructField("label", StringType()),
    StructField("category", StringType()),
    StructField("signals", StringType()),  # JSON object, {} for vader
    StructField("explanation", StringType()),
    StructField("language", StringType()),      # models that identify it (triage 2.0), else None
    StructField("complaint", DoubleType()),     # probability the text is a complaint, else None
    StructField("error", StringType()),  # the service's answer for a text it rejected
    StructField("scoring_ms", DoubleType()),
]
SHADOW_PREFIX = "shadow_"


def _chunks(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _score_values(answer: ModelAnswer | None, complaint_id: str) -> list:
    if answer is None:
        return [None] * len(SCORE_FIELDS)
    p = answer.predictions[complaint_id]
    if "error" in p:
        return [answer.model_name, answer.model_version] + [None] * 10 + [str(p["error"]), answer.ms_per_text]
    signals = p.get("signals")
    return [answer.model_name, answer.model_version, float(p["compound"]), float(p["neg"]),
            float(p["neu"]), float(p["pos"]), str(p.get("label", "")), p.get("category"),
            # Most models send no signals: "{}" without a json.dumps per text (~5 us each).
            json.dumps(signals, sort_keys=True) if signals else "{}", str(p.get("explanation") or ""),
            p.get("language"), _probability(p.get("complaint")), None, answer.ms_per_text]


def _probability(value) -> float | None:
    return None if value is None else float(value)


def score_frame(frame: pd.DataFrame, client: ScoringClient, shadow_model: str | None) -> pd.DataFrame:
    """Adds the serving model's score (from column `model`) and the shadow model's.

    Rows without a model (dead letters) pass through unscored. One request per model per
    `batch_size` distinct complaints.
    """
    answers: dict[tuple[str, str], ModelAnswer] = {}  # (model, complaint id) -> answer
    texts = dict(zip(frame["complaint_id"], frame["text"]))

    def score(wanted: Mapping[str, list[str]]) -> None:
        calls = [(model, chunk) for model, ids in wanted.items()
                 for chunk in _chunks(list(dict.fromkeys(ids)), client.settings.batch_size)]
        for (model, chunk), answer in zip(calls, client.predict_many(
                [(model, [{"id": i, "text": texts[i]} for i in chunk]) for model, chunk in calls])):
            answers.update({(model, i): answer for i in chunk})

    serving: dict[str, list[str]] = {}
    for complaint_id, model in zip(frame["complaint_id"], frame["model"]):
        if model is not None:
            serving.setdefault(model, []).append(complaint_id)
    score(serving)  # a failure here fails the batch: no complaint gets a made-up score
    if shadow_model:
        # Complaints the shadow model already scored as their serving model are not sent again.
        missing = [cid for cid, model in zip(frame["complaint_id"], frame["model"])
                   if model is not None and (shadow_model, cid) not in answers]
        try:
            score({shadow_model: missing} if missing else {})
        except (ScoringUnavailable, ScoringProtocolError) as exc:
            # A shadow is compared, never served: its failure must not stop serving. The
            # complaints of this batch simply get no shadow score (nothing is made up).
            log.warning("shadow model %r not scored in this batch, serving scores unaffected: %s",
                        shadow_model, str(exc).splitlines()[0])

    served = [_score_values(answers[(m, i)] if m is not None else None, i)
              for i, m in zip(frame["complaint_id"], frame["model"])]
    shadow = [_score_values(answers.get((shadow_model, i)) if shadow_model and m is not None else None, i)
              for i, m in zip(frame["complaint_id"], frame["model"])]
    out = frame.reset_index(drop=True).copy()
    for n, field in enumerate(SCORE_FIELDS):
        out[field.name] = [row[n] for row in served]
        out[SHADOW_PREFIX + field.name] = [row[n] for row in shadow]
    return out


def executor_pass(batch: pd.DataFrame, *, client: ScoringClient, arms: Sequence[Mapping],
                  shadow_model: str | None, policy: Policy, app_topic: str | None) -> pd.DataFrame:
    """One Arrow batch of Kafka records (KAFKA_SCHEMA) -> streaming.rows.OUTCOME_SCHEMA,
    row for row: parse -> route -> score -> rank -> encode. `arms` as
    transform.checked_arms returns them; the experiment and the policy are the ones the
    driver read for this micro-batch; `app_topic` the one topic whose records may say
    they came from the app (transform.parse_message)."""
    parsed = transform.parse_frame(batch, app_topic=app_topic)
    routed = transform.route_frame(parsed, arms)
    scored = score_frame(routed, client, shadow_model)
    return rows.outcome_frame(scored, policy)  # rank (triage_core.priority) and encode
