// Small DOM and formatting helpers shared by the panel's parts.

export function byId(id) {
  const found = document.getElementById(id);
  if (!found) throw new Error(`elemento #${id} ausente`);
  return found;
}

// el("li", {class: "x"}, "texto", child) — attributes, then text or nodes.
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== null && value !== undefined && value !== false) node.setAttribute(name, value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(typeof child === "string" || typeof child === "number" ? String(child) : child);
  }
  return node;
}

const dateTime = new Intl.DateTimeFormat("pt-BR", { dateStyle: "short", timeStyle: "short" });
const timeOnly = new Intl.DateTimeFormat("pt-BR", { timeStyle: "medium" });
const integer = new Intl.NumberFormat("pt-BR");

export function formatDateTime(iso) {
  return iso ? dateTime.format(new Date(iso)) : "nunca";
}

export function formatTime(iso) {
  return timeOnly.format(new Date(iso));
}

export function formatInt(value) {
  return integer.format(value);
}

export function formatPercent(ratio) {
  if (ratio === null || ratio === undefined) return "—";
  return `${(ratio * 100).toLocaleString("pt-BR", { maximumFractionDigits: 1 })}%`;
}

// "2024-05-02" → "02/05"
export function shortDay(isoDay) {
  const [, month, day] = isoDay.split("-");
  return `${day}/${month}`;
}

export function showError(id, error) {
  byId(id).textContent = error ? error.message || String(error) : "";
}
