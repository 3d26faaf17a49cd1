// The counter page's assembly: the key (browser storage, the form, "#chave=" once), the
// socket (conexao.js), the microphone (microfone.js) and the cards (cartoes.js).

import { Cartoes } from "./cartoes.js";
import { Conexao } from "./conexao.js";
import { PHASES, chaveDoFragmento, nivel, textoEspera } from "./estado.js";
import { Microfone, MicrofoneErro, novoContexto } from "./microfone.js";

const STORAGE_KEY = "balto.balcao.chave";
const $ = (id) => document.getElementById(id);

const PHASE_TEXT = {
  [PHASES.SEM_CHAVE]: "Sem chave: cole a chave do balcão",
  [PHASES.CONECTANDO]: "Conectando…",
  [PHASES.AUTENTICANDO]: "Conectando…",
  [PHASES.CONECTADO]: "Conectado",
  [PHASES.ESPERANDO]: "Sem conexão",
  [PHASES.CHAVE_RECUSADA]: "Chave recusada",
};

function storedKey() {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null; // storage disabled: the key lives only in this page
  }
}

function storeKey(key) {
  try {
    localStorage.setItem(STORAGE_KEY, key);
  } catch {
    // storage disabled: the page keeps working until it is closed
  }
}

// "#chave=..." once: stored, then removed from the address bar (and from the history entry).
function keyFromAddress() {
  const key = chaveDoFragmento(location.hash);
  if (location.hash) history.replaceState(null, "", location.pathname + location.search);
  if (key !== null) storeKey(key);
  return key;
}

function showForm(message) {
  $("entrar").hidden = false;
  $("trocar").hidden = true;
  $("chave-erro").textContent = message;
  $("chave").value = "";
  $("chave").focus();
}

// The countdown of the waiting phase; any phase change stops it.
let countdown = null;

function countDown(line, texto, esperaMs) {
  const until = performance.now() + esperaMs;
  const tick = () => {
    line.textContent = textoEspera(texto, until - performance.now());
  };
  tick();
  countdown = setInterval(tick, 1000);
}

function showPhase({ fase, texto, esperaMs }) {
  const line = $("conexao");
  line.dataset.fase = fase;
  clearInterval(countdown);
  countdown = null;
  let text = PHASE_TEXT[fase];
  if (fase === PHASES.CONECTADO && texto) {
    text = `Conectado — ${texto}`;
    $("nome-balcao").textContent = texto;
  }
  if (fase === PHASES.ESPERANDO) countDown(line, texto, esperaMs);
  else line.textContent = text;
  if (fase === PHASES.SEM_CHAVE) $("nome-balcao").textContent = "Balcão";
  if (fase === PHASES.CHAVE_RECUSADA) showForm(texto);
  if (fase === PHASES.CONECTADO) {
    $("entrar").hidden = true;
    $("trocar").hidden = false;
    $("aviso").textContent = "";
  }
}

function start() {
  const context = novoContexto();
  const wsUrl = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
  let cards = null;
  const connection = new Conexao(wsUrl, context.sampleRate, (kind, data) => {
    if (kind === "fase") {
      if (data.fase === PHASES.ESPERANDO || data.fase === PHASES.CHAVE_RECUSADA) {
        cards.semConexao();
      }
      showPhase(data);
    } else if (kind === "recomendar") {
      $("vazio").hidden = true;
      cards.mostrar(data);
    } else if (kind === "feedback_ok") {
      cards.feedbackOk(data);
    } else if (kind === "erro") {
      if (!cards.erro(data)) $("aviso").textContent = `Erro do servidor: ${data.mensagem}`;
    }
  });
  cards = new Cartoes($("cartoes"), (message) => connection.enviar(message));

  const meter = $("nivel");
  const mic = new Microfone(context, (pcm, rms) => {
    meter.value = nivel(rms);
    connection.enviarAudio(pcm);
  });
  const micState = () => {
    const on = mic.ligado;
    $("microfone-estado").textContent = on ? "Microfone ligado" : "Microfone desligado";
    $("ligar").hidden = on;
    if (!on) meter.value = 0;
  };
  const turnOn = async () => {
    try {
      await mic.ligar();
      $("microfone-erro").textContent = "";
    } catch (error) {
      if (!(error instanceof MicrofoneErro)) throw error;
      $("microfone-erro").textContent = error.texto;
    }
    micState();
  };
  mic.onEnded = micState;
  context.addEventListener("statechange", micState);
  $("ligar").addEventListener("click", turnOn);
  // A touch or key anywhere resumes a context the browser started suspended.
  for (const kind of ["pointerdown", "keydown"]) {
    document.addEventListener(kind, () => mic.retomar(), { passive: true });
  }

  $("form-chave").addEventListener("submit", (event) => {
    event.preventDefault();
    const key = $("chave").value.trim();
    if (!key) {
      $("chave-erro").textContent = "Cole a chave do balcão.";
      return;
    }
    storeKey(key);
    $("entrar").hidden = true;
    connection.usar(key);
  });
  $("trocar").addEventListener("click", () => {
    if (connection.fase !== PHASES.SEM_CHAVE) connection.trocar();
    showForm("");
  });
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement) return;
    const result = { v: "venda_realizada", n: "venda_perdida" }[event.key.toLowerCase()];
    const card = result && cards.pendente();
    if (card) card.querySelector(`button[data-resultado="${result}"]`).click();
  });

  const key = keyFromAddress() || storedKey();
  if (key) connection.usar(key);
  else showForm("");
  turnOn();
}

start();
