// The JSON API with the session's CSRF token: one place for "POST JSON with X-CSRF-Token".
//
// The token is the page's (a `data-csrf` the server rendered, given with `useToken`) or, if
// there is none, GET /api/session's. A 403 whose code is `csrf` (the token went stale: a new
// session, a sign-in) fetches it again and sends the request once more. Every page script
// imports this same module URL, so they share one token.

let token = "";

/** Use `value` as the CSRF token from now on (ignored when empty). */
export function useToken(value) {
  if (value) token = String(value);
}

/** The session's CSRF token: the one known, or a fresh one from GET /api/session. */
export async function csrfToken(fresh = false) {
  if (token && !fresh) return token;
  const response = await fetch("/api/session", {
    credentials: "same-origin", headers: { Accept: "application/json" },
  });
  const body = response.ok ? await response.json().catch(() => ({})) : {};
  token = body.csrf_token || "";
  return token;
}

/**
 * Send `payload` as JSON (none when undefined) with the CSRF header.
 * Resolves to {response, ok, status, body} (body: the parsed JSON, {} when there is none);
 * rejects only when the network fails.
 */
export async function sendJSON(method, url, payload, retried = false) {
  const response = await fetch(url, {
    method,
    credentials: "same-origin",
    headers: {
      "Content-Type": "application/json",
      Accept: "application/json",
      "X-CSRF-Token": await csrfToken(retried),
    },
    body: payload === undefined ? undefined : JSON.stringify(payload),
  });
  let body = {};
  try {
    body = (await response.json()) || {};
  } catch {
    body = {}; // an empty or non-JSON body
  }
  if (response.status === 403 && body.error && body.error.code === "csrf" && !retried) {
    return sendJSON(method, url, payload, true);
  }
  return { response, ok: response.ok, status: response.status, body };
}

/** POST JSON with the CSRF header (see `sendJSON`). */
export function postJSON(url, payload) {
  return sendJSON("POST", url, payload);
}

/** GET JSON; rejects when the answer is not 2xx. */
export async function getJSON(url) {
  const response = await fetch(url, {
    credentials: "same-origin", headers: { Accept: "application/json" },
  });
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return response.json();
}
