"""The conversion report, without I/O: the query string, the grouping, the counts, CSV.

Days and hours are local to the configured time zone (a pharmacy's "Monday at 9"), so the
date range ``de``..``ate`` (inclusive, local days) becomes one UTC interval for the query and
each interaction is put in its group by its local time.

Conversion is ``vendas_realizadas / (vendas_realizadas + vendas_perdidas)``: among the
recommendations the counter answered. Unanswered ones (``sem_resposta``) are counted apart and
not taken as lost sales: a clerk who skipped the button says nothing about the suggestion.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, NamedTuple

from balto.core.errors import BadRequest
from balto.counter.admin.stats import wilson_interval

GROUPINGS = ("regra", "produto", "balcao", "dia", "hora")
FORMATS = ("json", "csv")
PARAMETERS = ("agrupar", "de", "ate", "formato")
MAX_RANGE_DAYS = 366
#: Dates a report may name: far enough on both sides for any real chain, and far from the ends
#: of Python's calendar (year 1 and 9999), where a day's bounds in a zone would overflow.
FIRST_YEAR, LAST_YEAR = 2000, 2199
DEFAULT_RANGE_DAYS = 30
DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
#: The key columns of each grouping, before the counts.
KEY_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "regra": ("regra",),
    "produto": ("produto",),
    "balcao": ("balcao_id", "nome_balcao"),
    "dia": ("dia",),
    "hora": ("hora",),
}
COUNT_COLUMNS = (
    "recomendacoes",
    "vendas_realizadas",
    "vendas_perdidas",
    "sem_resposta",
    "conversao",
    "ic95_inferior",
    "ic95_superior",
)
#: A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclasses.dataclass(frozen=True, slots=True)
class ReportQuery:
    grouping: str
    first_day: date
    last_day: date  # inclusive
    format: str = "json"

    def utc_bounds(self, zone: tzinfo) -> tuple[str, str]:
        return utc_day_bounds(self.first_day, self.last_day, zone)


class Fact(NamedTuple):
    """One interaction, as the store hands it over (``store.ReportRow``)."""

    balcao_id: int
    nome_balcao: str
    regra: str
    produto: str | None
    criado_em: str
    resultado: str | None


@dataclasses.dataclass(slots=True)
class Counts:
    recomendacoes: int = 0
    vendas_realizadas: int = 0
    vendas_perdidas: int = 0

    def add(self, resultado: str | None) -> None:
        self.recomendacoes += 1
        if resultado == "venda_realizada":
            self.vendas_realizadas += 1
        elif resultado == "venda_perdida":
            self.vendas_perdidas += 1

    def wire(self) -> dict[str, Any]:
        answered = self.vendas_realizadas + self.vendas_perdidas
        interval = wilson_interval(self.vendas_realizadas, answered)
        return {
            "recomendacoes": self.recomendacoes,
            "vendas_realizadas": self.vendas_realizadas,
            "vendas_perdidas": self.vendas_perdidas,
            "sem_resposta": self.recomendacoes - answered,
            "conversao": round(self.vendas_realizadas / answered, 4) if answered else None,
            "ic95_inferior": round(interval[0], 4) if interval else None,
            "ic95_superior": round(interval[1], 4) if interval else None,
        }


@dataclasses.dataclass(frozen=True, slots=True)
class Report:
    query: ReportQuery
    zone_name: str
    rows: list[dict[str, Any]]
    total: dict[str, Any]

    def wire(self) -> dict[str, Any]:
        return {
            "agrupar": self.query.grouping,
            "de": self.query.first_day.isoformat(),
            "ate": self.query.last_day.isoformat(),
            "fuso_horario": self.zone_name,
            "linhas": self.rows,
            "total": self.total,
        }

    def csv_text(self) -> str:
        columns = KEY_COLUMNS[self.query.grouping] + COUNT_COLUMNS
        out = io.StringIO()
        writer = csv.writer(out)  # RFC 4180: comma, CRLF, quotes where needed
        writer.writerow(columns)
        for row in self.rows:
            writer.writerow([csv_cell(row[name]) for name in columns])
        return out.getvalue()

    def csv_filename(self) -> str:
        q = self.query
        return f"relatorio-{q.grouping}-{q.first_day.isoformat()}-{q.last_day.isoformat()}.csv"


def parse_query(query: Mapping[str, Sequence[str]], today: date) -> ReportQuery:
    """The report's query string; every mistake is a 400 that names the parameter.
    Without ``de``/``ate``: the 30 days up to ``today`` (the zone's local date)."""
    one = single_values(query, PARAMETERS)
    grouping = one.get("agrupar")
    if grouping is None:
        raise BadRequest("Parâmetro 'agrupar' obrigatório: regra, produto, balcao, dia ou hora")
    if grouping not in GROUPINGS:
        raise BadRequest("Parâmetro 'agrupar' inválido: use regra, produto, balcao, dia ou hora")
    output = one.get("formato", "json")
    if output not in FORMATS:
        raise BadRequest("Parâmetro 'formato' inválido: use json ou csv")
    first_day, last_day = date_range(one, today)
    return ReportQuery(grouping, first_day, last_day, output)


def single_values(query: Mapping[str, Sequence[str]], allowed: Sequence[str]) -> dict[str, str]:
    """The query string as one value per parameter; unknown or repeated ones are a 400."""
    unknown = sorted(set(query) - set(allowed))
    if unknown:
        raise BadRequest(f"Parâmetro(s) desconhecido(s): {', '.join(unknown)}")
    for name, values in query.items():
        if len(values) != 1:
            raise BadRequest(f"Parâmetro '{name}' repetido")
    return {name: values[0] for name, values in query.items()}


def date_range(one: Mapping[str, str], today: date) -> tuple[date, date]:
    """``de``..``ate`` (inclusive); without them the 30 days up to ``today``."""
    last_day = _date(one, "ate") or today
    first_day = _date(one, "de") or last_day - timedelta(days=DEFAULT_RANGE_DAYS - 1)
    if first_day > last_day:
        raise BadRequest("Parâmetro 'de' posterior a 'ate': o intervalo está invertido")
    if (last_day - first_day).days + 1 > MAX_RANGE_DAYS:
        raise BadRequest(f"Intervalo maior que {MAX_RANGE_DAYS} dias: divida a consulta")
    return first_day, last_day


def build_report(
    rows: Iterable[Sequence[Any]], query: ReportQuery, zone: tzinfo, zone_name: str
) -> Report:
    """Count ``rows`` (``Fact`` fields, in order) per group of ``query.grouping``."""
    groups: dict[tuple[Any, ...], Counts] = {}
    if query.grouping == "dia":  # every day of the range, also those without recommendations
        day = query.first_day
        while day <= query.last_day:
            groups[(day.isoformat(),)] = Counts()
            day += timedelta(days=1)
    elif query.grouping == "hora":
        groups = {(hour,): Counts() for hour in range(24)}
    total = Counts()
    for raw in rows:
        fact = Fact(*raw)
        key = _key(fact, query.grouping, zone)
        groups.setdefault(key, Counts()).add(fact.resultado)
        total.add(fact.resultado)
    keys = KEY_COLUMNS[query.grouping]
    out = [dict(zip(keys, key, strict=True)) | counts.wire() for key, counts in groups.items()]
    if query.grouping in ("dia", "hora"):
        out.sort(key=lambda row: row[keys[0]])
    else:  # the most recommended first
        out.sort(key=lambda row: (-row["recomendacoes"], str(row[keys[0]])))
    return Report(query, zone_name, out, total.wire())


def _key(fact: Fact, grouping: str, zone: tzinfo) -> tuple[Any, ...]:
    match grouping:
        case "regra":
            return (fact.regra,)
        case "produto":
            return (fact.produto or "",)
        case "balcao":
            return (fact.balcao_id, fact.nome_balcao)
    local = datetime.fromisoformat(fact.criado_em).astimezone(zone)
    return (local.date().isoformat(),) if grouping == "dia" else (local.hour,)


def _date(one: Mapping[str, str], name: str) -> date | None:
    text = one.get(name)
    if text is None:
        return None
    try:
        if not DATE_RE.fullmatch(text):
            raise ValueError(text)
        day = date.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"Parâmetro '{name}' deve ser uma data válida AAAA-MM-DD") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        years = f"anos de {FIRST_YEAR} a {LAST_YEAR}"
        raise BadRequest(f"Parâmetro '{name}' fora do intervalo: {years}")
    return day


def utc_day_bounds(first_day: date, last_day: date, zone: tzinfo) -> tuple[str, str]:
    """[start, end) of the local days ``first_day``..``last_day`` (inclusive) in ``zone``, in
    UTC and shaped as the stored times (ISO 8601, milliseconds)."""
    start = datetime.combine(first_day, time(), zone)
    end = datetime.combine(last_day + timedelta(days=1), time(), zone)
    return _iso_utc(start), _iso_utc(end)


def _iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def csv_cell(value: Any) -> Any:
    """A value as a CSV cell: None empty, a text a spreadsheet would run as a formula quoted."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value
