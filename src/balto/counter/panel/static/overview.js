// "Hoje" (today's numbers) and "Conversão" (charts per day, rule and counter over a range),
// both from GET /api/relatorios. The server's REPORT_TIMEZONE decides what "today" is: the
// report without dates covers the last 30 days up to the server's today (its "ate").

import { call } from "./api.js";
import { dataTable, renderColumns, renderRows } from "./charts.js";
import { byId, el, formatInt, formatPercent, shortDay, showError } from "./dom.js";

const GROUPS = [
  { agrupar: "dia", title: "Conversão por dia", name: "Dia", label: (r) => shortDay(r.dia), draw: renderColumns },
  { agrupar: "regra", title: "Conversão por regra", name: "Regra", label: (r) => r.regra, draw: renderRows },
  { agrupar: "balcao", title: "Conversão por balcão", name: "Balcão", label: (r) => r.nome_balcao, draw: renderRows },
];


export class Overview {
  constructor() {
    this.range = null; // {de, ate} chosen by the manager; null: the server's default
    this.counters = { online: 0, active: 0 };
    byId("form-periodo").addEventListener("submit", (event) => {
      event.preventDefault();
      const de = byId("de").value;
      const ate = byId("ate").value;
      if (!de || !ate || de > ate) {
        showError("conversao-erro", new Error("Escolha as duas datas, com \"De\" antes de \"Até\"."));
        return;
      }
      this.range = { de, ate };
      this.refreshCharts();
    });
  }

  setCounters(list) {
    const active = list.filter((c) => !c.revogado_em);
    this.counters = { online: active.filter((c) => c.online).length, active: active.length };
    this.renderToday();
  }

  async refresh() {
    await Promise.all([this.refreshToday(), this.refreshCharts()]);
  }

  async refreshToday() {
    try {
      const { body } = await call("GET", "/api/relatorios?agrupar=dia");
      this.today = body.linhas.find((row) => row.dia === body.ate) || null;
      if (!this.range) {
        byId("de").value = body.de;
        byId("ate").value = body.ate;
      }
      showError("hoje-erro", null);
    } catch (error) {
      showError("hoje-erro", error);
    }
    this.renderToday();
  }

  renderToday() {
    const row = this.today || { recomendacoes: 0, vendas_realizadas: 0, vendas_perdidas: 0, conversao: null };
    const interval =
      row.ic95_inferior === null || row.ic95_inferior === undefined
        ? "sem respostas ainda"
        : `IC 95%: ${formatPercent(row.ic95_inferior)}–${formatPercent(row.ic95_superior)}`;
    const items = [
      ["Recomendações", formatInt(row.recomendacoes), null, "hoje-recomendacoes"],
      ["Vendas realizadas", formatInt(row.vendas_realizadas), null, "hoje-vendas"],
      ["Vendas perdidas", formatInt(row.vendas_perdidas), null, "hoje-perdidas"],
      ["Conversão", formatPercent(row.conversao), interval, "hoje-conversao"],
      ["Balcões online", `${this.counters.online} de ${this.counters.active}`, null, "hoje-online"],
    ];
    byId("hoje-numeros").replaceChildren(
      ...items.map(([term, value, note, id]) =>
        el("div", {}, el("dt", {}, term), el("dd", { id }, value, note ? el("small", {}, note) : null)),
      ),
    );
  }

  async refreshCharts() {
    const range = this.range ? `&de=${this.range.de}&ate=${this.range.ate}` : "";
    try {
      const reports = await Promise.all(
        GROUPS.map((group) => call("GET", `/api/relatorios?agrupar=${group.agrupar}${range}`)),
      );
      byId("graficos").replaceChildren(...GROUPS.map((group, i) => figure(group, reports[i].body)));
      showError("conversao-erro", null);
    } catch (error) {
      showError("conversao-erro", error);
    }
  }
}

function figure(group, report) {
  const id = `grafico-${group.agrupar}`;
  const csv = `/api/relatorios?agrupar=${group.agrupar}&de=${report.de}&ate=${report.ate}&formato=csv`;
  const heading = el("h3", { id: `${id}-titulo` }, `${group.title} (${shortDay(report.de)} a ${shortDay(report.ate)})`);
  const download = el("a", { href: csv, download: "" }, "Baixar CSV");
  if (report.linhas.length === 0) {
    return el("section", { class: "grafico", id, "aria-labelledby": heading.id }, heading,
      el("p", { class: "nota" }, "Nenhuma recomendação no período."));
  }
  return el(
    "section",
    { class: "grafico", id, "aria-labelledby": heading.id },
    heading,
    group.draw(report.linhas, group.label, group.title),
    dataTable(report.linhas, group.label, group.name),
    el("p", {}, download),
  );
}
