// "Regras": the chain's rule set as JSON in a textarea (the CLI's file format), a dry run of
// a sentence against the edited text, and saving it with If-Match (the ETag read), so two
// managers never overwrite each other's edit unknowingly. Validation is the server's.

import { ApiError, call } from "./api.js";
import { byId, el, formatDateTime, showError } from "./dom.js";

const AUTHORS = { chave_admin: "pelo painel ou API", cli: "pela linha de comando", migracao: "migração" };

export class RulesEditor {
  constructor() {
    this.etag = null;
    byId("regras-salvar").addEventListener("click", () => this.save());
    byId("regras-recarregar").addEventListener("click", () => this.load());
    byId("form-testar").addEventListener("submit", (event) => {
      event.preventDefault();
      this.dryRun();
    });
    byId("regras-texto").addEventListener("input", () => {
      byId("regras-ok").textContent = "";
    });
  }

  async load() {
    try {
      const answer = await call("GET", "/api/regras");
      this.show(answer);
      this.invalid(null);
      byId("regras-ok").textContent = "";
    } catch (error) {
      this.invalid(error);
    }
  }

  show({ body, etag }) {
    this.etag = etag;
    byId("regras-texto").value = JSON.stringify(body.conjunto, null, 2);
    const count = body.conjunto.regras.length;
    const origin = body.padrao ? "conjunto padrão" : `revisão ${body.revisao}`;
    const when = body.revisao ? `, gravada em ${formatDateTime(body.criado_em)} ${AUTHORS[body.autor] || body.autor}` : "";
    byId("regras-versao").textContent = `Em uso: ${origin} (${count} regras)${when}.`;
  }

  // The edited text as JSON, or null after showing why it is not (before any request).
  parsed() {
    try {
      return JSON.parse(byId("regras-texto").value);
    } catch (error) {
      this.invalid(new Error(`O texto não é JSON válido: ${error.message}`));
      return null;
    }
  }

  async save() {
    const text = byId("regras-texto").value;
    if (this.parsed() === null) return;
    const button = byId("regras-salvar");
    button.disabled = true;
    try {
      const headers = this.etag ? { "If-Match": this.etag } : {};
      const answer = await call("PUT", "/api/regras", { text, headers });
      this.show(answer);
      this.invalid(null);
      byId("regras-ok").textContent = `Regras salvas: revisão ${answer.body.revisao}. Os balcões já as usam.`;
    } catch (error) {
      if (error instanceof ApiError && error.status === 412) {
        this.invalid(new Error("Outra pessoa mudou as regras depois que você as abriu. " +
          "Copie a sua edição, use \"Descartar e recarregar\" e aplique-a de novo."));
      } else {
        this.invalid(error);
      }
    } finally {
      button.disabled = false;
    }
  }

  async dryRun() {
    const texto = byId("frase").value.trim();
    const result = byId("teste-resultado");
    if (!texto) {
      result.replaceChildren(el("p", { class: "erro" }, "Escreva uma frase para testar."));
      return;
    }
    const regras = this.parsed();
    if (regras === null) return;
    try {
      const { body } = await call("POST", "/api/regras/testar", { json: { texto, regras } });
      this.invalid(null);
      if (body.recomendacoes.length === 0) {
        result.replaceChildren(el("p", {}, "Nenhuma regra dispararia com essa frase."));
        return;
      }
      result.replaceChildren(
        el("p", {}, "Dispararia:"),
        el("ul", {}, ...body.recomendacoes.map((r) =>
          el("li", {}, el("strong", {}, r.mensagem), ` — regra ${r.regra}, gatilho “${r.gatilho}”`,
            r.produto ? `, produto ${r.produto}` : ""))),
      );
    } catch (error) {
      result.replaceChildren();
      this.invalid(error);
    }
  }

  invalid(error) {
    showError("regras-erro", error);
    const area = byId("regras-texto");
    if (error) area.setAttribute("aria-invalid", "true");
    else area.removeAttribute("aria-invalid");
  }
}
