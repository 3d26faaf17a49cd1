"""The wording experiments' report, without I/O: per rule, each variant's conversion with its
Wilson interval, and a verdict on whether the variants differ.

Conversion is the reports' (``report.Counts``): sales made among the answered
recommendations; unanswered ones are counted apart. The verdict compares the variants with
answers at the 5% level: Pearson's chi-square test of equal proportions (for two variants the
pooled two-proportion z-test), or, for two variants with an expected cell under 5 (Cochran),
Fisher's exact test. Three or more variants with so few answers get no p-value yet. Until
``p < 0.05`` the verdict says "ainda não significativo" with the numbers.

A rule appears while its current set gives it variants (every arm, also those not drawn yet)
and whenever the date range holds interactions that drew one of its variants; an arm no longer
in the rule set is shown with ``ativa`` false and the last text it was shown with.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, tzinfo
from typing import Any

from balto.core.errors import BadRequest
from balto.counter.admin.report import (
    COUNT_COLUMNS,
    FORMATS,
    Counts,
    csv_cell,
    date_range,
    single_values,
    utc_day_bounds,
)
from balto.counter.admin.stats import fisher_exact, homogeneity_test, min_expected
from balto.counter.detect import RuleSet

PARAMETERS = ("de", "ate", "formato")
ALPHA = 0.05
MIN_EXPECTED = 5.0  # Cochran's rule for the chi-square approximation
CHI_SQUARE = "qui_quadrado"
FISHER = "fisher"
METHOD_NAMES = {CHI_SQUARE: "qui-quadrado", FISHER: "exato de Fisher"}
CSV_COLUMNS = (
    "regra",
    "variante",
    "ativa",
    "mensagem",
    *COUNT_COLUMNS,
    "metodo",
    "p_valor",
    "significativo",
    "veredito",
)


@dataclasses.dataclass(frozen=True, slots=True)
class ExperimentsQuery:
    first_day: date
    last_day: date  # inclusive
    format: str = "json"

    def utc_bounds(self, zone: tzinfo) -> tuple[str, str]:
        return utc_day_bounds(self.first_day, self.last_day, zone)


def parse_query(query: Mapping[str, Sequence[str]], today: date) -> ExperimentsQuery:
    """``de``, ``ate`` and ``formato``, read as the reports read them."""
    one = single_values(query, PARAMETERS)
    output = one.get("formato", "json")
    if output not in FORMATS:
        raise BadRequest("Parâmetro 'formato' inválido: use json ou csv")
    first_day, last_day = date_range(one, today)
    return ExperimentsQuery(first_day, last_day, output)


@dataclasses.dataclass(slots=True)
class _Arm:
    id: str
    mensagem: str
    ativa: bool
    counts: Counts = dataclasses.field(default_factory=Counts)


@dataclasses.dataclass(slots=True)
class _Experiment:
    regra: str
    categoria: str | None = None
    produto: str | None = None
    ativa: bool = False
    arms: dict[str, _Arm] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True, slots=True)
class Experiments:
    query: ExperimentsQuery
    zone_name: str
    experiments: list[dict[str, Any]]

    def wire(self) -> dict[str, Any]:
        return {
            "de": self.query.first_day.isoformat(),
            "ate": self.query.last_day.isoformat(),
            "fuso_horario": self.zone_name,
            "alfa": ALPHA,
            "experimentos": self.experiments,
        }

    def csv_text(self) -> str:
        """One line per variant; the rule's test and verdict repeated on each of its lines."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        for experiment in self.experiments:
            test = experiment["teste"]
            for arm in experiment["variantes"]:
                line = {"regra": experiment["regra"], **arm, "veredito": experiment["veredito"]}
                line |= {name: test[name] for name in ("metodo", "p_valor", "significativo")}
                writer.writerow([csv_cell(_csv_value(line[name])) for name in CSV_COLUMNS])
        return out.getvalue()

    def csv_filename(self) -> str:
        q = self.query
        return f"experimentos-{q.first_day.isoformat()}-{q.last_day.isoformat()}.csv"


def build_experiments(
    rows: Iterable[Sequence[Any]], rules: RuleSet, query: ExperimentsQuery, zone_name: str
) -> Experiments:
    """Count ``rows`` (``store.ExperimentRow``: regra, variante, mensagem, resultado; oldest
    first) per rule and variant, next to the current ``rules``' experiments."""
    experiments: dict[str, _Experiment] = {}
    for rule in rules.rules:
        if rule.variantes:
            experiment = _Experiment(rule.id, rule.categoria, rule.produto, ativa=True)
            experiment.arms = {arm.id: _Arm(arm.id, arm.mensagem, True) for arm in rule.arms}
            experiments[rule.id] = experiment
    for regra, variante, mensagem, resultado in rows:
        experiment = experiments.get(regra) or experiments.setdefault(regra, _past(regra, rules))
        arm = experiment.arms.get(variante)
        if arm is None:
            arm = experiment.arms[variante] = _Arm(variante, mensagem, False)
        elif not arm.ativa:
            arm.mensagem = mensagem  # the latest text it was shown with
        arm.counts.add(resultado)
    return Experiments(query, zone_name, [_wire(e) for e in experiments.values()])


def _past(regra: str, rules: RuleSet) -> _Experiment:
    """A rule whose experiment ended (or that is gone) but drew variants in the range."""
    try:
        rule = rules.rule(regra)
    except KeyError:
        return _Experiment(regra)
    return _Experiment(regra, rule.categoria, rule.produto)


def _wire(experiment: _Experiment) -> dict[str, Any]:
    arms = list(experiment.arms.values())
    test = compare(arms)
    return {
        "regra": experiment.regra,
        "categoria": experiment.categoria,
        "produto": experiment.produto,
        "ativa": experiment.ativa,
        "variantes": [
            {"variante": a.id, "mensagem": a.mensagem, "ativa": a.ativa} | a.counts.wire()
            for a in arms
        ],
        "teste": {key: value for key, value in test.items() if key != "veredito"},
        "veredito": test["veredito"],
    }


def compare(arms: Sequence[_Arm]) -> dict[str, Any]:
    """The test of the variants with answers, and the verdict in words (Portuguese)."""
    answered = [a for a in arms if a.counts.vendas_realizadas + a.counts.vendas_perdidas]
    result: dict[str, Any] = {"metodo": None, "p_valor": None, "significativo": False}
    result["melhor"] = None
    if len(answered) < 2:
        have = ", ".join(f"'{a.id}'" for a in answered) or "nenhuma"
        result["veredito"] = (
            "Ainda não significativo: faltam respostas de pelo menos duas variantes "
            f"(com respostas: {have})."
        )
        return result
    made = [a.counts.vendas_realizadas for a in answered]
    trials = [a.counts.vendas_realizadas + a.counts.vendas_perdidas for a in answered]
    numbers = "; ".join(_describe(a) for a in answered)
    smallest = min_expected(made, trials)
    if smallest >= MIN_EXPECTED:
        method, p = CHI_SQUARE, homogeneity_test(made, trials)[2]
    elif len(answered) == 2:
        method = FISHER
        p = fisher_exact(made[0], trials[0] - made[0], made[1], trials[1] - made[1])
    else:
        result["veredito"] = (
            f"Ainda não significativo: poucas respostas para comparar {len(answered)} "
            f"variantes (menor contagem esperada {_decimal(smallest, 1)}, o teste pede 5). "
            f"{numbers}."
        )
        return result
    significant = p < ALPHA
    result |= {"metodo": method, "p_valor": round(p, 4), "significativo": significant}
    how = f"p = {_p_text(p)}, teste {METHOD_NAMES[method]}"
    if significant:
        best = max(answered, key=lambda a: a.counts.vendas_realizadas / _answered(a))
        result["melhor"] = best.id
        result["veredito"] = (
            f"Diferença significativa ({how}): '{best.id}' converte mais. {numbers}."
        )
    else:
        result["veredito"] = f"Ainda não significativo ({how}, precisa de p < 0,05). {numbers}."
    return result


def _answered(arm: _Arm) -> int:
    return arm.counts.vendas_realizadas + arm.counts.vendas_perdidas


def _describe(arm: _Arm) -> str:
    wire = arm.counts.wire()
    low, high = wire["ic95_inferior"], wire["ic95_superior"]
    return (
        f"'{arm.id}' {_percent(wire['conversao'])} "
        f"(IC95% {_percent(low)}–{_percent(high)}, {arm.counts.vendas_realizadas} de "
        f"{_answered(arm)})"
    )


def _percent(value: float) -> str:
    return _decimal(100 * value, 1) + "%"


def _decimal(value: float, places: int) -> str:
    return f"{value:.{places}f}".replace(".", ",")


def _p_text(p: float) -> str:
    return "< 0,001" if p < 0.001 else _decimal(p, 3)


def _csv_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "sim" if value else "nao"
    return value
