// Staff login form: posts JSON to /api/login, then goes where the staff member was going
// (the server answers with `next`, always a path on this site). Field errors in words.
const form = document.getElementById("login-form");
const error = document.getElementById("login-error");

function show(message) {
  error.textContent = message;
  error.hidden = false;
}

function fieldError(name, message) {
  const input = form.elements.namedItem(name);
  const box = document.getElementById(`login-${name}-error`);
  box.textContent = message || "";
  box.hidden = !message;
  input.setAttribute("aria-invalid", message ? "true" : "false");
  return Boolean(message);
}

function sameSite(path) {
  return typeof path === "string" && path.startsWith("/") && !path.startsWith("//")
    && !path.includes("\\") ? path : "/";
}

if (form) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    const data = new FormData(form);
    const username = String(data.get("username") || "").trim();
    const password = String(data.get("password") || "");
    const missing = [
      fieldError("username", username ? "" : form.dataset.missingUsername),
      fieldError("password", password ? "" : form.dataset.missingPassword),
    ];
    if (missing[0] || missing[1]) {
      form.elements.namedItem(missing[0] ? "username" : "password").focus();
      return;
    }
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const response = await fetch("/api/login", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        credentials: "same-origin",
        body: JSON.stringify({ username, password, next: form.dataset.next || "/" }),
      });
      if (response.ok) {
        const body = await response.json();
        window.location.assign(sameSite(body.next));
        return;
      }
      if (response.status === 429 || response.status === 503) show(form.dataset.busy);
      else if (response.status === 401 || response.status === 400) show(form.dataset.failed);
      else show(form.dataset.error);
    } catch {
      show(form.dataset.error);
    } finally {
      button.disabled = false;
    }
  });
}
