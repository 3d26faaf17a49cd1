"""Importers (catalog CSV, NCM JSON), glossary and embedding cache, without the full pipeline."""

from __future__ import annotations

from pathlib import Path

import pytest

from balto.core.errors import BadRequest
from balto.partnumber.classify import Classifier, ClassifyRequest, Progress
from balto.partnumber.classify.catalog import Catalog
from balto.partnumber.classify.embeddings import shared_encoder
from balto.partnumber.classify.glossary import Glossary
from balto.partnumber.classify.nomenclature import (
    Node,
    Nomenclature,
    attach_ncm,
    format_code,
    read_ncm_json,
)


def test_catalog_csv_import(catalog_csv: Path) -> None:
    catalog = Catalog.load_csv(catalog_csv)
    assert len(catalog) == 4
    hit = catalog.lookup("skf6205 2rs", "nsk")
    assert hit is not None and hit.exact and hit.item.code == "84821010"
    assert catalog.lookup("unknown", None) is None
    assert catalog.chapter_prior("Dell") == {"84": 1.0}


def test_catalog_csv_rejects_bad_rows() -> None:
    with pytest.raises(BadRequest, match="colunas obrigatórias"):
        Catalog.parse_csv("nome,valor\na,b\n")
    with pytest.raises(BadRequest, match="linha 2"):
        Catalog.parse_csv("partnumber,manufacturer,code\nA1,X,8471\n")


def test_ncm_json_import(ncm_json: Path) -> None:
    table = read_ncm_json(ncm_json)
    assert table["84713012"] == "Com tela de área superior a 140 cm2"
    assert table["8708"].startswith("Partes e acessórios")
    nom = Nomenclature(headings={"8471": Node("8471", text_en="ADP machines")})
    attach_ncm(nom, table)
    assert nom.has_ncm
    items = {node.code: node for node in nom.items["847130"]}
    assert set(items) == {"84713012", "84713019", "84713090"}
    assert items["84713012"].description.endswith("teclado – Com tela de área superior a 140 cm2")
    assert items["84713019"].description.startswith("Máquinas automáticas para processamento")
    assert "portáteis" in items["84713019"].description
    assert items["84713012"].text_pt.startswith("Máquinas automáticas")
    assert nom.headings["8471"].text_en == "ADP machines"
    assert format_code("84713012") == "8471.30.12"


def test_ncm_json_invalid(tmp_path: Path) -> None:
    bad = tmp_path / "ncm.json"
    bad.write_text('{"Nomenclaturas": [{"Codigo": "84", "Descricao": "x"}]}', encoding="utf-8")
    with pytest.raises(BadRequest, match="8 dígitos"):
        read_ncm_json(bad)
    bad.write_text("[1, 2", encoding="utf-8")
    with pytest.raises(BadRequest, match="JSON"):
        read_ncm_json(bad)
    with pytest.raises(BadRequest):
        read_ncm_json(tmp_path / "missing.json")


def test_ncm_classification_gives_eight_digits(ncm_classifier: Classifier) -> None:
    seen: list[Progress] = []
    result = ncm_classifier.classify(
        ClassifyRequest("P-1", "Pastilha de freio para automóvel"), seen.append
    )
    assert result.classification is not None
    assert result.classification.code.startswith("8708.30.")
    assert len(result.classification.code) == 10
    assert result.candidates[0] == result.classification
    assert sum(c.score for c in result.candidates) <= 1.0 + 1e-6


def test_glossary_translates_head_first() -> None:
    glossary = Glossary.load_default()
    translation = glossary.translate("Pastilhas de freio dianteiras Cobreq", {"brake"})
    assert translation.segments[0] == "brake pad"
    assert "cobreq" in translation.unknown
    feminine = glossary.translate("Furadeira elétrica", set())
    assert feminine.text == "drill tool electric electrical"


def test_embedding_cache_roundtrip(tmp_path: Path) -> None:
    encoder = shared_encoder()
    first, cached = encoder.encode_cached(["parafuso de aço", ""], tmp_path, prefix="t")
    assert not cached and first.shape == (2, 512)
    assert not first[1].any()  # empty text -> zero vector
    again, cached = encoder.encode_cached(["parafuso de aço", ""], tmp_path, prefix="t")
    assert cached
    assert float(first[0] @ again[0]) > 0.999
    assert len(list(tmp_path.glob("t-*.npy"))) == 1
