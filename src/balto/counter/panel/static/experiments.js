// "Experimentos": the wording experiments from GET /api/experimentos, one block per rule with
// variants: a conversion bar per variant with its 95% interval (the conversion charts' code),
// the verdict in words, the numbers as a table and the CSV. Same date range as "Conversão".

import { call } from "./api.js";
import { dataTable, renderRows } from "./charts.js";
import { byId, el, shortDay, showError } from "./dom.js";

export class Experiments {
  constructor() {
    byId("form-periodo").addEventListener("submit", () => {
      const de = byId("de").value;
      const ate = byId("ate").value;
      if (de && ate && de <= ate) this.refresh({ de, ate });
    });
  }

  async refresh(range = this.range) {
    this.range = range || null;
    const query = this.range ? `?de=${this.range.de}&ate=${this.range.ate}` : "";
    try {
      const { body } = await call("GET", `/api/experimentos${query}`);
      byId("experimentos-lista").replaceChildren(...render(body));
      showError("experimentos-erro", null);
    } catch (error) {
      showError("experimentos-erro", error);
    }
  }
}

const variantLabel = (row) => `${row.variante}: “${row.mensagem}”`;

function render(report) {
  if (report.experimentos.length === 0) {
    return [
      el("p", { class: "nota" }, "Nenhum experimento no período. Para comparar textos, dê a uma regra " +
        "uma lista \"variantes\" no editor de regras abaixo."),
    ];
  }
  const csv = `/api/experimentos?de=${report.de}&ate=${report.ate}&formato=csv`;
  return [
    el("p", { class: "nota" }, `Período: ${shortDay(report.de)} a ${shortDay(report.ate)}.`),
    ...report.experimentos.map(experimentBlock),
    el("p", {}, el("a", { href: csv, download: "" }, "Baixar CSV dos experimentos")),
  ];
}

function experimentBlock(experiment) {
  const id = `experimento-${experiment.regra}`;
  const status = experiment.ativa ? "" : " (encerrado)";
  const heading = el("h3", { id: `${id}-titulo` },
    `Regra ${experiment.regra}${experiment.categoria ? ` — ${experiment.categoria}` : ""}${status}`);
  const verdict = el(
    "p",
    { class: experiment.teste.significativo ? "veredito significativo" : "veredito", id: `${id}-veredito` },
    experiment.veredito,
  );
  return el(
    "section",
    { class: "grafico experimento", id, "aria-labelledby": heading.id, "aria-describedby": verdict.id },
    heading,
    renderRows(experiment.variantes, variantLabel, `Conversão por variante da regra ${experiment.regra}`),
    verdict,
    dataTable(experiment.variantes, variantLabel, "Variante"),
  );
}
