"""Shared fixtures: the classifier is loaded once per session (embeddings cached on disk)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from balto.partnumber.classify import Classifier

CATALOG_CSV = """partnumber;fabricante;ncm;descricao
LAT-5440/I5;Dell;8471.30.12;Notebook Latitude 5440
BKR6E;NGK;851110;Vela de ignição
SKF 6205-2RS;SKF;8482.10.10;Rolamento de esferas
SKF 6205-2RS;NSK;8482.10.10;Rolamento de esferas
"""

# A slice of the official NCM JSON layout (codes and descriptions as published).
NCM_SAMPLE = {
    "Data_Ultima_Atualizacao_NCM": "Vigente em 01/04/2025",
    "Ato": "Resolução Gecex nº 272/2021",
    "Nomenclaturas": [
        {"Codigo": "84", "Descricao": "Reatores nucleares, caldeiras, máquinas e aparelhos"},
        {
            "Codigo": "84.71",
            "Descricao": "Máquinas automáticas para processamento de dados e "
            "suas unidades; leitores magnéticos ou ópticos",
        },
        {
            "Codigo": "8471.30",
            "Descricao": "- Máquinas automáticas para processamento de dados, "
            "portáteis, de peso não superior a 10 kg, que contenham pelo menos uma unidade central "
            "de processamento, um teclado e uma tela",
        },
        {"Codigo": "8471.30.1", "Descricao": "-- De peso inferior a 3,5 kg, com teclado"},
        {"Codigo": "8471.30.12", "Descricao": "--- Com tela de área superior a 140 cm2"},
        {"Codigo": "8471.30.19", "Descricao": "--- Outras"},
        {"Codigo": "8471.30.90", "Descricao": "-- Outras"},
        {"Codigo": "87", "Descricao": "Veículos automóveis, tratores, ciclos e outros veículos"},
        {
            "Codigo": "87.08",
            "Descricao": "Partes e acessórios dos veículos automóveis das posições 87.01 a 87.05",
        },
        {"Codigo": "8708.30", "Descricao": "- Freios (travões) e servo-freios; suas partes"},
        {"Codigo": "8708.30.1", "Descricao": "-- Guarnições de freios (travões) montadas"},
        {"Codigo": "8708.30.11", "Descricao": "--- Para os veículos da posição 87.01"},
        {"Codigo": "8708.30.19", "Descricao": "--- Outras"},
        {"Codigo": "8708.30.90", "Descricao": "-- Outros"},
        {"Codigo": "30", "Descricao": "Produtos farmacêuticos"},
        {
            "Codigo": "30.04",
            "Descricao": "Medicamentos constituídos por produtos misturados ou "
            "não misturados, preparados para fins terapêuticos ou profiláticos, em doses",
        },
        {"Codigo": "3004.90", "Descricao": "- Outros"},
        {"Codigo": "3004.90.69", "Descricao": "-- Outros, que contenham analgésicos"},
        {"Codigo": "3004.90.99", "Descricao": "-- Outros"},
    ],
}


@pytest.fixture(scope="session")
def catalog_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("catalogo") / "catalogo.csv"
    path.write_text(CATALOG_CSV, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def ncm_json(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ncm") / "ncm.json"
    path.write_text(json.dumps(NCM_SAMPLE, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def classifier(catalog_csv: Path) -> Classifier:
    return Classifier.load(catalog_csv=catalog_csv)


@pytest.fixture(scope="session")
def ncm_classifier(ncm_json: Path) -> Classifier:
    return Classifier.load(ncm_table=ncm_json)
