// The microphone: one AudioContext at the device's own rate (the server resamples to 16 kHz,
// so the page carries no resampler), getUserMedia, and the capture worklet (captura.js).
// ``onFrame(pcmBuffer, rms)`` receives each 16-bit PCM frame (Int16Array's byte order, little
// endian on every platform a browser runs on).

import { MAX_RATE_HZ, taxaAceita } from "./estado.js";

const FRAME_S = 0.05; // 50 ms per WebSocket message: small enough to add little delay

export class MicrofoneErro extends Error {
  constructor(texto) {
    super(texto);
    this.texto = texto;
  }
}

export function novoContexto() {
  let context = new AudioContext({ latencyHint: "interactive" });
  if (!taxaAceita(context.sampleRate)) {
    context.close();
    context = new AudioContext({ latencyHint: "interactive", sampleRate: MAX_RATE_HZ });
  }
  return context;
}

// Why the microphone could not start, in words for the counter.
export function explicar(error) {
  const name = error && error.name;
  if (name === "NotAllowedError" || name === "SecurityError") {
    return "Microfone bloqueado. Permita o microfone para este site (no cadeado ao lado do " +
      "endereço) e toque em \u201cLigar o microfone\u201d.";
  }
  if (name === "NotFoundError" || name === "OverconstrainedError") {
    return "Nenhum microfone encontrado. Conecte um microfone e toque em \u201cLigar o microfone\u201d.";
  }
  if (name === "NotReadableError") {
    return "O microfone está em uso por outro programa ou falhou. Feche o outro programa e tente de novo.";
  }
  return `Não foi possível ligar o microfone: ${error && error.message ? error.message : error}`;
}

export class Microfone {
  constructor(context, onFrame) {
    this.context = context;
    this.onFrame = onFrame;
    this.stream = null;
    this.node = null;
  }

  get ligado() {
    return this.node !== null && this.context.state === "running";
  }

  // Ask for the microphone and connect it; throws MicrofoneErro with the sentence to show.
  async ligar() {
    if (!window.isSecureContext || !navigator.mediaDevices) {
      throw new MicrofoneErro("O navegador só libera o microfone em conexão segura: abra o " +
        "Balto por um endereço https (ou, neste computador, por localhost).");
    }
    if (!this.context.audioWorklet) {
      throw new MicrofoneErro("Este navegador não tem AudioWorklet: use um Chrome, Edge, " +
        "Firefox ou Safari atualizado.");
    }
    if (this.node === null) {
      try {
        this.stream = await navigator.mediaDevices.getUserMedia({
          audio: {
            channelCount: 1,
            echoCancellation: false, // nothing plays here: no echo to cancel
            noiseSuppression: false, // its artefacts cost the recogniser more than the noise
            autoGainControl: true, // the customer stands at different distances
          },
        });
      } catch (error) {
        throw new MicrofoneErro(explicar(error));
      }
      try {
        await this.context.audioWorklet.addModule("/balcao/captura.js");
      } catch {
        // The page's own module did not load (the server restarting, the network gone):
        // let the microphone go and let the person try again.
        for (const track of this.stream.getTracks()) track.stop();
        this.stream = null;
        throw new MicrofoneErro("Não foi possível carregar a captura de áudio do Balto " +
          "(sem conexão com o servidor?). Toque em \u201cLigar o microfone\u201d para tentar de novo.");
      }
      const frame = Math.round(this.context.sampleRate * FRAME_S);
      this.node = new AudioWorkletNode(this.context, "balto-captura", {
        numberOfInputs: 1,
        numberOfOutputs: 0,
        processorOptions: { frame },
      });
      this.node.port.onmessage = (event) => this.onFrame(event.data.pcm, event.data.rms);
      this.context.createMediaStreamSource(this.stream).connect(this.node);
      for (const track of this.stream.getAudioTracks()) {
        track.addEventListener("ended", () => this.desligado());
      }
    }
    await this.retomar();
  }

  // Browsers start an AudioContext suspended until the person touches the page.
  async retomar() {
    if (this.context.state === "suspended") {
      await Promise.race([this.context.resume(), new Promise((r) => setTimeout(r, 500))]);
    }
  }

  desligado() {
    if (this.node !== null) this.node.disconnect();
    this.node = null;
    this.stream = null;
    this.onEnded && this.onEnded();
  }
}
