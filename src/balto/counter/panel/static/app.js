// The panel's entry point: login and logout, and wiring the parts together.

import * as api from "./api.js";
import { Counters } from "./counters.js";
import { byId, showError } from "./dom.js";
import { Experiments } from "./experiments.js";
import { LiveFeed } from "./feed.js";
import { Overview } from "./overview.js";
import { RulesEditor } from "./rules.js";

const COUNTERS_EVERY_MS = 15000;
const AFTER_EVENT_MS = 800; // numbers refresh shortly after a burst of live events

const overview = new Overview();
const counters = new Counters((list) => overview.setCounters(list));
const rules = new RulesEditor();
const experiments = new Experiments();
let refreshTimer = null;
let countersTimer = null;
const feed = new LiveFeed(() => {
  window.clearTimeout(refreshTimer);
  refreshTimer = window.setTimeout(() => {
    overview.refresh();
    counters.refresh();
    experiments.refresh();
  }, AFTER_EVENT_MS);
});

function showLogin(message) {
  feed.close();
  window.clearInterval(countersTimer);
  byId("painel").hidden = true;
  byId("sair").hidden = true;
  byId("entrar").hidden = false;
  showError("entrar-erro", message ? new Error(message) : null);
  byId("email").focus();
}

async function showPanel() {
  byId("entrar").hidden = true;
  byId("painel").hidden = false;
  byId("sair").hidden = false;
  byId("conteudo").focus();
  feed.open();
  countersTimer = window.setInterval(() => counters.refresh(), COUNTERS_EVERY_MS);
  await Promise.all([overview.refresh(), counters.refresh(), rules.load(), experiments.refresh()]);
  document.body.dataset.pronto = "1"; // loaded (the browser test waits for it)
}

byId("form-entrar").addEventListener("submit", async (event) => {
  event.preventDefault();
  const email = byId("email").value.trim();
  const chave = byId("chave").value.trim();
  if (!email || !chave) {
    showError("entrar-erro", new Error("Preencha o e-mail e a chave de administração."));
    return;
  }
  const button = event.target.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    await api.login(email, chave);
    byId("chave").value = "";
    await showPanel();
  } catch (error) {
    showError("entrar-erro", error);
  } finally {
    button.disabled = false;
  }
});

byId("sair").addEventListener("click", async () => {
  feed.close();
  try {
    await api.logout();
  } catch (error) {
    // the session is over on our side either way
  }
  delete document.body.dataset.pronto;
  showLogin(null);
});

api.onSessionLost((message) => showLogin(message));

async function start() {
  if (api.mayHaveSession() && (await api.resume())) {
    await showPanel();
  } else {
    showLogin(null);
  }
}

start();
