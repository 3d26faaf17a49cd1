// The counter's socket: opens /ws, authenticates with the key and the audio's rate, reads
// the server's messages, and after a fall tries again with backoff and authenticates again by
// itself. Every phase change goes through estado.js's table.
//
// ``ouvir(kind, data)`` receives: "fase" {fase, texto, esperaMs}, and each server message
// by its ``comando`` ("auth_ok", "recomendar", "feedback_ok", "erro").

import { PHASES, esperaMs, motivoDoFechamento, proxima } from "./estado.js";

export class Conexao {
  constructor(url, rate, ouvir) {
    this.url = url;
    this.rate = rate;
    this.ouvir = ouvir;
    this.fase = PHASES.SEM_CHAVE;
    this.chave = null;
    this.ws = null;
    this.tentativa = 0;
    this.timer = null;
  }

  get conectado() {
    return this.fase === PHASES.CONECTADO;
  }

  mover(event, texto = "", wait = 0) {
    this.fase = proxima(this.fase, event);
    this.ouvir("fase", { fase: this.fase, texto, esperaMs: wait });
  }

  usar(chave) {
    this.chave = chave;
    this.largar();
    this.mover("chave");
    this.abrir();
  }

  trocar() {
    this.largar();
    this.mover("trocar");
  }

  abrir() {
    const ws = new WebSocket(this.url);
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    ws.onopen = () => {
      ws.send(JSON.stringify({ comando: "auth", api_key: this.chave, sample_rate: this.rate }));
      this.mover("aberto");
    };
    ws.onmessage = (event) => this.mensagem(event.data);
    ws.onclose = (event) => {
      if (this.ws !== ws) return; // one we let go of on purpose
      this.ws = null;
      this.caiu(event.code, event.reason);
    };
  }

  mensagem(data) {
    if (typeof data !== "string") return; // the server sends no binary
    let message;
    try {
      message = JSON.parse(data);
    } catch (error) {
      this.ouvir("erro", { mensagem: `Resposta ilegível do servidor: ${error.message}` });
      return;
    }
    if (message.comando === "auth_ok") {
      this.tentativa = 0;
      this.mover("auth_ok", message.balcao || "");
    }
    this.ouvir(message.comando, message);
  }

  caiu(code, reason) {
    const verdict = motivoDoFechamento(code, reason);
    if (verdict.evento === "recusada") {
      this.mover("recusada", verdict.texto);
      return;
    }
    const wait = esperaMs(this.tentativa++, Math.random());
    this.mover("caiu", verdict.texto, wait);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.mover("tentar");
      this.abrir();
    }, wait);
  }

  // Close the socket and stop any timer without a phase change (the caller moves).
  largar() {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const ws = this.ws;
    this.ws = null;
    if (ws !== null) ws.close(1000, "trocando a chave");
  }

  // Connected and the socket still open (the server may be closing it: onclose is to come).
  get aberto() {
    return this.conectado && this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  enviar(message) {
    if (!this.aberto) return false;
    this.ws.send(JSON.stringify(message));
    return true;
  }

  enviarAudio(buffer) {
    // Only while connected, and never queue behind a slow network: late audio is worse than none.
    if (this.aberto && this.ws.bufferedAmount < 1 << 20) this.ws.send(buffer);
  }
}
