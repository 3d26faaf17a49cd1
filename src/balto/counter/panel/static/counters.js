// "Balcões": the chain's counters, online now or not, and revoking one or replacing its key
// (each after a confirmation dialog). A revoked counter's key stops working and its open
// connection is closed at once; a replaced key too, and the new one is shown once (chave.js).

import { ApiError, call } from "./api.js";
import { NewKeyDialog } from "./chave.js";
import { byId, el, formatDateTime, showError } from "./dom.js";

export class Counters {
  constructor(onList) {
    this.onList = onList; // called with the fresh list (today's "online" count)
    // The counter each confirmation dialog is about, set when it opens. A dialog's "close"
    // event is a queued task: after a quick "Cancelar" it may arrive when the dialog is
    // already open again for the next click (the browser runs input before other tasks).
    // Such a stale event is ignored (the dialog is open), or it would take the new opening's
    // counter and the confirmation would do nothing.
    this.pending = { confirmar: null, "confirmar-troca": null };
    byId("balcoes-atualizar").addEventListener("click", () => this.refresh());
    this.onConfirmed("confirmar", "revogar", (counter) => this.revoke(counter));
    this.newKey = new NewKeyDialog();
    this.onConfirmed("confirmar-troca", "trocar", (counter) => this.rotate(counter));
  }

  onConfirmed(id, value, action) {
    const dialog = byId(id);
    dialog.addEventListener("close", () => {
      if (dialog.open) return; // stale: see the constructor
      const counter = this.pending[id];
      this.pending[id] = null;
      if (counter && dialog.returnValue === value) action(counter);
      else if (counter) this.focusRow(counter.id);
    });
  }

  ask(id, counter) {
    this.pending[id] = counter;
    const dialog = byId(id);
    dialog.returnValue = "";
    dialog.showModal();
  }

  async refresh() {
    try {
      const { body } = await call("GET", "/api/balcoes");
      this.render(body.balcoes);
      this.onList(body.balcoes);
      showError("balcoes-erro", null);
    } catch (error) {
      showError("balcoes-erro", error);
    }
  }

  render(list) {
    const rows = list.map((counter) => {
      const state = counter.revogado_em ? "revogado" : counter.online ? "online" : "offline";
      const label = { revogado: "Revogado", online: "Online", offline: "Offline" }[state];
      const action = counter.revogado_em
        ? el("span", { class: "nota" }, `desde ${formatDateTime(counter.revogado_em)}`)
        : this.actions(counter);
      return el(
        "tr",
        { "data-balcao": counter.id, "data-estado": state },
        el("th", { scope: "row" }, counter.nome_balcao),
        el("td", {}, el("span", { class: `selo ${state}` }, label)),
        el("td", {}, formatDateTime(counter.visto_em)),
        el("td", {}, formatDateTime(counter.criado_em)),
        el("td", {}, action),
      );
    });
    if (rows.length === 0) {
      rows.push(el("tr", {}, el("td", { colspan: "5" }, "Nenhum balcão cadastrado ainda.")));
    }
    byId("balcoes-linhas").replaceChildren(...rows);
  }

  actions(counter) {
    const rotate = el("button", { type: "button", class: "secundario", "data-trocar": counter.id,
      "aria-label": `Trocar a chave de ${counter.nome_balcao}` }, "Trocar chave");
    rotate.addEventListener("click", () => this.confirmRotation(counter));
    const revoke = el("button", { type: "button", class: "perigo", "data-revogar": counter.id,
      "aria-label": `Revogar ${counter.nome_balcao}` }, "Revogar");
    revoke.addEventListener("click", () => this.confirm(counter));
    return el("span", { class: "acoes" }, rotate, revoke);
  }

  confirmRotation(counter) {
    byId("confirmar-troca-texto").textContent =
      `“${counter.nome_balcao}” recebe uma chave nova, mostrada uma vez só. A chave atual ` +
      "deixa de funcionar na hora e a conexão aberta com ela é encerrada; o balcão continua o " +
      "mesmo, com o seu histórico.";
    this.ask("confirmar-troca", counter);
  }

  async rotate(counter) {
    let answer = null;
    try {
      ({ body: answer } = await call("POST", `/api/balcoes/${counter.id}/trocar-chave`));
      const closed = answer.sessoes_encerradas;
      byId("balcoes-aviso").textContent =
        `Chave de ${counter.nome_balcao} trocada` + (closed ? ` (${closed} conexão encerrada).` : ".");
      showError("balcoes-erro", null);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      showError("balcoes-erro", error);
    }
    await this.refresh();
    if (answer) this.newKey.show(answer, () => this.focusRow(counter.id));
    else this.focusRow(counter.id);
  }

  confirm(counter) {
    byId("confirmar-texto").textContent =
      `“${counter.nome_balcao}” deixará de funcionar na hora: a chave dele é invalidada e a ` +
      "conexão aberta é encerrada. Para voltar a usar o balcão será preciso cadastrá-lo de novo.";
    this.ask("confirmar", counter);
  }

  async revoke(counter) {
    try {
      const { body } = await call("POST", `/api/balcoes/${counter.id}/revogar`);
      const closed = body.sessoes_encerradas;
      byId("balcoes-aviso").textContent =
        `${counter.nome_balcao} revogado` + (closed ? ` (${closed} conexão encerrada).` : ".");
      showError("balcoes-erro", null);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      showError("balcoes-erro", error);
    }
    await this.refresh();
    this.focusRow(counter.id);
  }

  focusRow(id) {
    const row = document.querySelector(`tr[data-balcao="${id}"] th`);
    if (row) {
      row.setAttribute("tabindex", "-1");
      row.focus();
    }
  }
}
