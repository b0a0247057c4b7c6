"""`make train` for triage 2.0: deterministic, every input's SHA-256 in the artefact, the
version derived from the file's hash, and the retrained file serving the whole path."""
from __future__ import annotations

import hashlib

import pytest

from scoring_service.datasets import CORPORA_DIR, source_names
from scoring_service.triage_v2 import artefact
from scoring_service.triage_v2.model import ARTEFACT_PATH, TriageModelV2
from scoring_service.triage_v2.train import input_digests, train

pytestmark = pytest.mark.slow
SAMPLE = 150


@pytest.fixture(scope="module")
def retrained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("triage_v2")
    first, digest_a = train(output=folder / "a.model.gz", limit_per_source=SAMPLE, quiet=True)
    second, digest_b = train(output=folder / "b.model.gz", limit_per_source=SAMPLE, quiet=True)
    return first, digest_a, second, digest_b


def test_training_twice_on_the_same_inputs_writes_the_same_bytes(retrained):
    first, digest_a, second, digest_b = retrained
    assert digest_a == digest_b
    assert first.read_bytes() == second.read_bytes()
    assert hashlib.sha256(first.read_bytes()).hexdigest() == digest_a


def test_the_retrained_artefact_serves_the_whole_path(retrained):
    first, digest, _, _ = retrained
    model = TriageModelV2.load(first)
    assert model.version == f"2.0.0+{digest[:8]}"
    english, russian, spanish = model.predict([
        "My parcel never arrived and you charged me twice. I will sue.",
        "Посылка так и не пришла, деньги списали дважды. Подам в суд.",
        "Mi paquete nunca llegó y me cobraron dos veces.",
    ])
    assert (english["language"], russian["language"], spanish["language"]) == ("en", "ru", "es")
    for prediction in (english, russian):
        assert 0.0 <= prediction["complaint"] <= 1.0 and -1.0 <= prediction["compound"] <= 1.0
        assert prediction["signals"]["legal_threat"]
        assert prediction["category"] in {"billing", "delivery", "product_quality", "staff_service",
                                          "account_security", "other"}
    assert spanish["label"] == "language_unsupported" and spanish["complaint"] is None
    meta, _, _ = artefact.read(first)
    assert meta["limit_per_source"] == SAMPLE
    assert set(meta["inputs"]) >= {f"corpora/{name}.tsv.gz" for name in source_names()}


def test_the_committed_artefact_records_the_inputs_it_was_trained_on():
    """The committed model is the one `make train` builds from the committed corpora: every
    input's SHA-256 recorded in it matches the file as it is now."""
    meta, _, _ = artefact.read(ARTEFACT_PATH)
    assert meta["limit_per_source"] is None
    recorded = meta["inputs"]
    assert recorded == input_digests(source_names(), CORPORA_DIR)
