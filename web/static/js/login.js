// Staff login form: posts JSON to /api/login, then reloads the page it protects.
const form = document.getElementById("login-form");
const error = document.getElementById("login-error");

function show(message) {
  error.textContent = message;
  error.hidden = false;
}

if (form) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    const data = new FormData(form);
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const response = await fetch("/api/login", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        credentials: "same-origin",
        body: JSON.stringify({
          username: String(data.get("username") || ""),
          password: String(data.get("password") || ""),
        }),
      });
      if (response.ok) {
        window.location.reload();
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
