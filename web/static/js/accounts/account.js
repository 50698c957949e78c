// "My account": rename, unlink a provider, delete the account, sign out (JSON + CSRF).
import { sendJSON, useToken } from "../common/api.js";
import { pageStrings } from "../common/i18n.js";

const root = document.getElementById("account");
const strings = pageStrings("account-strings");
useToken(root.dataset.csrf);

const call = sendJSON;

const renameForm = document.getElementById("rename-form");
if (renameForm) {
  renameForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = document.getElementById("rename-error");
    error.textContent = "";
    const name = String(new FormData(renameForm).get("display_name") || "");
    try {
      const response = await call("POST", "/api/account/name", { display_name: name });
      if (response.ok) {
        document.getElementById("account-name").textContent = response.body.display_name;
      } else {
        error.textContent = response.status === 400 ? strings.badName : strings.failed;
      }
    } catch {
      error.textContent = strings.failed;
    }
  });
}

for (const button of root.querySelectorAll("[data-unlink]")) {
  button.addEventListener("click", async () => {
    const response = await call("POST", "/api/account/unlink", { provider: button.dataset.unlink });
    if (response.ok) window.location.reload();
  });
}

const deleteForm = document.getElementById("delete-form");
if (deleteForm) {
  deleteForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!window.confirm(strings.confirmDelete)) return;
    const comments = String(new FormData(deleteForm).get("comments") || "keep");
    try {
      const response = await call("DELETE", "/api/account", { comments });
      if (response.ok) {
        window.location.assign("/");
        return;
      }
    } catch {
      // shown below
    }
    document.getElementById("delete-error").textContent = strings.failed;
  });
}

const signout = document.getElementById("signout");
if (signout) {
  signout.addEventListener("click", async () => {
    await call("POST", "/api/logout");
    window.location.assign("/");
  });
}
