// "Ao vivo": the chain's recommendations and answers as they happen, from the Server-Sent
// Events of GET /api/ao-vivo (the session cookie goes with the EventSource). Newest first.

import { byId, el, formatTime } from "./dom.js";

const KEEP = 100; // items kept on screen
const RESULTS = { venda_realizada: "Venda realizada", venda_perdida: "Venda perdida" };

export class LiveFeed {
  constructor(onEvent) {
    this.source = null;
    this.onEvent = onEvent; // called after each recommendation or answer (refresh numbers)
  }

  open() {
    this.close();
    const source = new EventSource("/api/ao-vivo");
    this.source = source;
    this.status("Conectando…");
    source.addEventListener("open", () => this.status("Conectado: os eventos aparecem aqui assim que acontecem."));
    source.addEventListener("error", () => {
      if (this.source === source && source.readyState !== EventSource.CLOSED) {
        this.status("Conexão perdida; tentando de novo…");
      }
    });
    source.addEventListener("recomendacao", (event) => this.recommendation(JSON.parse(event.data)));
    source.addEventListener("feedback", (event) => this.answer(JSON.parse(event.data)));
    source.addEventListener("perdidos", (event) => {
      const { quantidade } = JSON.parse(event.data);
      this.add(el("li", { class: "perdidos" }, `${quantidade} evento(s) não mostrados (o painel ficou para trás); o relatório tem todos.`));
    });
    source.addEventListener("fim", () => {
      this.close();
      this.status("O servidor foi encerrado. Recarregue a página quando ele voltar.");
    });
  }

  close() {
    if (this.source) this.source.close();
    this.source = null;
  }

  status(text) {
    byId("ao-vivo-estado").textContent = text;
  }

  recommendation(data) {
    this.add(
      el(
        "li",
        { class: "recomendacao", "data-interacao": data.id_interacao },
        el("time", { datetime: data.em }, formatTime(data.em)),
        el("span", { class: "tipo" }, "Recomendação"),
        `${data.nome_balcao}: ${data.mensagem}`,
        data.produto ? ` (${data.produto}; regra ${data.regra})` : ` (regra ${data.regra})`,
      ),
    );
  }

  answer(data) {
    const result = RESULTS[data.resultado] || data.resultado;
    this.add(
      el(
        "li",
        { class: `feedback ${data.resultado}`, "data-interacao": data.id_interacao },
        el("time", { datetime: data.em }, formatTime(data.em)),
        el("span", { class: "tipo" }, result),
        data.nome_balcao,
      ),
    );
  }

  add(item) {
    const list = byId("ao-vivo-lista");
    list.prepend(item);
    while (list.children.length > KEEP) list.lastElementChild.remove();
    byId("ao-vivo-vazio").hidden = true;
    this.onEvent();
  }
}
