// The recommendation cards: one per ``recomendar``, newest on top. A sales suggestion has two
// large buttons, "Vendeu" / "Não vendeu", that send the feedback; a referral to the
// pharmacist (tipo "encaminhar", produto "") looks different and has no sale to report.
//
// The server answers the feedback commands in the order it receives them (feedback_ok with
// the id, or erro without one), so the ids waiting for an answer form a queue.
//
// A feedback resent after the connection fell may find the first one stored (its feedback_ok
// was lost with the socket): the server answers erro with codigo "feedback_ja_registrado"
// (README, WebSocket), and the card shows it as registered, not as a failure.

const MAX_CARDS = 4;
const RESULTS = { venda_realizada: "Vendeu", venda_perdida: "Não vendeu" };
export const JA_REGISTRADO = "feedback_ja_registrado";

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export class Cartoes {
  // ``enviar(message)`` sends a command; false when there is no connection.
  constructor(list, enviar) {
    this.list = list;
    this.enviar = enviar;
    this.waiting = []; // ids sent, answer not yet received, in order
  }

  mostrar(rec) {
    const referral = rec.tipo === "encaminhar" || !rec.produto;
    const card = el("article", `cartao-rec ${referral ? "encaminhar" : "sugerir"}`);
    card.dataset.id = rec.id_interacao;
    card.dataset.tipo = referral ? "encaminhar" : "sugerir";
    card.setAttribute("aria-label", referral ? "Encaminhar ao farmacêutico" : "Sugestão de venda");
    card.append(el("p", "rotulo", referral ? "⚕ Chame o farmacêutico" : "Sugestão"));
    card.append(el("p", "mensagem", rec.mensagem));
    if (!referral) {
      const product = el("p", "produto", "Produto: ");
      product.append(el("strong", "", rec.produto));
      card.append(product);
    }
    const buttons = el("div", "botoes");
    if (referral) {
      const ok = el("button", "entendido", "Entendido");
      ok.type = "button";
      ok.addEventListener("click", () => card.remove());
      buttons.append(ok);
    } else {
      for (const [result, label] of Object.entries(RESULTS)) {
        const button = el("button", result === "venda_realizada" ? "vendeu" : "nao-vendeu", label);
        button.type = "button";
        button.dataset.resultado = result;
        button.addEventListener("click", () => this.responder(card, result));
        buttons.append(button);
      }
    }
    card.append(buttons);
    card.append(el("p", "situacao"));
    this.list.prepend(card);
    while (this.list.children.length > MAX_CARDS) this.list.lastElementChild.remove();
  }

  situacao(card, text, kind) {
    const line = card.querySelector(".situacao");
    line.textContent = text;
    line.dataset.tipo = kind;
  }

  travar(card, locked) {
    for (const button of card.querySelectorAll("button[data-resultado]")) button.disabled = locked;
  }

  responder(card, result) {
    const id = card.dataset.id;
    if (!this.enviar({ comando: "feedback", id_interacao: id, resultado: result })) {
      this.situacao(card, "Sem conexão: toque de novo quando voltar a conectar.", "erro");
      return;
    }
    this.waiting.push(id);
    this.travar(card, true);
    card.dataset.enviado = result;
    // Every answer sent for this card, in case a lost one was stored (see ``jaRegistrado``).
    const sent = new Set((card.dataset.enviados || "").split(" ").filter(Boolean));
    card.dataset.enviados = [...sent.add(result)].join(" ");
    this.situacao(card, `Enviando “${RESULTS[result]}”…`, "enviando");
  }

  cartao(id) {
    return [...this.list.children].find((card) => card.dataset.id === id) || null;
  }

  // The newest card still waiting for "Vendeu" / "Não vendeu" (for the keyboard shortcuts).
  pendente() {
    return [...this.list.children].find(
      (card) => card.dataset.tipo === "sugerir" && !card.dataset.resultado && !card.dataset.enviado,
    ) || null;
  }

  feedbackOk(message) {
    this.waiting = this.waiting.filter((id) => id !== message.id_interacao);
    const card = this.cartao(message.id_interacao);
    if (card === null) return;
    this.registrado(card, message.resultado);
  }

  registrado(card, result) {
    card.dataset.resultado = result;
    delete card.dataset.enviado;
    card.classList.add("respondido");
    this.travar(card, true);
    const text = RESULTS[result] ? `Registrado: ${RESULTS[result]} ✓`
      : "Já registrado ✓ (vale a primeira resposta que chegou ao servidor)";
    this.situacao(card, text, "ok");
  }

  // The server already had an answer for the card. If the page only ever sent one result for
  // it, that is the one stored; after different ones it cannot tell which arrived first.
  jaRegistrado(card) {
    const sent = (card.dataset.enviados || "").split(" ").filter(Boolean);
    this.registrado(card, sent.length === 1 ? sent[0] : "registrado");
  }

  // An ``erro`` answers the oldest feedback still waiting, if any; true if it did.
  erro(message) {
    const id = this.waiting.shift();
    const card = id === undefined ? null : this.cartao(id);
    if (card === null) return false;
    if (message.codigo === JA_REGISTRADO) {
      this.jaRegistrado(card);
      return true;
    }
    delete card.dataset.enviado;
    this.travar(card, false);
    this.situacao(card, `Não registrado: ${message.mensagem}`, "erro");
    return true;
  }

  // The socket fell: the feedback in flight may not have arrived; let the person send again.
  semConexao() {
    for (const id of this.waiting.splice(0)) {
      const card = this.cartao(id);
      if (card === null) continue;
      delete card.dataset.enviado;
      this.travar(card, false);
      this.situacao(card, "A conexão caiu antes da confirmação: toque de novo.", "erro");
    }
  }
}
