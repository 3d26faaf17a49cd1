// "Trocar chave": a counter's new api_key, shown this once in a dialog, with copy buttons and
// the /balcao#chave= enrolment link for the browser counter. Closing the dialog forgets both
// (the server keeps only the key's hash: nobody can show it again).

import { byId } from "./dom.js";

const FIELDS = ["nova-chave-valor", "nova-chave-link"];

export class NewKeyDialog {
  constructor() {
    this.dialog = byId("nova-chave");
    this.onClose = null;
    for (const button of this.dialog.querySelectorAll("button[data-copiar]")) {
      button.addEventListener("click", () => this.copy(button.dataset.copiar));
    }
    this.dialog.addEventListener("close", () => {
      // a close queued before the dialog was shown again (for the next key) is stale
      if (this.dialog.open) return;
      for (const id of FIELDS) byId(id).value = "";
      byId("nova-chave-copiado").textContent = "";
      byId("nova-chave-aviso").textContent = "";
      const onClose = this.onClose;
      this.onClose = null;
      if (onClose) onClose();
    });
  }

  // ``answer``: the body of POST /api/balcoes/{id}/trocar-chave.
  show(answer, onClose) {
    this.onClose = onClose;
    byId("nova-chave-texto").textContent =
      `Nova chave de “${answer.nome_balcao}”. Ela aparece só agora: copie-a e configure o ` +
      "balcão (ou mande o link). A chave antiga já não funciona.";
    byId("nova-chave-aviso").textContent = answer.aviso || "";
    byId("nova-chave-valor").value = answer.api_key;
    byId("nova-chave-link").value = `${window.location.origin}${answer.link}`;
    this.dialog.returnValue = "";
    this.dialog.showModal();
  }

  async copy(id) {
    const field = byId(id);
    field.focus();
    field.select();
    let copied = false;
    try {
      await navigator.clipboard.writeText(field.value);
      copied = true;
    } catch (error) {
      // No clipboard permission (or no secure context): the selection, the old way.
      copied = document.execCommand("copy");
    }
    const what = id === "nova-chave-link" ? "Link" : "Chave";
    byId("nova-chave-copiado").textContent = copied
      ? `${what} copiado${what === "Chave" ? "a" : ""}.`
      : "Não foi possível copiar: o texto está selecionado, use Ctrl+C.";
  }
}
