"""The OCA l10n-br NCM CSV reader: its levels taken back apart as the official JSON has them,
malformed files refused with their line, and the dispatch by suffix. The rows are synthetic,
written in the real file's column layout (one row per 8-digit code, the path flattened)."""

from __future__ import annotations

from pathlib import Path

import pytest

from balto.core.errors import BadRequest, ServerFault
from balto.partnumber.classify.ncm_csv import NcmTableError, read_ncm_csv, read_ncm_table
from balto.partnumber.classify.nomenclature import Node, Nomenclature, attach_ncm

HEADER = '"id","code","exception","name","tax_ipi_id:id","tax_ii_id:id","uoe_id:id","active"\n'
GEAR = "Engrenagens de teste, de qualquer tipo."
ROWS = [
    ("9990.10.10", "", f"{GEAR} - Engrenagens retas De aço", "True"),
    ("9990.10.90", "", f"{GEAR} - Engrenagens retas Outras", "True"),
    ("9990.10.90", "01", f"{GEAR} - Engrenagens retas Outras", "True"),  # Ex: skipped
    ("9990.20.00", "", f"{GEAR} - Engrenagens cônicas", "True"),
    ("9990.91.11", "", f"{GEAR} - Partes: -- Dentes De potência baixa Forjados", "True"),
    ("9990.91.19", "", f"{GEAR} - Partes: -- Dentes De potência baixa Outros", "True"),
    ("9990.91.90", "", f"{GEAR} - Partes: -- Dentes Outros", "True"),
    ("9990.99.00", "", f"{GEAR} - Partes: -- Outras", "True"),
    ("9990.99.50", "", f"{GEAR} - Texto antigo", "False"),  # inactive: skipped
    ("9991.00.10", "", "Coroas de teste. De latão", "True"),
    ("9991.00.90", "", "Coroas de teste. Outras", "True"),
    ("9992.00.00", "", "Polias de teste, inteiras", "True"),
    ("0000.00.00", "", "Sem NCM", "True"),
]


def write_csv(path: Path, rows: list[tuple[str, str, str, str]], header: str = HEADER) -> Path:
    lines = [
        f'"ncm_{code.replace(".", "")}","{code}","{ex}","{name}","","","","{active}"\n'
        for code, ex, name, active in rows
    ]
    path.write_text(header + "".join(lines), encoding="utf-8")
    return path


def test_levels_are_taken_back_apart(tmp_path: Path) -> None:
    table = read_ncm_csv(write_csv(tmp_path / "ncm.csv", ROWS))
    assert table["9990"] == GEAR
    assert table["999010"] == "Engrenagens retas"
    assert table["99901010"] == "De aço" and table["99901090"] == "Outras"
    assert table["999020"] == "Engrenagens cônicas" and table["99902000"] == ""
    assert table["99909"] == "Partes"  # one-dash group, trailing ':' cleaned
    assert table["999091"] == "Dentes"
    # "De potência baixa" is shared by two items but not by the subheading's third
    assert table["9990911"] == "De potência baixa"
    assert table["99909111"] == "Forjados" and table["99909190"] == "Outros"
    assert table["999099"] == "Outras"
    # no dash at all: the heading is what its rows share, the rest is theirs
    assert table["9991"] == "Coroas de teste."
    assert table["99910010"] == "De latão" and "999100" not in table
    assert table["9992"] == "Polias de teste, inteiras" and table["99920000"] == ""
    assert "99909950" not in table and "00000000" not in table and "0000" not in table


def test_shared_words_stop_where_the_items_start(tmp_path: Path) -> None:
    """Two items that both start "De potência" do not lend it to their subheading."""
    rows = [
        ("9993.10.11", "", "Motores de teste. - Monofásicos De potência baixa Síncronos", "True"),
        ("9993.10.19", "", "Motores de teste. - Monofásicos De potência baixa Outros", "True"),
        ("9993.10.21", "", "Motores de teste. - Monofásicos De potência alta Síncronos", "True"),
        ("9993.10.29", "", "Motores de teste. - Monofásicos De potência alta Outros", "True"),
    ]
    table = read_ncm_csv(write_csv(tmp_path / "ncm.csv", rows))
    assert table["999310"] == "Monofásicos"
    assert table["9993101"] == "De potência baixa" and table["9993102"] == "De potência alta"


def test_attach_ncm_takes_the_csv_table(tmp_path: Path) -> None:
    table = read_ncm_table(write_csv(tmp_path / "ncm.csv", ROWS))
    nom = Nomenclature(headings={"9990": Node("9990", text_en="Test gears")})
    attach_ncm(nom, table)
    items = {node.code: node for node in nom.items["999091"]}
    assert set(items) == {"99909111", "99909119", "99909190"}
    steps = [GEAR, "Partes", "Dentes", "De potência baixa", "Forjados"]
    assert items["99909111"].text_pt == ". ".join(steps)
    assert items["99909111"].description == "Partes – Dentes – De potência baixa – Forjados"
    assert nom.subheadings["999020"].label_pt == "Engrenagens cônicas"
    assert nom.headings["9990"].text_en == "Test gears"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('"id","codigo","name"\n"a","9990.10.10","x"\n', "linha 1: faltam as colunas code"),
        (HEADER + '"a","9990.10.1","","x","","","","True"\n', "linha 2: código inválido"),
        (
            HEADER
            + '"a","9990.10.10","","x","","","","True"\n'
            + '"b","9990.10.20","","y","",""\n',
            "linha 3: 6 campos, o cabeçalho tem 8",
        ),
        (
            HEADER
            + '"a","9990.10.10","","várias\nlinhas","","","","True"\n'
            + '"b","9990.10.10","","y","","","","True"\n',
            "linha 4: código 9990.10.10 repetido",
        ),
        (HEADER + '"a","9990.10.10","","x"y","","","","True"\n', "linha 2: "),
        (HEADER, "nenhum código de 8 dígitos"),
        ("", "arquivo vazio"),
    ],
)
def test_malformed_csv_names_the_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "ncm.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(NcmTableError, match=message) as caught:
        read_ncm_csv(path)
    assert isinstance(caught.value, ServerFault)
    assert str(path) in caught.value.message


def test_not_utf8_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "ncm.csv"
    row = '"a","9990.10.10","","Caça","","","","True"\n'
    path.write_bytes(HEADER.encode() + row.encode("latin-1"))
    with pytest.raises(NcmTableError, match="UTF-8"):
        read_ncm_csv(path)
    with pytest.raises(NcmTableError, match="Não foi possível ler"):
        read_ncm_csv(tmp_path / "ausente.csv")


def test_read_ncm_table_dispatches_by_suffix(tmp_path: Path, ncm_json: Path) -> None:
    csv_table = read_ncm_table(write_csv(tmp_path / "NCM.CSV", ROWS))
    assert csv_table["99901010"] == "De aço"
    json_table = read_ncm_table(ncm_json)
    assert json_table["84713012"] == "Com tela de área superior a 140 cm2"
    with pytest.raises(BadRequest, match="JSON"):
        read_ncm_table(write_csv(tmp_path / "ncm.json", ROWS))  # a CSV named .json
    with pytest.raises(NcmTableError, match="formato desconhecido"):
        read_ncm_table(tmp_path / "ncm.xlsx")
