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


def test_staff_corrections_train_a_second_release_served_beside_the_committed_one(tmp_path, monkeypatch):
    """`make train-corrections` in small: an exported corrections source joins the
    corpora, the artefact records its SHA-256 and the release asked for, and the scoring
    service serves it as triage@2.1.0 while plain `triage` stays the committed model."""
    from scoring_service.datasets import LabelledText, write_source
    from scoring_service.models import load_models
    from scoring_service.triage_v2.train import load_extra_sources

    corrections = write_source("staff_corrections", [
        LabelledText(text="The courier left my parcel in the rain and it is ruined.", lang="en", complaint=1,
                     category="delivery"),
        LabelledText(text="Just wanted to say thanks to Anna at the desk!", lang="en", complaint=0),
        LabelledText(text="Курьер опоздал на три часа, заказ испорчен.", lang="ru", complaint=1, category="delivery"),
    ], {"name": "staff_corrections"}, directory=tmp_path / "corrections")
    assert [t.source for t in load_extra_sources([corrections])] == ["staff_corrections"] * 3
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    path, digest = train(output=models_dir / "triage-2.1.0.model.gz", limit_per_source=SAMPLE, quiet=True,
                         extra_sources=[corrections], release="2.1.0")
    meta, _, _ = artefact.read(path)
    assert meta["version"] == "2.1.0" and meta["extra_rows"] == 3
    assert meta["inputs"]["extra/staff_corrections.tsv.gz"] == hashlib.sha256(corrections.read_bytes()).hexdigest()
    monkeypatch.setenv("TRIAGE_EXTRA_MODELS_DIR", str(models_dir))
    served = load_models()
    assert served.version("triage", "2.1.0").version == f"2.1.0+{digest[:8]}"
    assert served.default("triage").version.startswith("2.0.0+")
    (prediction,) = served.version("triage", "2.1.0").predict(["My parcel is late again and nobody answers."])
    assert 0.0 <= prediction["complaint"] <= 1.0
    with pytest.raises(ValueError, match="tsv.gz"):
        load_extra_sources([tmp_path / "corrections" / "staff_corrections.json"])
