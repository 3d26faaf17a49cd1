// Conversion charts drawn by hand as inline SVG: one bar per group (conversion, 0–100%) with
// the 95% Wilson interval as a whisker. The layout functions are pure (rows in, geometry out);
// render* turns geometry into SVG nodes. No inline styles (the CSP forbids them): classes only.

import { el, formatInt, formatPercent } from "./dom.js";

const SVG = "http://www.w3.org/2000/svg";
const TICKS = [0, 0.25, 0.5, 0.75, 1];

// Horizontal bars, one row per group: long names (rules, counters) stay readable.
export function rowLayout(rows, { width = 720, rowHeight = 26, labelWidth = 190 } = {}) {
  const plot = width - labelWidth - 20;
  const top = 8;
  const bars = rows.map((row, index) => {
    const y = top + index * rowHeight;
    return {
      row,
      y,
      barHeight: rowHeight - 8,
      x0: labelWidth,
      length: row.conversao === null ? 0 : row.conversao * plot,
      lo: row.ic95_inferior === null ? null : labelWidth + row.ic95_inferior * plot,
      hi: row.ic95_superior === null ? null : labelWidth + row.ic95_superior * plot,
    };
  });
  const axisY = top + rows.length * rowHeight + 2;
  const ticks = TICKS.map((t) => ({ value: t, x: labelWidth + t * plot }));
  return { width, height: axisY + 20, bars, ticks, axisY, plot, labelWidth, top };
}

// Vertical columns, one per day, in order: a time series reads left to right.
export function columnLayout(rows, { width = 720, height = 220, left = 44, bottom = 36 } = {}) {
  const plot = height - bottom - 10;
  const step = (width - left - 10) / Math.max(rows.length, 1);
  const base = 10 + plot;
  const y = (ratio) => base - ratio * plot;
  const columns = rows.map((row, index) => ({
    row,
    x: left + index * step + step * 0.15,
    barWidth: Math.max(step * 0.7, 1),
    top: row.conversao === null ? base : y(row.conversao),
    lo: row.ic95_inferior === null ? null : y(row.ic95_inferior),
    hi: row.ic95_superior === null ? null : y(row.ic95_superior),
    labelled: rows.length <= 16 || index % Math.ceil(rows.length / 12) === 0,
  }));
  const ticks = TICKS.map((t) => ({ value: t, y: y(t) }));
  return { width, height, columns, ticks, base, left, step };
}

function svgNode(tag, attributes = {}, text = null) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  if (text !== null) node.textContent = text;
  return node;
}

export function describe(row, label) {
  const answered = row.vendas_realizadas + row.vendas_perdidas;
  const interval =
    row.ic95_inferior === null
      ? "sem respostas"
      : `IC 95% ${formatPercent(row.ic95_inferior)}–${formatPercent(row.ic95_superior)}`;
  return (
    `${label}: conversão ${formatPercent(row.conversao)} (${interval}); ` +
    `${formatInt(row.recomendacoes)} recomendações, ${formatInt(row.vendas_realizadas)} de ` +
    `${formatInt(answered)} respondidas viraram venda`
  );
}

function svgRoot(layout, title, summary) {
  const svg = svgNode("svg", {
    viewBox: `0 0 ${layout.width} ${layout.height}`,
    width: layout.width,
    height: layout.height,
    role: "img",
    "aria-label": `${title}. ${summary}`,
  });
  svg.append(svgNode("title", {}, title));
  return svg;
}

function whisker(svg, x1, y1, x2, y2, horizontal) {
  svg.append(svgNode("line", { class: "bigode", x1, y1, x2, y2 }));
  const cap = 4;
  for (const [x, y] of [[x1, y1], [x2, y2]]) {
    const ends = horizontal
      ? { x1: x, x2: x, y1: y - cap, y2: y + cap }
      : { x1: x - cap, x2: x + cap, y1: y, y2: y };
    svg.append(svgNode("line", { class: "bigode", ...ends }));
  }
}

export function renderRows(rows, labelOf, title) {
  const layout = rowLayout(rows);
  const svg = svgRoot(layout, title, `${rows.length} grupos`);
  for (const tick of layout.ticks) {
    svg.append(svgNode("line", { class: "grade", x1: tick.x, x2: tick.x, y1: layout.top, y2: layout.axisY }));
    svg.append(svgNode("text", { x: tick.x, y: layout.axisY + 14, "text-anchor": "middle" }, formatPercent(tick.value)));
  }
  for (const bar of layout.bars) {
    const label = labelOf(bar.row);
    const group = svgNode("g");
    group.append(svgNode("title", {}, describe(bar.row, label)));
    const mid = bar.y + bar.barHeight / 2;
    group.append(svgNode("text", { x: layout.labelWidth - 8, y: mid + 4, "text-anchor": "end" }, clip(label, 26)));
    group.append(svgNode("rect", { class: "barra-vazia", x: bar.x0, y: bar.y, width: layout.plot, height: bar.barHeight }));
    if (bar.row.conversao === null) {
      group.append(svgNode("text", { class: "rotulo-suave", x: bar.x0 + 6, y: mid + 4 }, "sem respostas"));
    } else {
      group.append(svgNode("rect", { class: "barra", x: bar.x0, y: bar.y, width: bar.length, height: bar.barHeight }));
      whisker(group, bar.lo, mid, bar.hi, mid, true);
    }
    svg.append(group);
  }
  return svg;
}

export function renderColumns(rows, labelOf, title) {
  const layout = columnLayout(rows);
  const svg = svgRoot(layout, title, `${rows.length} dias`);
  for (const tick of layout.ticks) {
    svg.append(svgNode("line", { class: "grade", x1: layout.left, x2: layout.width - 10, y1: tick.y, y2: tick.y }));
    svg.append(svgNode("text", { x: layout.left - 6, y: tick.y + 4, "text-anchor": "end" }, formatPercent(tick.value)));
  }
  for (const column of layout.columns) {
    const label = labelOf(column.row);
    const group = svgNode("g");
    group.append(svgNode("title", {}, describe(column.row, label)));
    const mid = column.x + column.barWidth / 2;
    if (column.row.conversao !== null) {
      group.append(svgNode("rect", { class: "barra", x: column.x, y: column.top, width: column.barWidth, height: layout.base - column.top }));
      whisker(group, mid, column.lo, mid, column.hi, false);
    }
    if (column.labelled) {
      group.append(svgNode("text", { x: mid, y: layout.base + 16, "text-anchor": "middle" }, label));
    }
    svg.append(group);
  }
  svg.append(svgNode("line", { class: "eixo", x1: layout.left, x2: layout.width - 10, y1: layout.base, y2: layout.base }));
  return svg;
}

// The same numbers as a table, behind a disclosure: for screen readers and for exactness.
export function dataTable(rows, labelOf, groupName) {
  const head = ["Recomendações", "Vendas", "Perdidas", "Sem resposta", "Conversão", "IC 95%"];
  const body = rows.map((row) =>
    el(
      "tr",
      {},
      el("th", { scope: "row" }, labelOf(row)),
      el("td", {}, formatInt(row.recomendacoes)),
      el("td", {}, formatInt(row.vendas_realizadas)),
      el("td", {}, formatInt(row.vendas_perdidas)),
      el("td", {}, formatInt(row.sem_resposta)),
      el("td", {}, formatPercent(row.conversao)),
      el("td", {}, row.ic95_inferior === null ? "—" : `${formatPercent(row.ic95_inferior)}–${formatPercent(row.ic95_superior)}`),
    ),
  );
  return el(
    "details",
    {},
    el("summary", {}, "Ver os números em tabela"),
    el(
      "table",
      { class: "tabela" },
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, groupName), ...head.map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, ...body),
    ),
  );
}

function clip(text, length) {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}
