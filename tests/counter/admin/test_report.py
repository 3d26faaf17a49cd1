"""The report without I/O: query string, local days and hours, counts, interval, CSV."""

import csv
import io
from datetime import date
from zoneinfo import ZoneInfo

import pytest

from balto.core.errors import BadRequest
from balto.counter.admin.report import ReportQuery, build_report, parse_query

SP = ZoneInfo("America/Sao_Paulo")  # UTC-3, no daylight saving since 2019
TODAY = date(2024, 5, 31)


def q(**params):
    return {name: [value] for name, value in params.items()}


def fact(
    regra="dor_cabeca",
    produto="Neosaldina",
    hora_utc="2024-05-10T15:00:00.000+00:00",
    resultado=None,
    balcao=(1, "Loja 01"),
):
    return (*balcao, regra, produto, hora_utc, resultado)


def test_query_parsed():
    got = parse_query(q(agrupar="regra", de="2024-05-01", ate="2024-05-31", formato="csv"), TODAY)
    assert got == ReportQuery("regra", date(2024, 5, 1), date(2024, 5, 31), "csv")


def test_without_dates_the_last_30_days():
    got = parse_query(q(agrupar="dia"), TODAY)
    assert (got.first_day, got.last_day, got.format) == (date(2024, 5, 2), TODAY, "json")
    got = parse_query(q(agrupar="dia", ate="2024-02-29"), TODAY)
    assert got.first_day == date(2024, 1, 31)


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({}, "'agrupar' obrigatório"),
        ({"agrupar": "semana"}, "'agrupar' inválido"),
        ({"agrupar": "regra", "formato": "xlsx"}, "'formato' inválido"),
        ({"agrupar": "regra", "de": "2024-13-01"}, "'de' deve ser uma data válida AAAA-MM-DD"),
        ({"agrupar": "regra", "de": "2024-02-30"}, "'de' deve ser"),
        ({"agrupar": "regra", "ate": "2024-5-1"}, "'ate' deve ser"),
        ({"agrupar": "regra", "ate": "ontem"}, "'ate' deve ser"),
        ({"agrupar": "regra", "de": "２０２４-０５-０１"}, "'de' deve ser"),
        ({"agrupar": "regra", "de": "20240501"}, "'de' deve ser"),
        ({"agrupar": "regra", "de": ""}, "'de' deve ser"),
        ({"agrupar": "regra", "de": "2024-05-02", "ate": "2024-05-01"}, "invertido"),
        ({"agrupar": "regra", "de": "2023-01-01", "ate": "2024-05-01"}, "366 dias"),
        ({"agrupar": "regra", "loja": "1"}, "desconhecido(s): loja"),
        # The ends of the calendar: a day's bounds there overflowed into a 500.
        ({"agrupar": "dia", "de": "9999-12-01", "ate": "9999-12-31"}, "'ate' fora do"),
        ({"agrupar": "dia", "de": "9999-12-01"}, "'de' fora do intervalo"),
        ({"agrupar": "dia", "ate": "0001-01-05"}, "'ate' fora do intervalo"),
        ({"agrupar": "dia", "de": "1999-12-31"}, "anos de 2000 a 2199"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(params, fragment):
    with pytest.raises(BadRequest) as info:
        parse_query(q(**params), TODAY)
    assert fragment in info.value.message


def test_repeated_parameter():
    with pytest.raises(BadRequest, match="'agrupar' repetido"):
        parse_query({"agrupar": ["regra", "dia"]}, TODAY)


def test_a_year_and_a_leap_day_fit():
    got = parse_query(q(agrupar="dia", de="2024-01-01", ate="2024-12-31"), TODAY)
    assert (got.last_day - got.first_day).days == 365


def test_local_days_become_one_utc_interval():
    query = ReportQuery("dia", date(2024, 5, 1), date(2024, 5, 2))
    assert query.utc_bounds(SP) == (
        "2024-05-01T03:00:00.000+00:00",
        "2024-05-03T03:00:00.000+00:00",
    )


def test_counts_conversion_and_interval_per_rule():
    query = ReportQuery("regra", date(2024, 5, 1), date(2024, 5, 31))
    rows = (
        [fact("dor_cabeca", resultado="venda_realizada")] * 3
        + [fact("dor_cabeca", resultado="venda_perdida")]
        + [fact("dor_cabeca")] * 2
        + [fact("azia", "Estomazil")]
    )
    report = build_report(rows, query, SP, "America/Sao_Paulo")
    head, azia = report.rows
    assert head == {
        "regra": "dor_cabeca",
        "recomendacoes": 6,
        "vendas_realizadas": 3,
        "vendas_perdidas": 1,
        "sem_resposta": 2,
        "conversao": 0.75,  # among the answered: 3 of 4
        "ic95_inferior": 0.3006,
        "ic95_superior": 0.9544,
    }
    assert azia["regra"] == "azia" and azia["conversao"] is None  # nothing answered
    assert azia["ic95_inferior"] is None and azia["sem_resposta"] == 1
    assert report.total["recomendacoes"] == 7 and report.total["vendas_realizadas"] == 3
    wire = report.wire()
    assert (wire["agrupar"], wire["de"], wire["ate"]) == ("regra", "2024-05-01", "2024-05-31")
    assert wire["fuso_horario"] == "America/Sao_Paulo" and wire["linhas"] == report.rows


def test_days_and_hours_are_local_and_complete():
    late_evening = fact(hora_utc="2024-05-02T02:30:00.000+00:00", resultado="venda_realizada")
    by_day = build_report(
        [late_evening], ReportQuery("dia", date(2024, 5, 1), date(2024, 5, 3)), SP, "SP"
    )
    assert [(r["dia"], r["recomendacoes"]) for r in by_day.rows] == [
        ("2024-05-01", 1),  # 23:30 in São Paulo, already the 2nd in UTC
        ("2024-05-02", 0),
        ("2024-05-03", 0),
    ]
    by_hour = build_report(
        [late_evening], ReportQuery("hora", date(2024, 5, 1), date(2024, 5, 3)), SP, "SP"
    )
    assert [r["hora"] for r in by_hour.rows] == list(range(24))
    assert by_hour.rows[23]["recomendacoes"] == 1 and by_hour.rows[2]["recomendacoes"] == 0


def test_by_counter_and_by_product():
    query = ReportQuery("balcao", date(2024, 5, 1), date(2024, 5, 31))
    rows = [fact(balcao=(2, "Loja 02"))] * 2 + [fact(balcao=(1, "Loja 01"), produto=None)]
    report = build_report(rows, query, SP, "SP")
    assert [(r["balcao_id"], r["nome_balcao"], r["recomendacoes"]) for r in report.rows] == [
        (2, "Loja 02", 2),
        (1, "Loja 01", 1),
    ]
    by_product = build_report(
        rows, ReportQuery("produto", query.first_day, query.last_day), SP, "SP"
    )
    assert [(r["produto"], r["recomendacoes"]) for r in by_product.rows] == [
        ("Neosaldina", 2),
        ("", 1),
    ]


def test_csv_has_the_same_rows_and_no_formulas():
    query = ReportQuery("balcao", date(2024, 5, 1), date(2024, 5, 31), "csv")
    rows = [
        fact(balcao=(1, '=HYPERLINK("x")'), resultado="venda_perdida"),
        fact(balcao=(2, "Loja, 2")),
    ]
    report = build_report(rows, query, SP, "SP")
    text = report.csv_text()
    assert text.startswith(
        "balcao_id,nome_balcao,recomendacoes,vendas_realizadas,vendas_perdidas,sem_resposta,"
        "conversao,ic95_inferior,ic95_superior\r\n"
    )
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert len(parsed) == 2
    by_id = {row["balcao_id"]: row for row in parsed}
    assert by_id["1"]["nome_balcao"] == '\'=HYPERLINK("x")'  # shown as text, never run
    assert by_id["1"]["conversao"] == "0.0" and by_id["2"]["conversao"] == ""
    assert by_id["2"]["nome_balcao"] == "Loja, 2"
    assert report.csv_filename() == "relatorio-balcao-2024-05-01-2024-05-31.csv"
