// The management API from the browser: the session cookie travels by itself (same origin);
// the CSRF token lives only in memory and goes with every state-changing call.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
  }
}

const STATE_CHANGING = new Set(["POST", "PUT", "DELETE", "PATCH"]);
const LOGGED_IN_MARK = "balto.sessao"; // only "a session may exist": no secret is stored

let csrfToken = null;
const sessionLostListeners = [];

export function onSessionLost(listener) {
  sessionLostListeners.push(listener);
}

export function mayHaveSession() {
  return window.sessionStorage.getItem(LOGGED_IN_MARK) === "1";
}

// One call; resolves to {status, body, etag}; a non-2xx answer throws ApiError with the
// server's Portuguese message. A 401 means the session ended: the panel goes back to login.
export async function call(method, path, { json, text, headers = {} } = {}) {
  const sent = { ...headers };
  let body;
  if (text !== undefined) {
    body = text;
    sent["Content-Type"] = "application/json";
  } else if (json !== undefined) {
    body = JSON.stringify(json);
    sent["Content-Type"] = "application/json";
  }
  if (STATE_CHANGING.has(method) && csrfToken) sent["X-CSRF-Token"] = csrfToken;
  let response;
  try {
    response = await fetch(path, { method, headers: sent, body, credentials: "same-origin" });
  } catch (error) {
    throw new ApiError(0, "Sem conexão com o servidor. Tente de novo.");
  }
  const type = response.headers.get("Content-Type") || "";
  const payload = type.startsWith("application/json") ? await response.json() : null;
  if (!response.ok) {
    const message = (payload && payload.error) || `Erro ${response.status}`;
    if (response.status === 401 && path !== "/api/sessao") forgetSession(message);
    throw new ApiError(response.status, message);
  }
  return { status: response.status, body: payload, etag: response.headers.get("ETag") };
}

export async function login(email, chaveAdmin) {
  const { body } = await call("POST", "/api/sessao", {
    json: { email, chave_admin: chaveAdmin },
  });
  csrfToken = body.csrf;
  window.sessionStorage.setItem(LOGGED_IN_MARK, "1");
  return body;
}

// A reloaded page: the cookie may still hold a session; ask for its CSRF token again.
export async function resume() {
  try {
    const { body } = await call("GET", "/api/sessao");
    csrfToken = body.csrf;
    return true;
  } catch (error) {
    window.sessionStorage.removeItem(LOGGED_IN_MARK);
    return false;
  }
}

export async function logout() {
  try {
    await call("DELETE", "/api/sessao");
  } finally {
    csrfToken = null;
    window.sessionStorage.removeItem(LOGGED_IN_MARK);
  }
}

function forgetSession(message) {
  csrfToken = null;
  window.sessionStorage.removeItem(LOGGED_IN_MARK);
  for (const listener of sessionLostListeners) listener(message);
}
