// The moderation console's "who may take part" form: GET/PUT /api/broadcasts/{id}/comment-access.
import { sendJSON, useToken } from "../common/api.js";

const form = document.getElementById("comment-access");
const console_ = document.getElementById("console");

function show(state) {
  for (const radio of form.querySelectorAll("input[name=comments]")) {
    radio.checked = radio.value === state.comments;
  }
  form.elements.questions_need_account.checked = state.questions_need_account;
  form.elements.votes_need_account.checked = state.votes_need_account;
}

if (form && console_) {
  const url = `/api/broadcasts/${form.dataset.broadcastId}/comment-access`;
  const status = document.getElementById("comment-access-status");
  fetch(url, { credentials: "same-origin" })
    .then((response) => (response.ok ? response.json() : null))
    .then((state) => state && show(state))
    .catch(() => {});
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    status.textContent = "";
    try {
      useToken(console_.dataset.csrf);
      const { ok, status: code, body } = await sendJSON("PUT", url, {
        comments: String(data.get("comments") || "anyone"),
        questions_need_account: data.get("questions_need_account") === "on",
        votes_need_account: data.get("votes_need_account") === "on",
      });
      if (!ok) throw new Error(String(code));
      show(body);
      status.textContent = form.dataset.done;
    } catch {
      status.textContent = form.dataset.failed;
    }
  });
}
