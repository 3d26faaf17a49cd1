// The counter page's pure parts, no DOM and no I/O: the connection phases and the one table
// that moves them, what a close code means to the person at the counter, the reconnection
// delay, the key from the address's fragment, and the level meter's scale.

export const PHASES = Object.freeze({
  SEM_CHAVE: "sem_chave", // no key stored: the form is shown
  CONECTANDO: "conectando", // the socket is opening
  AUTENTICANDO: "autenticando", // auth sent, waiting for auth_ok
  CONECTADO: "conectado", // auth_ok: audio flows, cards arrive
  ESPERANDO: "esperando", // the socket fell: a timer will try again
  CHAVE_RECUSADA: "chave_recusada", // the server refused the key (1008): no retry
});

const P = PHASES;

// (phase, event) -> next phase. An event the current phase lacks is a bug in the page: throw.
export const TRANSITIONS = Object.freeze({
  [P.SEM_CHAVE]: { chave: P.CONECTANDO },
  [P.CONECTANDO]: { aberto: P.AUTENTICANDO, caiu: P.ESPERANDO, recusada: P.CHAVE_RECUSADA,
    trocar: P.SEM_CHAVE },
  [P.AUTENTICANDO]: { auth_ok: P.CONECTADO, caiu: P.ESPERANDO, recusada: P.CHAVE_RECUSADA,
    trocar: P.SEM_CHAVE },
  [P.CONECTADO]: { caiu: P.ESPERANDO, recusada: P.CHAVE_RECUSADA, trocar: P.SEM_CHAVE },
  [P.ESPERANDO]: { tentar: P.CONECTANDO, chave: P.CONECTANDO, trocar: P.SEM_CHAVE },
  [P.CHAVE_RECUSADA]: { chave: P.CONECTANDO, trocar: P.SEM_CHAVE },
});

export class TransicaoProibida extends Error {}

export function proxima(phase, event) {
  const next = (TRANSITIONS[phase] || {})[event];
  if (next === undefined) {
    throw new TransicaoProibida(`${event} não é permitido na fase ${phase}`);
  }
  return next;
}

// Close codes the server uses (README, WebSocket section).
const POLICY_VIOLATION = 1008;
const TRY_AGAIN_LATER = 1013;
const GOING_AWAY = 1001;
const INTERNAL_ERROR = 1011;

// What a closed socket means: "recusada" (the key is wrong or revoked: ask for another one,
// do not retry) or "caiu" (try again later), with the sentence to show.
export function motivoDoFechamento(code, reason) {
  const why = reason ? ` (${reason})` : "";
  if (code === POLICY_VIOLATION && /api_key/.test(reason || "")) {
    return { evento: "recusada", texto: `Chave recusada pelo servidor${why}. Confira a chave.` };
  }
  if (code === TRY_AGAIN_LATER) {
    return { evento: "caiu", texto: `Servidor lotado ou indisponível${why}.` };
  }
  if (code === GOING_AWAY) {
    return { evento: "caiu", texto: "O servidor está reiniciando." };
  }
  if (code === INTERNAL_ERROR) {
    return { evento: "caiu", texto: "Erro interno no servidor." };
  }
  if (code === POLICY_VIOLATION) {
    return { evento: "caiu", texto: `O servidor encerrou a conexão${why}.` };
  }
  return { evento: "caiu", texto: "Sem conexão com o servidor." };
}

export const BACKOFF_BASE_MS = 1000;
export const BACKOFF_MAX_MS = 30000;

// Exponential with jitter: attempt 0 waits about 1 s, then 2, 4, 8 … up to 30 s; ``random``
// in [0, 1) spreads counters that fell together (a restart) over ±20%.
export function esperaMs(attempt, random) {
  const plain = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(attempt, 15));
  return Math.round(plain * (0.8 + 0.4 * random));
}

// The waiting line, counted down each second until the next try: whole seconds, rounded up
// (at least 1: "0 s" would read as stuck while the socket opens).
export function textoEspera(texto, restanteMs) {
  const seconds = Math.max(1, Math.ceil(restanteMs / 1000));
  return `${texto} Tentando de novo em ${seconds} s…`;
}

// The key in "#chave=<api_key>", or null; the fragment never reaches the server.
export function chaveDoFragmento(hash) {
  if (!hash || hash.length < 2) return null;
  const value = new URLSearchParams(hash.slice(1)).get("chave");
  const key = value === null ? "" : value.trim();
  return key ? key : null;
}

// A frame's RMS as the meter's 0..1: -60 dBFS or less is 0, full scale is 1.
export function nivel(rms) {
  if (!(rms > 0)) return 0;
  const db = 20 * Math.log10(rms);
  return Math.max(0, Math.min(1, (db + 60) / 60));
}

// The rate to declare in auth: the server accepts 8000..48000 and resamples to 16 kHz itself.
export const MIN_RATE_HZ = 8000;
export const MAX_RATE_HZ = 48000;

export function taxaAceita(rate) {
  return Number.isInteger(rate) && rate >= MIN_RATE_HZ && rate <= MAX_RATE_HZ;
}
